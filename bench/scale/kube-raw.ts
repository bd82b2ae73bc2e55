// A lean admin client for the bench's own API calls (creating thousands of objects, listing them to count
// Ready, reading /metrics): one undici pool with the admin's client certificate, so the bench's load on
// the API server is small and does not depend on the client library under test.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { ControlPlane } from '../../test/env/control-plane.ts';

export interface KubeObject {
  readonly metadata: { readonly name: string; readonly generation?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
  };
}

export class RawKube {
  private readonly agent: Agent;
  private readonly server: string;

  constructor(plane: Pick<ControlPlane, 'server' | 'ca' | 'admin'>) {
    this.server = plane.server;
    this.agent = new Agent({
      connections: 32,
      connect: {
        ca: readFileSync(plane.ca.certFile),
        cert: readFileSync(plane.admin.certFile),
        key: readFileSync(plane.admin.keyFile),
      },
    });
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    okStatus: readonly number[] = [200, 201],
  ): Promise<string> {
    const res = await request(`${this.server}${path}`, {
      method: method as 'GET',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    if (!okStatus.includes(res.statusCode))
      throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
    return text;
  }

  /** POST of a new object; 409 (already there, e.g. a retried call) is accepted. */
  async create(collectionPath: string, object: unknown): Promise<void> {
    await this.call('POST', collectionPath, object, [201, 409]);
  }

  /** Every object of a collection, in pages. */
  async list(collectionPath: string, pageSize = 1000): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let token: string | undefined;
    do {
      const query = `?limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
      const page = JSON.parse(await this.call('GET', `${collectionPath}${query}`)) as {
        items: KubeObject[];
        metadata: { continue?: string };
      };
      items.push(...page.items);
      token = page.metadata.continue || undefined;
    } while (token);
    return items;
  }

  metrics(): Promise<string> {
    return this.call('GET', '/metrics');
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Ready=True for the object's current generation (kstatus). */
export const isReady = (object: KubeObject): boolean =>
  object.status?.observedGeneration === object.metadata.generation &&
  object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

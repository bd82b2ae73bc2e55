// The few API server calls holds need, as a narrow interface (so tests can interpose on a real client)
// and its implementation over @kubernetes/client-node's KubernetesObjectApi. API answers are mapped to
// EnforceError codes here: 404 → TargetNotFound, 409 → Conflict, anything else → ApiError.
import type { KubernetesObjectApi } from '@kubernetes/client-node';
import {
  ApiException,
  PatchStrategy,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { EnforceError } from './errors.ts';
import { toTargetObject, type JsonObject, type TargetObject } from './target-object.ts';
import type { TargetKind, TargetRef } from './types.ts';

export interface TargetApi {
  /** Undefined when the object does not exist. */
  read(target: TargetRef): Promise<TargetObject | undefined>;
  /** Server-side apply with force (the body carries metadata.resourceVersion as a precondition). */
  apply(body: JsonObject, fieldManager: string): Promise<TargetObject>;
  /** JSON merge patch (the body carries metadata.resourceVersion as a precondition). */
  mergePatch(body: JsonObject, fieldManager: string): Promise<TargetObject>;
  /** Every object of a kind in all namespaces, or one; empty when the kind is not served. */
  list(kind: TargetKind, namespace?: string): Promise<TargetObject[]>;
}

const LIST_PAGE_SIZE = 500;

const statusOf = (error: unknown): number | undefined =>
  error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;

/**
 * The kind is not served (its CRD is not installed: Flux or Argo CD absent). The client reports an API
 * group it cannot discover as a 404 and a kind missing from a served group as a plain Error.
 */
const notServed = (error: unknown): boolean =>
  statusOf(error) === 404 ||
  (!(error instanceof ApiException) &&
    error instanceof Error &&
    error.message.startsWith('Unrecognized API version and kind'));

const text = (value: unknown): string => (typeof value === 'string' ? value : '?');

const describe = (body: JsonObject): string => {
  const metadata = body['metadata'] as JsonObject | undefined;
  return `${text(body['kind'])} ${text(metadata?.['namespace'])}/${text(metadata?.['name'])}`;
};

const mapError = (error: unknown, what: string): EnforceError => {
  const status = statusOf(error);
  if (status === 404) return new EnforceError('TargetNotFound', `${what}: not found`, { cause: error });
  if (status === 409) return new EnforceError('Conflict', `${what}: changed concurrently`, { cause: error });
  const detail = status === undefined ? String(error) : `HTTP ${status}`;
  return new EnforceError('ApiError', `${what}: ${detail}`, { cause: error });
};

export class KubernetesTargetApi implements TargetApi {
  readonly #objects: KubernetesObjectApi;

  constructor(objects: KubernetesObjectApi) {
    this.#objects = objects;
  }

  async read(target: TargetRef): Promise<TargetObject | undefined> {
    try {
      const spec = { apiVersion: target.apiVersion, kind: target.kind, metadata: { ...nameOf(target) } };
      return toTargetObject(await this.#objects.read(spec));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw mapError(error, `reading ${target.kind} ${target.namespace}/${target.name}`);
    }
  }

  apply(body: JsonObject, fieldManager: string): Promise<TargetObject> {
    return this.#patch(body, fieldManager, PatchStrategy.ServerSideApply);
  }

  mergePatch(body: JsonObject, fieldManager: string): Promise<TargetObject> {
    return this.#patch(body, fieldManager, PatchStrategy.MergePatch);
  }

  async list(kind: TargetKind, namespace?: string): Promise<TargetObject[]> {
    const objects: TargetObject[] = [];
    let continueToken: string | undefined;
    do {
      let page: KubernetesListObject<KubernetesObject>;
      try {
        page = await this.#objects.list(
          kind.apiVersion,
          kind.kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          LIST_PAGE_SIZE,
          continueToken,
        );
      } catch (error) {
        if (notServed(error)) return [];
        throw mapError(error, `listing ${kind.kind}`);
      }
      // List items carry no apiVersion/kind of their own.
      for (const item of page.items) {
        objects.push(toTargetObject({ ...item, apiVersion: kind.apiVersion, kind: kind.kind }));
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken !== undefined);
    return objects;
  }

  async #patch(body: JsonObject, fieldManager: string, strategy: PatchStrategy): Promise<TargetObject> {
    const force = strategy === PatchStrategy.ServerSideApply ? true : undefined;
    try {
      const result = await this.#objects.patch(body, undefined, undefined, fieldManager, force, strategy);
      return toTargetObject(result);
    } catch (error) {
      throw mapError(error, `writing ${describe(body)}`);
    }
  }
}

const nameOf = (target: TargetRef): { name: string; namespace: string } => ({
  name: target.name,
  namespace: target.namespace,
});

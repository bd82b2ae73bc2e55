// The operator's HTTP endpoints: /healthz and /readyz on the health address, /metrics on the metrics
// address (the two may be the same). Nothing else is served; every other path is a 404.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ListenAddress } from '../config/operator-config.ts';

export interface HealthChecks {
  /** Process is alive and its loops turn. */
  live(): boolean;
  /** Caches are synced and the operator can do its work (or stand by as a non-leader). */
  ready(): boolean;
}

type Route = (url: string) => Promise<{ status: number; type: string; body: string }> | undefined;

const healthRoute =
  (checks: HealthChecks): Route =>
  (url) => {
    if (url === '/healthz' || url === '/livez') {
      const ok = checks.live();
      return Promise.resolve({
        status: ok ? 200 : 500,
        type: 'text/plain',
        body: ok ? 'ok\n' : 'unhealthy\n',
      });
    }
    if (url === '/readyz') {
      const ok = checks.ready();
      return Promise.resolve({
        status: ok ? 200 : 503,
        type: 'text/plain',
        body: ok ? 'ok\n' : 'not ready\n',
      });
    }
    return undefined;
  };

const metricsRoute =
  (registry: Registry): Route =>
  (url) =>
    url === '/metrics'
      ? registry.metrics().then((body) => ({ status: 200, type: registry.contentType, body }))
      : undefined;

const listen = (routes: readonly Route[], address: ListenAddress): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0] ?? '/';
      const answer =
        req.method === 'GET' || req.method === 'HEAD' ? routes.map((r) => r(url)).find(Boolean) : undefined;
      if (!answer) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      answer.then(
        ({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('error\n'),
      );
    });
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });

export interface Endpoints {
  readonly health: AddressInfo;
  readonly metrics: AddressInfo;
  close(): Promise<void>;
}

export const startEndpoints = async (options: {
  health: ListenAddress;
  metrics: ListenAddress;
  checks: HealthChecks;
  registry: Registry;
}): Promise<Endpoints> => {
  const same =
    options.health.host === options.metrics.host &&
    options.health.port === options.metrics.port &&
    options.health.port !== 0;
  const servers = same
    ? [await listen([healthRoute(options.checks), metricsRoute(options.registry)], options.health)]
    : [
        await listen([healthRoute(options.checks)], options.health),
        await listen([metricsRoute(options.registry)], options.metrics),
      ];
  const health = servers[0]?.address() as AddressInfo;
  const metrics = (servers[1] ?? servers[0])?.address() as AddressInfo;
  return {
    health,
    metrics,
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      ).then(() => undefined),
  };
};

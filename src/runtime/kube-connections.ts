// One connection pool per API server identity. @kubernetes/client-node 2.0.1 builds a new undici Agent for
// every request (KubeConfig.applySecurityAuthentication → createDispatcher), so every API call opened a new
// TLS connection: about half the operator's CPU at a few thousand CRs (issue 17). reuseConnections() makes a
// KubeConfig hand out one Agent per distinct set of connection options (server TLS material, client
// certificate, proxy), so a rotated client certificate still gets a new pool and the old one is closed.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

/** The two KubeConfig methods this relies on (createDispatcher is private in client-node's types). */
interface DispatcherFactory {
  createDispatcher(cluster: unknown, agentOptions: unknown): Dispatcher | undefined;
  createDispatcherOptions(cluster: unknown, agentOptions: unknown): unknown;
}

/** Pools kept per KubeConfig: the current identity and a few before it (a rotation in flight). */
const MAX_POOLS = 4;

const patched = new WeakSet<KubeConfig>();

/** A digest of the options, Buffers by their bytes: a key that says nothing of the key material. */
export const dispatcherKey = (options: unknown): string => {
  const hash = createHash('sha256');
  const visit = (value: unknown): void => {
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      hash.update(`b${value.byteLength}:`).update(value);
    } else if (Array.isArray(value)) {
      hash.update(`a${value.length}[`);
      value.forEach(visit);
      hash.update(']');
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      hash.update(`o${entries.length}{`);
      for (const [key, item] of entries) {
        hash.update(`${JSON.stringify(key)}:`);
        visit(item);
      }
      hash.update('}');
    } else {
      hash.update(`${typeof value}:${JSON.stringify(value) ?? ''};`);
    }
  };
  visit(options);
  return hash.digest('hex');
};

/**
 * Makes `kubeConfig` reuse its Agents (idempotent). Every client-node API class made from it and every
 * request of runtime/kube-api.ts go through the same pools.
 */
export const reuseConnections = (kubeConfig: KubeConfig): void => {
  if (patched.has(kubeConfig)) return;
  const factory = kubeConfig as unknown as DispatcherFactory;
  if (typeof factory.createDispatcher !== 'function' || typeof factory.createDispatcherOptions !== 'function')
    // Another client-node version: keep its behaviour rather than guess at its internals.
    return;
  const create = factory.createDispatcher.bind(kubeConfig);
  const optionsOf = factory.createDispatcherOptions.bind(kubeConfig);
  const pools = new Map<string, Dispatcher | undefined>();
  Object.defineProperty(kubeConfig, 'createDispatcher', {
    configurable: true,
    value: (cluster: unknown, agentOptions: unknown): Dispatcher | undefined => {
      const key = dispatcherKey(optionsOf(cluster, agentOptions));
      if (pools.has(key)) {
        const pool = pools.get(key);
        // Most recently used last, so the oldest is the one evicted.
        pools.delete(key);
        pools.set(key, pool);
        return pool;
      }
      const pool = create(cluster, agentOptions);
      pools.set(key, pool);
      while (pools.size > MAX_POOLS) {
        const [oldestKey, oldest] = pools.entries().next().value as [string, Dispatcher | undefined];
        pools.delete(oldestKey);
        // Requests still in flight on it finish; it takes no new ones.
        void oldest?.close().catch(() => undefined);
      }
      return pool;
    },
  });
  patched.add(kubeConfig);
};

// Minimal HTTP access to the Kubernetes API for the runtime: JSON requests and long-lived watch
// responses, authenticated from the KubeConfig (client certificates, tokens, exec plugins) exactly as
// client-node's own API classes do. Failures become RuntimeErrors typed by HTTP status.
import { fetch, type Dispatcher, type Response } from 'undici';
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { RuntimeError, codeForStatus } from './errors.ts';

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type QueryParams = Readonly<Record<string, string | number | boolean | undefined>>;

export interface KubeRequest {
  readonly method?: KubeMethod;
  readonly path: string;
  readonly query?: QueryParams;
  readonly body?: unknown;
  /** Aborts the request; an abort surfaces as RuntimeError 'Stopped'. */
  readonly signal?: AbortSignal;
  /** Gives up on the whole request (default 30 s); surfaces as RuntimeError 'Timeout'. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

const buildUrl = (kubeConfig: KubeConfig, path: string, query: QueryParams = {}): URL => {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new RuntimeError('ApiError', 'the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url;
};

// client-node's KubeConfig builds the undici Agent (TLS material, proxy) for its own requests; reuse it.
const dispatcherOf = (context: RequestContext): { dispatcher?: Dispatcher } => {
  const dispatcher = context.getDispatcher();
  return dispatcher ? { dispatcher } : {};
};

/** The API server's Status message of a failed request, when the body is one. */
const statusMessage = async (response: Response): Promise<string> => {
  const text = await response.text().catch(() => '');
  try {
    const status = JSON.parse(text) as { message?: unknown; reason?: unknown };
    if (typeof status.message === 'string') return status.message;
    if (typeof status.reason === 'string') return status.reason;
  } catch {
    // not JSON: fall through to the status line
  }
  return response.statusText || `HTTP ${response.status}`;
};

const transportError = (error: unknown, what: string, signal: AbortSignal | undefined): RuntimeError => {
  if (signal?.aborted === true) return new RuntimeError('Stopped', `${what}: stopped`, { cause: error });
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new RuntimeError('Timeout', `${what}: timed out`, { cause: error });
  }
  const detail = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
  return new RuntimeError('ConnectionFailed', `${what}: ${detail}`, { cause: error });
};

/**
 * Sends a request and returns the response once its status is 2xx; the body is left unread.
 * `signal` aborts it at any time, including while the caller reads the body.
 */
export const kubeSend = async (kubeConfig: KubeConfig, request: KubeRequest): Promise<Response> => {
  const method = request.method ?? 'GET';
  const what = `${method} ${request.path}`;
  const url = buildUrl(kubeConfig, request.path, request.query);
  const context = new RequestContext(url.toString(), HttpMethod[method]);
  await kubeConfig.applySecurityAuthentication(context);
  const headers: Record<string, string> = { ...context.getHeaders(), Accept: 'application/json' };
  if (request.body !== undefined) headers['Content-Type'] = 'application/json';
  const signals = [
    request.signal,
    request.timeoutMs === Infinity ? undefined : AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  ];
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      ...dispatcherOf(context),
      signal: AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined)),
    });
  } catch (error) {
    throw transportError(error, what, request.signal);
  }
  if (response.status >= 200 && response.status < 300) return response;
  const message = await statusMessage(response);
  throw new RuntimeError(codeForStatus(response.status), `${what}: ${response.status} ${message}`, {
    status: response.status,
  });
};

/** Sends a request and parses its JSON answer. */
export const kubeJson = async <T = unknown>(kubeConfig: KubeConfig, request: KubeRequest): Promise<T> => {
  const response = await kubeSend(kubeConfig, request);
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw transportError(error, `${request.method ?? 'GET'} ${request.path}`, request.signal);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new RuntimeError('InvalidResponse', `${request.method ?? 'GET'} ${request.path}: not JSON`, {
      cause: error,
    });
  }
};

// A fault-injecting HTTP proxy for tests: forwards to a real registry (plain or TLS) and, per request, can
// answer with an error status, delay, reset the connection, corrupt or inflate a body, trickle a body byte
// by byte, lie in Docker-Content-Digest, redirect to another host, or send a body with a HEAD answer. Every
// request it sees is recorded (method, path, Host and Authorization headers, when the answer ended). Also a
// TLS terminator to put in front of it, and small recording servers standing for another host.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number }
  | { kind: 'reset' }
  | { kind: 'corrupt-body' }
  | { kind: 'oversize-body'; bytes: number }
  | { kind: 'lie-digest'; digest: string }
  | { kind: 'redirect'; location: string }
  /** 200 announcing `length` bytes, then one byte every `intervalMs` until the client gives up. */
  | { kind: 'trickle'; intervalMs: number; length: number }
  /** Answers HEAD with the upstream's headers followed by a body of that length (which HEAD must not have). */
  | { kind: 'head-with-body' }
  | { kind: 'require-basic'; username: string; password: string };

export interface Rule {
  method?: string;
  /** Matched against the request path. */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default: all). */
  times?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  host?: string | undefined;
  /** Milliseconds from the request to the end of the answer (or of the connection), once it ended. */
  endedAfterMs?: number;
  /** Body bytes written (trickle). */
  bytesSent?: number;
}

export interface HttpTestServer {
  host: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const closeServer = (server: Server): Promise<void> =>
  new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

export interface FaultProxy extends HttpTestServer {
  rules: Rule[];
}

export interface UpstreamOptions {
  /** PEM CA of a TLS upstream (forwarded over HTTPS then). */
  upstreamCa?: string;
}

type Forwarder = (
  url: string,
  options: RequestOptions,
  callback: (res: IncomingMessage) => void,
) => ReturnType<typeof httpRequest>;

const forwarderFor = (
  upstreamHost: string,
  options: UpstreamOptions,
): ((
  path: string,
  o: RequestOptions,
  cb: (res: IncomingMessage) => void,
) => ReturnType<typeof httpRequest>) => {
  const tls = options.upstreamCa !== undefined;
  const send: Forwarder = tls
    ? (url, o, cb) => httpsRequest(url, { ...o, ca: options.upstreamCa }, cb)
    : (url, o, cb) => httpRequest(url, o, cb);
  return (path, o, cb) => send(`${tls ? 'https' : 'http'}://${upstreamHost}${path}`, o, cb);
};

/** Writes the upstream's HEAD answer by hand on the socket, then as many bytes of junk as it announced. */
const headWithBody = (
  upstreamHost: string,
  req: IncomingMessage,
  send: ReturnType<typeof forwarderFor>,
): void => {
  const upstream = send(
    req.url ?? '/',
    { method: 'HEAD', headers: { ...req.headers, host: upstreamHost } },
    (up) => {
      up.resume();
      const length = Number(up.headers['content-length'] ?? 0);
      const lines = [`HTTP/1.1 ${up.statusCode ?? 502} Whatever`];
      for (const [name, value] of Object.entries(up.headers)) {
        if (name === 'connection' || name === 'keep-alive' || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
      }
      req.socket.write(`${lines.join('\r\n')}\r\n\r\n${'{'.repeat(length)}`);
    },
  );
  upstream.on('error', () => req.socket.destroy());
  upstream.end();
};

export const startFaultProxy = async (
  upstreamHost: string,
  options: UpstreamOptions = {},
): Promise<FaultProxy> => {
  const rules: Rule[] = [];
  const seen: SeenRequest[] = [];
  const send = forwarderFor(upstreamHost, options);

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    transform?: (body: Buffer, headers: Record<string, string | string[] | undefined>) => Buffer,
  ) => {
    const upstream = send(
      req.url ?? '/',
      { method: req.method, headers: { ...req.headers, host: upstreamHost } },
      (up) => {
        const headers = { ...up.headers };
        if (!transform) {
          res.writeHead(up.statusCode ?? 502, headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = transform(Buffer.concat(chunks), headers);
          if (req.method !== 'HEAD') headers['content-length'] = String(body.length);
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(req.method === 'HEAD' ? undefined : body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const started = performance.now();
    const entry: SeenRequest = {
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      host: req.headers.host,
    };
    seen.push(entry);
    res.on('close', () => (entry.endedAfterMs = performance.now() - started));
    const rule = rules.find(
      (r) => (r.method === undefined || r.method === req.method) && r.path.test(path) && (r.times ?? 1) > 0,
    );
    if (!rule) return forward(req, res);
    if (rule.times !== undefined) rule.times--;
    const fault = rule.fault;
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, fault.headers ?? {});
        return res.end();
      case 'delay':
        return void setTimeout(() => forward(req, res), fault.ms);
      case 'reset':
        return req.socket.destroy();
      case 'corrupt-body':
        return forward(req, res, (body) => {
          const copy = Buffer.from(body);
          if (copy.length > 0) copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0xff;
          return copy;
        });
      case 'oversize-body':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return res.end(Buffer.alloc(fault.bytes, 0x61));
      case 'lie-digest':
        return forward(req, res, (body, headers) => {
          headers['docker-content-digest'] = fault.digest;
          return body;
        });
      case 'redirect':
        res.writeHead(307, { location: fault.location });
        return res.end();
      case 'head-with-body':
        return void headWithBody(upstreamHost, req, send);
      case 'trickle': {
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'content-length': String(fault.length),
        });
        entry.bytesSent = 0;
        const timer = setInterval(() => {
          if ((entry.bytesSent ?? 0) >= fault.length - 1) return;
          res.write('{');
          entry.bytesSent = (entry.bytesSent ?? 0) + 1;
        }, fault.intervalMs);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case 'require-basic': {
        const expected = `Basic ${Buffer.from(`${fault.username}:${fault.password}`).toString('base64')}`;
        if (req.headers.authorization === expected) return forward(req, res);
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fault-proxy"' });
        return res.end();
      }
    }
  });
  const host = await listen(server);
  return { host, rules, seen, close: () => closeServer(server) };
};

/** A plain server on another port (another host, as far as origins go) that serves fixed bytes. */
export const startBlobHost = async (serve: (path: string) => Buffer | undefined): Promise<HttpTestServer> => {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      path: req.url ?? '/',
      authorization: req.headers.authorization,
      host: req.headers.host,
    });
    const body = serve(req.url ?? '/');
    res.writeHead(body ? 200 : 404);
    res.end(body);
  });
  const host = await listen(server);
  return { host, seen, close: () => closeServer(server) };
};

/**
 * Another host that wants authentication: every request but its token endpoint is answered 401 with a
 * Bearer challenge whose realm is its own `/token` (as `realmBase()` gives it, e.g. its TLS front), and
 * the token endpoint hands out a token to anyone. It records what it received, credentials included.
 */
export const startChallengingHost = async (realmBase: () => string): Promise<HttpTestServer> => {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      host: req.headers.host,
    });
    if (path.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token: 'token-of-another-host', expires_in: 300 }));
    }
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${realmBase()}/token",service="elsewhere"`,
    });
    return res.end();
  });
  const host = await listen(server);
  return { host, seen, close: () => closeServer(server) };
};

/**
 * A TCP-level TLS terminator: HTTPS on its port (at `hostname`, which the certificate must name), plain
 * bytes to `upstreamHost`.
 */
export const startTlsFront = async (
  upstreamHost: string,
  serving: { cert: Buffer | string; key: Buffer | string },
  hostname = '127.0.0.1',
): Promise<{ host: string; close(): Promise<void> }> => {
  const [upHost = '', upPort = ''] = upstreamHost.split(':');
  const open = new Set<{ destroy(): void }>();
  const server = createTlsServer(serving, (socket) => {
    const upstream = connect(Number(upPort), upHost);
    open.add(socket).add(upstream);
    socket.on('close', () => open.delete(socket));
    upstream.on('close', () => open.delete(upstream));
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `${hostname}:${(server.address() as AddressInfo).port}`;
  return {
    host,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of open) s.destroy();
      }),
  };
};

// A fault-injecting HTTP proxy for tests: forwards to a real registry and, per request, can answer with an
// error status, delay, reset the connection, corrupt or inflate a body, lie in Docker-Content-Digest, or
// redirect to another host, or send a body with a HEAD answer. Every request it sees is recorded (method, path, Authorization header).
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number }
  | { kind: 'reset' }
  | { kind: 'corrupt-body' }
  | { kind: 'oversize-body'; bytes: number }
  | { kind: 'lie-digest'; digest: string }
  | { kind: 'redirect'; location: string }
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

/** Writes the upstream's HEAD answer by hand on the socket, then as many bytes of junk as it announced. */
const headWithBody = (upstreamHost: string, req: IncomingMessage): void => {
  const upstream = httpRequest(
    `http://${upstreamHost}${req.url ?? '/'}`,
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

export const startFaultProxy = async (upstreamHost: string): Promise<FaultProxy> => {
  const rules: Rule[] = [];
  const seen: SeenRequest[] = [];

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    transform?: (body: Buffer, headers: Record<string, string | string[] | undefined>) => Buffer,
  ) => {
    const upstream = httpRequest(
      `http://${upstreamHost}${req.url ?? '/'}`,
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
    seen.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
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
        return void headWithBody(upstreamHost, req);
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
    seen.push({ method: req.method ?? '', path: req.url ?? '/', authorization: req.headers.authorization });
    const body = serve(req.url ?? '/');
    res.writeHead(body ? 200 : 404);
    res.end(body);
  });
  const host = await listen(server);
  return { host, seen, close: () => closeServer(server) };
};

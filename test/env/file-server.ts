// A tiny HTTP server for bytes a test changes as it goes (a CA's CRL): GET <path> answers the current
// bytes, or 503 while there are none.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  readonly url: string;
  set(bytes: Buffer | undefined): void;
  close(): Promise<void>;
}

export const serveFile = async (path: string, contentType: string): Promise<FileServer> => {
  let current: Buffer | undefined;
  const server: Server = createServer((req, res) => {
    if (req.url === path && current) res.writeHead(200, { 'content-type': contentType }).end(current);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    set: (bytes) => (current = bytes),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

import { connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

describe('unit test sandbox', () => {
  it('refuses TCP connections, even to a listening loopback server', async () => {
    const server = createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      expect(() => connect(port, '127.0.0.1')).toThrow(/may not open network connections/);
      const failure = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Error);
      expect(String((failure as Error).cause)).toMatch(/may not open network connections/);
    } finally {
      server.close();
    }
  });
});

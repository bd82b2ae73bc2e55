// A TCP relay in front of the API server that a test can close and open again: closing it cuts every
// relayed connection and refuses new ones, so a client (an informer, a leader) loses the API server while
// the server itself keeps running and other clients keep changing things. Bytes pass through untouched
// (TLS end to end; the serving certificate is valid for 127.0.0.1).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export class TcpGate {
  private readonly target: { host: string; port: number };
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private portNumber = 0;

  private constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  static async open(targetUrl: string): Promise<TcpGate> {
    const url = new URL(targetUrl);
    const gate = new TcpGate({ host: url.hostname, port: Number(url.port) });
    await gate.listen(0);
    return gate;
  }

  get port(): number {
    return this.portNumber;
  }

  /** The same kubeconfig, pointed at the gate. */
  kubeConfigFrom(kubeconfigFile: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigFile);
    const current = kc.getCurrentCluster();
    if (!current) throw new Error('kubeconfig without a current cluster');
    const clusters = kc.clusters.map((c) =>
      c.name === current.name ? { ...c, server: `https://127.0.0.1:${this.portNumber}` } : c,
    );
    kc.loadFromOptions({
      clusters,
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return kc;
  }

  /** Cuts every relayed connection and refuses new ones until open(). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async reopen(): Promise<void> {
    if (!this.server) await this.listen(this.portNumber);
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => {
        const address = server.address();
        if (address && typeof address === 'object') this.portNumber = address.port;
        resolve();
      });
    });
  }
}

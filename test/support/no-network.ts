// Unit tests must not reach the network: every outgoing TCP connection (and with it fetch, undici and
// the Kubernetes client) fails at once with a clear error. Unix sockets stay usable.
import net from 'node:net';

// eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with the socket as `this` below
const original = net.Socket.prototype.connect;

function blockedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const [first] = args;
  const isPath =
    typeof first === 'string' || (typeof first === 'object' && first !== null && 'path' in first);
  if (isPath) return Reflect.apply(original, this, args) as net.Socket;
  throw new Error('unit tests may not open network connections (move this test to test/integration/)');
}

net.Socket.prototype.connect = blockedConnect;

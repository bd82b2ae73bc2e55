// A leader-election candidate in a process of its own, so a test can SIGKILL it: the Lease is then
// neither renewed nor released, as when a node dies. Prints `started` / `stopped` lines on stdout.
// Usage: node elector-process.ts '<json: kubeconfig, namespace, name, identity, timings>'
import { pino } from 'pino';
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../../../src/runtime/leader-election.ts';

interface Args {
  kubeconfig: string;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(args.kubeconfig);
const elector = new LeaderElector(kubeConfig, {
  namespace: args.namespace,
  name: args.name,
  identity: args.identity,
  leaseDurationMs: args.leaseDurationMs,
  renewDeadlineMs: args.renewDeadlineMs,
  retryPeriodMs: args.retryPeriodMs,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
process.on('SIGTERM', () => void elector.stop());
await elector.run({
  onStartedLeading: () => process.stdout.write('started\n'),
  onStoppedLeading: () => process.stdout.write('stopped\n'),
});

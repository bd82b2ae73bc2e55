import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Session } from 'node:inspector/promises';
import dc from 'node:diagnostics_channel';
let connects = 0; const errs = new Map<string, number>();
dc.subscribe('undici:client:connected', () => connects++);
dc.subscribe('undici:request:error', (m: any) => { const k = m.error?.name + ' ' + m.error?.message; errs.set(k, (errs.get(k) ?? 0) + 1); });
const origErr = Error.captureStackTrace;

import { ProcessSupervisor } from '../test/env/processes.ts';
import { startOlareg } from '../test/env/registries.ts';
import { runTool } from '../test/env/run-tool.ts';
import { pushArtifact } from '../test/env/oci.ts';
import { RegistryClient } from '../src/registry/client.ts';
import { RegistryTransport } from '../src/registry/transport.ts';
import { parseReference } from '../src/registry/reference.ts';
const TAGS = 500;
const dir = await mkdtemp(join(tmpdir(), 'tagguard-probe-'));
const supervisor = new ProcessSupervisor(dir);
try {
  const registry = await startOlareg(supervisor, dir, { name: 'olareg-probe' });
  const home = { dir, env: { HOME: dir } };
  const artifact = await pushArtifact(home, registry, 'bench/app', 'base', 'payload');
  const tags = Array.from({ length: TAGS }, (_, i) => `t${i}`);
  for (let i = 0; i < tags.length; i += 100)
    await runTool('oras', ['tag', '--plain-http', artifact.byDigest, ...tags.slice(i, i + 100)], { env: home.env });
  const client = new RegistryClient(new RegistryTransport({ hostOptions: () => ({ plainHttp: true }) }));
  const pass = () => Promise.all(tags.map((tag) => client.resolve(parseReference(`${registry.host}/bench/app:${tag}`))));
  for (let i = 0; i < 3; i++) await pass();
  const s = new Session(); s.connect(); await s.post('Profiler.enable'); await s.post('Profiler.start');
  for (let i = 0; i < 10; i++) await pass();
  const { profile } = await s.post('Profiler.stop');
  // self time by function
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let total = 0;
  for (const [id, c] of counts) { const n: any = byId.get(id); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + c); total += c; }
  console.log('samples', total, 'connects', connects, [...errs]);
  for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((100 * c / total).toFixed(1).padStart(5), k);
  // inclusive for src files
  await client.close();
} finally { await supervisor.stopAll(); }

import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startOlareg } from '../test/env/registries.ts';
import { pushArtifact } from '../test/env/oci.ts';
const dir = await mkdtemp(join(tmpdir(), 'tagguard-probe-'));
const supervisor = new ProcessSupervisor(dir);
try {
  const registry = await startOlareg(supervisor, dir, { name: 'olareg-probe' });
  const home = { dir, env: { HOME: dir } };
  await pushArtifact(home, registry, 'bench/app', 'base', 'payload');
  const u = `http://${registry.host}/v2/bench/app/manifests/base`;
  console.log(execFileSync('curl', ['-sv', '-H', 'Accept: application/vnd.oci.image.manifest.v1+json', '-I', u, '-I', u], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  try { execFileSync('sh', ['-c', `curl -sv -I ${u} -H 'Accept: application/vnd.oci.image.manifest.v1+json' -I ${u} 2>&1 | grep -iE "connection|re-us|Connected"`], { stdio: 'inherit' }); } catch {}
} finally { await supervisor.stopAll(); }

import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Pool, request, Agent } from 'undici';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startOlareg } from '../test/env/registries.ts';
import { runTool } from '../test/env/run-tool.ts';
import { pushArtifact } from '../test/env/oci.ts';
import { RegistryClient } from '../src/registry/client.ts';
import { RegistryTransport } from '../src/registry/transport.ts';
import { parseReference } from '../src/registry/reference.ts';
import { MANIFEST_ACCEPT } from '../src/registry/media-types.ts';

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
  const accept = MANIFEST_ACCEPT.join(', ');
  const run = async (name: string, conc: number, one: (tag: string) => Promise<unknown>) => {
    for (let rep = 0; rep < 4; rep++) {
      let next = 0;
      const t0 = performance.now(); const c0 = process.cpuUsage();
      await Promise.all(Array.from({ length: conc }, async () => { while (next < tags.length) await one(tags[next++]!); }));
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (rep > 0) console.log(name, 'conc', conc, (ms / TAGS).toFixed(3), 'ms/tag', 'cpu', ((c.user + c.system) / 1000 / TAGS).toFixed(3), 'ms/tag');
    }
  };
  for (const reset of [undefined, false]) {
    const pool = new Pool(`http://${registry.host}`, { connections: 16 });
    await run(`raw-pool reset=${reset}`, 16, async (tag) => { const r = await pool.request({ path: `/v2/bench/app/manifests/${tag}`, method: 'HEAD', headers: { accept, 'user-agent': 'x' }, ...(reset === false ? { reset: false } : {}) }); await r.body.dump(); return r.headers['docker-content-digest']; });
    await pool.close();
  }
  for (const conc of [4, 8, 16]) {
    const pool = new Pool(`http://${registry.host}`, { connections: conc });
    await run(`raw-pool keepalive`, conc, async (tag) => { const r = await pool.request({ path: `/v2/bench/app/manifests/${tag}`, method: 'HEAD', headers: { accept, 'user-agent': 'x' }, reset: false }); await r.body.dump(); return r.headers['docker-content-digest']; });
    await pool.close();
  }
} finally { await supervisor.stopAll(); }

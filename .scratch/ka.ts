import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import dc from 'node:diagnostics_channel';
import { Pool } from 'undici';
import { ProcessSupervisor } from '../test/env/processes.ts';
import { startOlareg } from '../test/env/registries.ts';
import { pushArtifact } from '../test/env/oci.ts';
import { MANIFEST_ACCEPT } from '../src/registry/media-types.ts';
let connects = 0; const errs: string[] = [];
dc.subscribe('undici:client:connected', () => connects++);
dc.subscribe('undici:client:beforeConnect', () => {});
const dir = await mkdtemp(join(tmpdir(), 'tagguard-probe-'));
const supervisor = new ProcessSupervisor(dir);
try {
  const registry = await (await import('../test/env/registries.ts')).startDistribution(supervisor, dir, { name: 'dist-probe' });
  const home = { dir, env: { HOME: dir } };
  const artifact = await pushArtifact(home, registry, 'bench/app', 'base', 'payload');
  for (const mode of ['dump', 'text', 'none'] as const) {
    const pool = new Pool(`http://${registry.host}`, { connections: 1 });
    connects = 0;
    for (let i = 0; i < 5; i++) {
      const r = await pool.request({ path: `/v2/bench/app/manifests/base`, method: 'HEAD', headers: { accept: MANIFEST_ACCEPT.join(', ') } });
      if (i === 0) console.log(r.statusCode, r.headers);
      try { if (mode === 'dump') await r.body.dump(); else if (mode === 'text') await r.body.text(); } catch (e) { console.log('err', e); }
      await new Promise((res) => setTimeout(res, 10));
    }
    console.log(mode, 'connects', connects);
    await pool.close();
  }
} finally { await supervisor.stopAll(); }

// Each hostile archive is scanned in a fresh process, which reports the coded error and its own peak
// memory (maxRSS): every one must stop with its code, within bounded time and under 300 MB.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanErrorCode } from '../../src/scan/errors.ts';
import { scanInChild } from './support/scan-in-child.ts';
import {
  buildTar,
  buildTgz,
  chartEntries,
  gzipBomb,
  manyEntries,
  paxRecord,
  tarEntry,
} from './support/tar-builder.ts';

const MEMORY_BOUND = 300 * 1024 * 1024;

const billionLaughs = `apiVersion: v1
kind: ConfigMap
metadata: {name: lol}
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
${'bcdefghi'
  .split('')
  .map((c, i) => `  ${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)
  .join('\n')}
`;

const privileged = `apiVersion: apps/v1
kind: Deployment
metadata: {name: miner}
spec:
  template:
    spec:
      containers:
        - {name: miner, image: evil.example.com/miner, securityContext: {privileged: true}}
`;
const hidden = tarEntry({ name: 'demo/templates/miner.yaml', data: privileged });

describe('hostile archives in a separate process', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-hostile-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, () => Promise<Buffer> | Buffer, ScanErrorCode][] = [
    [
      'path traversal',
      () => buildTgz([...chartEntries(), { name: 'demo/../../../../tmp/owned', data: 'x' }]),
      'UnsafePath',
    ],
    [
      'an absolute path',
      () => buildTgz([...chartEntries(), { name: '/etc/cron.d/owned', data: 'x' }]),
      'UnsafePath',
    ],
    [
      'a symlink',
      () =>
        buildTgz([...chartEntries(), { name: 'demo/templates/x.yaml', type: '2', linkName: '/etc/shadow' }]),
      'UnsupportedEntry',
    ],
    [
      'a hard link',
      () =>
        buildTgz([...chartEntries(), { name: 'demo/templates/x.yaml', type: '1', linkName: '/etc/shadow' }]),
      'UnsupportedEntry',
    ],
    [
      'a device file',
      () => buildTgz([...chartEntries(), { name: 'demo/mem', type: '3' }]),
      'UnsupportedEntry',
    ],
    ['a gzip bomb (256 MiB of zeros)', () => gzipBomb(256 * 1024 ** 2), 'DecompressionBomb'],
    ['100k entries', () => manyEntries(100_000), 'TooManyEntries'],
    [
      'a huge sparse file (pax, 1 TiB)',
      () =>
        buildTgz([
          ...chartEntries(),
          {
            name: 'PaxHeader',
            type: 'x',
            data: paxRecord('GNU.sparse.realsize', String(1024 ** 4)) + paxRecord('GNU.sparse.major', '1'),
          },
          { name: 'demo/sparse', data: 'x' },
        ]),
      'UnsupportedEntry',
    ],
    [
      'a huge GNU sparse file (1 TiB)',
      () => buildTgz([...chartEntries(), { name: 'demo/sparse', type: 'S', declaredSize: 1024 ** 4 }]),
      'UnsupportedEntry',
    ],
    [
      'a directory whose size hides a privileged Deployment (issue 13)',
      () =>
        buildTgz([
          ...chartEntries(),
          { name: 'demo/templates/', type: '5', declaredSize: hidden.length, rawData: hidden },
        ]),
      'AmbiguousArchive',
    ],
    [
      'a privileged Deployment after the end-of-archive marker',
      () => gzipSync(Buffer.concat([buildTar(chartEntries()), hidden, Buffer.alloc(1024)])),
      'AmbiguousArchive',
    ],
    [
      'a pax path and a GNU long name naming different files',
      () =>
        buildTgz([
          ...chartEntries(),
          { name: 'PaxHeader', type: 'x', data: paxRecord('path', 'demo/README.md') },
          { name: '././@LongLink', type: 'L', data: 'demo/templates/miner.yaml\0' },
          { name: 'demo/x', data: privileged },
        ]),
      'AmbiguousArchive',
    ],
    [
      'a YAML billion-laughs template',
      () => buildTgz(chartEntries('demo', { 'lol.yaml': billionLaughs })),
      'YamlTooManyAliases',
    ],
  ];

  it.each(cases)(
    '%s: coded error, bounded time and memory',
    async (name, build, code) => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.tgz`);
      await writeFile(file, await build());
      const report = await scanInChild(file);
      expect(report.code).toBe(code);
      expect(report.maxRssBytes).toBeLessThan(MEMORY_BOUND);
      expect(report.elapsedMs).toBeLessThan(20_000);
    },
    30_000,
  );
});

// Hostile chart archives, scanned by `tagguard scan <file>` statically and with the pinned helm.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  buildTar,
  buildTgz,
  chartEntries,
  gzipBomb,
  manyEntries,
  paxRecord,
  tarEntry,
  type TarEntry,
} from '../../scan/support/tar-builder.ts';
import type { CorpusCase, CorpusContext } from './corpus-case.ts';

const scanFile =
  (name: string, build: () => Buffer | Promise<Buffer>, helm = true) =>
  async (ctx: CorpusContext): Promise<readonly string[]> => {
    const file = join(ctx.dir, `${name}.tgz`);
    await writeFile(file, await build());
    return ['scan', file, '--helm', helm ? ctx.helm : 'none', '--output', 'json'];
  };

const withChart = (...extra: TarEntry[]): Buffer => buildTgz([...chartEntries(), ...extra]);

const privileged = `apiVersion: apps/v1
kind: Deployment
metadata: {name: miner}
spec:
  selector: {matchLabels: {app: miner}}
  template:
    metadata: {labels: {app: miner}}
    spec:
      initContainers: [{name: m, image: evil, securityContext: {privileged: true}}]
      containers: [{name: app, image: app}]
`;

const archive = (
  name: string,
  build: () => Buffer | Promise<Buffer>,
  code: string,
  options: { helm?: boolean; exit?: number } = {},
): CorpusCase => ({
  class: 'archive',
  name,
  prepare: scanFile(name.replace(/\W+/g, '-'), build, options.helm ?? true),
  exit: options.exit ?? 2,
  code,
});

export const archiveCases: readonly CorpusCase[] = [
  archive('path traversal', () => withChart({ name: 'demo/../../../../tmp/owned', data: 'x' }), 'UnsafePath'),
  archive('absolute path', () => withChart({ name: '/etc/cron.d/owned', data: 'x' }), 'UnsafePath'),
  archive('backslash path', () => withChart({ name: 'demo\\..\\..\\owned', data: 'x' }), 'UnsafePath'),
  archive(
    'symlink',
    () => withChart({ name: 'demo/templates/x.yaml', type: '2', linkName: '/etc/shadow' }),
    'UnsupportedEntry',
  ),
  archive(
    'hard link',
    () => withChart({ name: 'demo/templates/x.yaml', type: '1', linkName: 'demo/Chart.yaml' }),
    'UnsupportedEntry',
  ),
  archive('character device', () => withChart({ name: 'demo/mem', type: '3' }), 'UnsupportedEntry'),
  archive('block device', () => withChart({ name: 'demo/sda', type: '4' }), 'UnsupportedEntry'),
  archive('FIFO', () => withChart({ name: 'demo/pipe', type: '6' }), 'UnsupportedEntry'),
  archive(
    'GNU sparse file of 1 TiB',
    () => withChart({ name: 'demo/sparse', type: 'S', declaredSize: 1024 ** 4 }),
    'UnsupportedEntry',
  ),
  archive(
    'pax GNU.sparse of 1 TiB',
    () =>
      withChart(
        {
          name: 'PaxHeader',
          type: 'x',
          data: paxRecord('GNU.sparse.realsize', String(1024 ** 4)) + paxRecord('GNU.sparse.major', '1'),
        },
        { name: 'demo/sparse', data: 'x' },
      ),
    'UnsupportedEntry',
  ),
  archive('gzip bomb of 256 MiB', () => gzipBomb(256 * 1024 ** 2), 'DecompressionBomb'),
  archive('100,000 entries', () => manyEntries(100_000), 'TooManyEntries'),
  archive(
    'one file over the per-file cap',
    () => withChart({ name: 'demo/big.bin', data: Buffer.alloc(6 * 1024 * 1024, 0x41) }),
    'ArchiveTooLarge',
  ),
  archive('not gzip', () => Buffer.from('this is not a chart archive at all'), 'InvalidArchive'),
  archive('empty file', () => Buffer.alloc(0), 'InvalidArchive'),
  archive(
    'truncated tar',
    () =>
      gzipSync(
        buildTar([...chartEntries(), { name: 'demo/x.txt', data: 'x'.repeat(4000) }]).subarray(0, 1800),
      ),
    'InvalidArchive',
  ),
  archive(
    'bad header checksum',
    () => {
      const tar = buildTar(chartEntries());
      tar[0] = 0x58; // the first name byte changes, the stored checksum does not
      return gzipSync(tar);
    },
    'InvalidArchive',
  ),
  archive('no Chart.yaml', () => buildTgz([{ name: 'demo/values.yaml', data: 'a: 1\n' }]), 'InvalidArchive'),
  archive(
    'Chart.yaml alias bomb',
    () =>
      buildTgz([
        {
          name: 'demo/Chart.yaml',
          data: `apiVersion: v2\nname: demo\nversion: 1.0.0\na: &a [x, x, x, x, x, x, x, x, x]\n${'bcdefghi'
            .split('')
            .map((c, n) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[n]}`).join(', ')}]`)
            .join('\n')}\n`,
        },
      ]),
    'InvalidArchive',
  ),
  archive(
    'duplicate template path',
    () =>
      withChart(
        { name: 'demo/templates/a.yaml', data: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' },
        { name: 'demo/templates/a.yaml', data: privileged },
      ),
    'UnsafePath',
  ),
  archive(
    'directory entry with a size hiding a privileged Deployment',
    () => {
      const hidden = tarEntry({ name: 'demo/templates/miner.yaml', data: privileged });
      return gzipSync(
        Buffer.concat([
          ...chartEntries().map(tarEntry),
          tarEntry({ name: 'demo/templates/', type: '5', declaredSize: hidden.length }),
          hidden,
          Buffer.alloc(1024),
        ]),
      );
    },
    'AmbiguousArchive',
  ),
  archive(
    'data after the end-of-archive blocks',
    () =>
      gzipSync(
        Buffer.concat([
          buildTar(chartEntries()),
          tarEntry({ name: 'demo/templates/miner.yaml', data: privileged }),
          Buffer.alloc(1024),
        ]),
      ),
    'AmbiguousArchive',
  ),
  archive(
    'subcharts nested 8 deep',
    () => {
      let inner = buildTgz(chartEntries('c8'));
      for (let i = 7; i >= 0; i--)
        inner = buildTgz([...chartEntries(`c${i}`), { name: `c${i}/charts/c${i + 1}.tgz`, data: inner }]);
      return inner;
    },
    'UnsafePath',
  ),
  archive(
    'compressed archive over the size cap',
    () =>
      gzipSync(Buffer.from(Array.from({ length: 12 * 1024 * 1024 }, (_, i) => (i * 7919) % 251)), {
        level: 0,
      }),
    'ArchiveTooLarge',
  ),
];

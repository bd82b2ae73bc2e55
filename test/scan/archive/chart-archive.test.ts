// The archive reader against hand-built tar bytes: what it accepts, and the coded error for each hostile
// shape (links, devices, sparse files, `..`, absolute names, lying sizes, bombs, too many entries).
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadChartArchive } from '../../../src/scan/archive/chart-archive.ts';
import { defaultScanLimits } from '../../../src/scan/limits.ts';
import type { ScanErrorCode } from '../../../src/scan/errors.ts';
import {
  buildTar,
  buildTgz,
  chartEntries,
  gzipBomb,
  manyEntries,
  paxRecord,
  tarEntry,
  tarHeader,
  type TarEntry,
} from '../support/tar-builder.ts';

const codeOf = async (archive: Buffer, limits = defaultScanLimits): Promise<ScanErrorCode | 'ok'> => {
  try {
    await loadChartArchive(archive, limits);
    return 'ok';
  } catch (error) {
    return (error as { code: ScanErrorCode }).code;
  }
};

const withEntry = (entry: TarEntry): Buffer =>
  // A pax header applies to the entry after it.
  buildTgz([...chartEntries(), entry, ...(entry.type === 'x' ? [{ name: 'demo/next', data: 'x' }] : [])]);

describe('loadChartArchive', () => {
  it('reads a chart: strips the top directory, keeps files, reads name and version', async () => {
    const chart = await loadChartArchive(
      buildTgz([{ name: 'demo/', type: '5' }, ...chartEntries('demo', { 'a.yaml': 'kind: X\n' })]),
      defaultScanLimits,
    );
    expect(chart.name).toBe('demo');
    expect(chart.version).toBe('1.0.0');
    expect([...chart.files.keys()].sort()).toEqual(['Chart.yaml', 'templates/a.yaml', 'values.yaml']);
    expect(chart.files.get('templates/a.yaml')?.toString()).toBe('kind: X\n');
  });

  it('reads long names from pax headers, GNU long-name entries and the ustar prefix', async () => {
    const long = `demo/templates/${'d'.repeat(120)}/x.yaml`;
    const gnu = `demo/templates/${'g'.repeat(130)}.yaml`;
    const chart = await loadChartArchive(
      buildTgz([
        ...chartEntries(),
        { name: 'PaxHeader', type: 'x', data: paxRecord('path', long) },
        { name: 'ignored', data: 'pax' },
        { name: '././@LongLink', type: 'L', data: `${gnu}\0` },
        { name: 'ignored-too', data: 'gnu' },
        { name: 'prefixed.yaml', prefix: 'demo/templates', data: 'prefix' },
      ]),
      defaultScanLimits,
    );
    expect(chart.files.get(long.slice(5))?.toString()).toBe('pax');
    expect(chart.files.get(gnu.slice(5))?.toString()).toBe('gnu');
    expect(chart.files.get('templates/prefixed.yaml')?.toString()).toBe('prefix');
  });

  it('expands packaged subcharts under charts/ with the same checks', async () => {
    const sub = buildTgz(chartEntries('sub', { 's.yaml': 'kind: S\n' }));
    const chart = await loadChartArchive(
      buildTgz([...chartEntries(), { name: 'demo/charts/sub-1.0.0.tgz', data: sub }]),
      defaultScanLimits,
    );
    expect(chart.files.has('charts/sub-1.0.0.tgz')).toBe(false);
    expect(chart.files.get('charts/sub/templates/s.yaml')?.toString()).toBe('kind: S\n');
    const hostileSub = buildTgz([
      ...chartEntries('sub'),
      { name: 'sub/evil', type: '2', linkName: '/etc/passwd' },
    ]);
    expect(
      await codeOf(buildTgz([...chartEntries(), { name: 'demo/charts/sub.tgz', data: hostileSub }])),
    ).toBe('UnsupportedEntry');
  });

  it.each<[string, TarEntry, ScanErrorCode]>([
    ['path traversal', { name: 'demo/../../etc/cron.d/x', data: 'x' }, 'UnsafePath'],
    [
      'traversal hidden in a pax path',
      { name: 'PaxHeader', type: 'x', data: paxRecord('path', 'demo/a/../../../x') },
      'UnsafePath',
    ],
    ['an absolute path', { name: '/etc/passwd', data: 'x' }, 'UnsafePath'],
    ['a backslash path', { name: 'demo\\..\\x', data: 'x' }, 'UnsafePath'],
    [
      'a symlink',
      { name: 'demo/templates/link.yaml', type: '2', linkName: '/etc/shadow' },
      'UnsupportedEntry',
    ],
    [
      'a hard link',
      { name: 'demo/templates/hard.yaml', type: '1', linkName: 'demo/Chart.yaml' },
      'UnsupportedEntry',
    ],
    ['a character device', { name: 'demo/dev-null', type: '3' }, 'UnsupportedEntry'],
    ['a block device', { name: 'demo/sda', type: '4' }, 'UnsupportedEntry'],
    ['a FIFO', { name: 'demo/fifo', type: '6' }, 'UnsupportedEntry'],
    [
      'a GNU sparse file of 100 GiB',
      { name: 'demo/sparse', type: 'S', declaredSize: 100 * 1024 ** 3 },
      'UnsupportedEntry',
    ],
    ['a small GNU sparse file', { name: 'demo/sparse', type: 'S', data: 'x' }, 'UnsupportedEntry'],
    [
      'a pax sparse file',
      { name: 'PaxHeader', type: 'x', data: paxRecord('GNU.sparse.realsize', String(100 * 1024 ** 3)) },
      'UnsupportedEntry',
    ],
    [
      'a file declared larger than the file cap',
      { name: 'demo/big', declaredSize: 8 * 1024 ** 4 },
      'ArchiveTooLarge',
    ],
  ])('refuses %s', async (_what, entry, code) => {
    expect(await codeOf(withEntry(entry))).toBe(code);
  });

  it('refuses paths deeper than the depth cap and a file listed twice', async () => {
    const deep = `demo/${Array.from({ length: 30 }, () => 'd').join('/')}/x`;
    expect(
      await codeOf(withEntry({ name: 'PaxHeader', type: 'x', data: paxRecord('path', deep) }).subarray(0)),
    ).toBe('UnsafePath');
    expect(await codeOf(withEntry({ name: 'demo/Chart.yaml', data: 'name: other\n' }))).toBe('UnsafePath');
  });

  it('refuses entries outside the chart directory and archives without Chart.yaml', async () => {
    expect(await codeOf(withEntry({ name: 'other/x', data: 'x' }))).toBe('InvalidArchive');
    expect(await codeOf(buildTgz([{ name: 'demo/values.yaml', data: 'a: 1\n' }]))).toBe('InvalidArchive');
  });

  it('refuses what is not a gzip tar, a bad checksum and a truncated entry', async () => {
    expect(await codeOf(Buffer.from('PK\x03\x04 not gzip'))).toBe('InvalidArchive');
    const corrupt = buildTar(chartEntries());
    corrupt[0] = 0x41;
    expect(await codeOf(gzipSync(corrupt))).toBe('InvalidArchive');
    const truncated = Buffer.concat([
      tarEntry(chartEntries()[0]!),
      tarHeader({ name: 'demo/x' }, 4096),
      Buffer.alloc(512, 1),
    ]);
    expect(await codeOf(gzipSync(truncated))).toBe('InvalidArchive');
  });

  it('stops a gzip bomb early with DecompressionBomb', async () => {
    const bomb = await gzipBomb(128 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(await codeOf(bomb)).toBe('DecompressionBomb');
  }, 30_000);

  it('stops at the total-size cap when the ratio is plausible', async () => {
    const limits = { ...defaultScanLimits, maxTotalBytes: 64 * 1024, maxCompressionRatio: 1e9 };
    const random = Buffer.from(Array.from({ length: 100 * 1024 }, (_, i) => (i * 7919) % 251));
    expect(await codeOf(buildTgz([...chartEntries(), { name: 'demo/r', data: random }]), limits)).toBe(
      'ArchiveTooLarge',
    );
  });

  it('refuses a compressed archive above the compressed cap', async () => {
    const limits = { ...defaultScanLimits, maxCompressedBytes: 100 };
    expect(await codeOf(buildTgz(chartEntries()), limits)).toBe('ArchiveTooLarge');
  });

  it('stops 100k entries with TooManyEntries', async () => {
    expect(await codeOf(manyEntries(100_000))).toBe('TooManyEntries');
  }, 30_000);
});

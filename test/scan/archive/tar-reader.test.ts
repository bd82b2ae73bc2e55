// The tar reader against hand-built headers: it must read each field as Go's archive/tar does (numbers
// padded with NULs and spaces, base-256, signed checksums, GNU/V7 headers, '\0' typeflags) and refuse,
// each with its code, every shape where Go, helm's loader and tagguard could read different files —
// first of all the directory that declares a size (the issue 13 bypass).
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadChartArchive, readChartArchive } from '../../../src/scan/archive/chart-archive.ts';
import type { ScanErrorCode } from '../../../src/scan/errors.ts';
import { defaultScanLimits } from '../../../src/scan/limits.ts';
import {
  buildTar,
  buildTgz,
  chartEntries,
  paxRecord,
  tarEntry,
  type TarEntry,
} from '../support/tar-builder.ts';

const privileged = `apiVersion: apps/v1
kind: Deployment
metadata: {name: miner}
spec:
  template:
    spec:
      containers:
        - name: miner
          image: evil.example.com/miner:latest
          securityContext: {privileged: true}
`;

const codeOf = async (archive: Buffer): Promise<ScanErrorCode | 'ok'> => {
  try {
    await loadChartArchive(archive, defaultScanLimits);
    return 'ok';
  } catch (error) {
    return (error as { code: ScanErrorCode }).code;
  }
};

const filesOf = async (archive: Buffer): Promise<Record<string, string>> =>
  Object.fromEntries(
    [...(await loadChartArchive(archive, defaultScanLimits)).files].map(([k, v]) => [k, v.toString()]),
  );

/** A chart plus `entries`, then the end marker. */
const chartWith = (...entries: TarEntry[]): Buffer => buildTgz([...chartEntries(), ...entries]);

/** The hidden entry's bytes, to be swallowed by a header that declares their length as its size. */
const hidden = tarEntry({ name: 'demo/templates/miner.yaml', data: privileged });

describe('the sized-directory bypass (issue 13)', () => {
  it.each<[string, TarEntry]>([
    ['typeflag 5', { name: 'demo/templates/', type: '5', declaredSize: hidden.length, rawData: hidden }],
    [
      "typeflag '\\0' with a trailing slash",
      { name: 'demo/templates/', type: '\0', declaredSize: hidden.length, rawData: hidden },
    ],
  ])('refuses a directory whose size hides an entry Go reads (%s)', async (_what, directory) => {
    expect(await codeOf(chartWith(directory))).toBe('AmbiguousArchive');
  });

  it('refuses a directory sized by a pax record, and reads an honest directory', async () => {
    const pax: TarEntry = { name: 'PaxHeader', type: 'x', data: paxRecord('size', '512') };
    expect(await codeOf(chartWith(pax, { name: 'demo/templates/', type: '5' }))).toBe('AmbiguousArchive');
    expect(
      await filesOf(
        chartWith({ name: 'demo/templates/', type: '5' }, { name: 'demo/templates/a.yaml', data: 'a' }),
      ),
    ).toMatchObject({ 'templates/a.yaml': 'a' });
  });
});

describe('headers read as Go reads them', () => {
  it('reads numbers padded with NULs and spaces, base-256 sizes and signed checksums', async () => {
    const size = (field: string): TarEntry => ({
      name: 'demo/n.txt',
      data: 'hello',
      overwrite: [{ offset: 124, bytes: field }],
    });
    // Go trims NULs and spaces at both ends, then stops at a NUL: all of these are 5.
    for (const field of ['\0\0\0\0\0\0\0\0\0\0 5', ' 5  \0\0\0\0\0\0\0', '5\0 77\0\0\0\0\0\0\0']) {
      expect((await filesOf(chartWith(size(field))))['n.txt']).toBe('hello');
    }
    const base256 = Buffer.alloc(12);
    base256[0] = 0x80;
    base256[11] = 5;
    expect(
      (
        await filesOf(
          chartWith({ name: 'demo/b.txt', data: 'hello', overwrite: [{ offset: 124, bytes: base256 }] }),
        )
      )['b.txt'],
    ).toBe('hello');
    expect(
      (
        await filesOf(
          chartWith({
            name: 'demo/s.txt',
            data: 'x',
            overwrite: [{ offset: 265, bytes: Buffer.from([0xff, 0xfe]) }],
            checksum: 'signed',
          }),
        )
      )['s.txt'],
    ).toBe('x');
  });

  it("reads GNU and V7 headers without a prefix, '\\0' typeflags as files, and skips global headers", async () => {
    const files = await filesOf(
      chartWith(
        { name: 'demo/gnu.txt', magic: 'gnu', data: 'g' },
        { name: 'demo/v7.txt', magic: 'v7', data: 'v', overwrite: [{ offset: 345, bytes: 'ignored' }] },
        { name: 'demo/nul.txt', type: '\0', data: 'n' },
        { name: 'pax_global_header', type: 'g', data: paxRecord('comment', 'abc') },
        { name: 'pre.txt', prefix: 'demo/templates', data: 'p' },
      ),
    );
    expect(files).toMatchObject({ 'gnu.txt': 'g', 'v7.txt': 'v', 'nul.txt': 'n', 'templates/pre.txt': 'p' });
  });

  it('trims a leading UTF-8 BOM as helm does, and keeps the original bytes for helm', async () => {
    const archive = chartWith({ name: 'demo/templates/bom.yaml', data: '\ufeffkind: X\n' });
    const chart = await loadChartArchive(archive, defaultScanLimits);
    expect(chart.files.get('templates/bom.yaml')?.toString()).toBe('kind: X\n');
    expect(chart.archive).toBe(archive);
  });

  it('keeps the subcharts helm loads by their archive path', async () => {
    const sub = buildTgz(chartEntries('sub', { 's.yaml': 'kind: S\n' }));
    const level = await readChartArchive(
      chartWith(
        { name: 'demo/charts/sub-1.0.0.tgz', data: sub },
        { name: 'demo/charts/_ignored.tgz', data: 'x' },
      ),
      defaultScanLimits,
    );
    expect([...level.subcharts.keys()]).toEqual(['charts/sub-1.0.0.tgz']);
    expect(level.subcharts.get('charts/sub-1.0.0.tgz')?.files.get('templates/s.yaml')?.toString()).toBe(
      'kind: S\n',
    );
  });
});

const block = (fill: number): Buffer => Buffer.alloc(512, fill);
const withoutEnd = (entries: TarEntry[]): Buffer => buildTar(entries).subarray(0, -1024);
const longName = (name: string): TarEntry => ({ name: '././@LongLink', type: 'L', data: `${name}\0` });
const pax = (...records: [string, string][]): TarEntry => ({
  name: 'PaxHeader',
  type: 'x',
  data: records.map(([k, v]) => paxRecord(k, v)).join(''),
});
const file = (name: string, data = 'x'): TarEntry => ({ name, data });

describe('refusals, one code each', () => {
  it.each<[string, () => Buffer, ScanErrorCode]>([
    // AmbiguousArchive: readers could disagree
    [
      'a pax path and a GNU long name',
      () => chartWith(pax(['path', 'demo/a']), longName('demo/b'), file('demo/c')),
      'AmbiguousArchive',
    ],
    [
      'two pax headers for one entry',
      () => chartWith(pax(['path', 'demo/a']), pax(['path', 'demo/b']), file('demo/c')),
      'AmbiguousArchive',
    ],
    [
      'two GNU long names for one entry',
      () => chartWith(longName('demo/a'), longName('demo/b'), file('demo/c')),
      'AmbiguousArchive',
    ],
    ['an empty GNU long name', () => chartWith(longName(''), file('demo/c')), 'AmbiguousArchive'],
    [
      'a global header cutting off a pax header',
      () =>
        chartWith(
          pax(['path', 'demo/a']),
          { name: 'g', type: 'g', data: paxRecord('comment', 'x') },
          file('demo/c'),
        ),
      'AmbiguousArchive',
    ],
    [
      'a repeated pax key',
      () => chartWith(pax(['path', 'demo/a'], ['path', 'demo/b']), file('demo/c')),
      'AmbiguousArchive',
    ],
    ['an empty pax value', () => chartWith(pax(['path', '']), file('demo/c')), 'AmbiguousArchive'],
    ['a pax header with no entry after it', () => chartWith(pax(['path', 'demo/a'])), 'AmbiguousArchive'],
    [
      'an entry after the end marker',
      () =>
        gzipSync(
          Buffer.concat([buildTar(chartEntries()), tarEntry(file('demo/templates/x.yaml', privileged))]),
        ),
      'AmbiguousArchive',
    ],
    [
      'bytes after the last gzip member',
      () => Buffer.concat([buildTgz(chartEntries()), Buffer.alloc(16)]),
      'AmbiguousArchive',
    ],
    ['a star header', () => chartWith({ ...file('demo/s'), magic: 'star' }), 'AmbiguousArchive'],
    [
      'a GNU header whose times Go re-reads as a prefix',
      () => chartWith({ ...file('demo/g'), magic: 'gnu', overwrite: [{ offset: 345, bytes: 'templates' }] }),
      'AmbiguousArchive',
    ],
    [
      'a file whose mode says directory',
      () => chartWith({ ...file('demo/d'), mode: 0o40755 }),
      'AmbiguousArchive',
    ],
    [
      "a '0' file whose name ends with a slash",
      () => chartWith({ ...file('demo/templates/'), type: '0' }),
      'AmbiguousArchive',
    ],
    // InvalidArchive: Go fails the archive, or helm cannot load it
    ['a bad checksum', () => chartWith({ ...file('demo/a'), checksum: 'bad' }), 'InvalidArchive'],
    [
      'a mode that is not octal',
      () => chartWith({ ...file('demo/a'), overwrite: [{ offset: 100, bytes: '0000009\0' }] }),
      'InvalidArchive',
    ],
    [
      'a negative base-256 size',
      () => chartWith({ ...file('demo/a'), overwrite: [{ offset: 124, bytes: Buffer.alloc(12, 0xff) }] }),
      'InvalidArchive',
    ],
    [
      'a zero block followed by a header',
      () =>
        gzipSync(
          Buffer.concat([withoutEnd(chartEntries()), block(0), tarEntry(file('demo/x')), block(0), block(0)]),
        ),
      'InvalidArchive',
    ],
    [
      'a stream cut inside a block',
      () => gzipSync(withoutEnd(chartEntries()).subarray(0, -100)),
      'InvalidArchive',
    ],
    [
      'a malformed pax record',
      () => chartWith({ name: 'PaxHeader', type: 'x', data: '99 path=demo/a\n' }, file('demo/c')),
      'InvalidArchive',
    ],
    [
      'a pax mtime Go cannot parse',
      () => chartWith(pax(['mtime', 'yesterday']), file('demo/c')),
      'InvalidArchive',
    ],
    ['entries under two top directories', () => chartWith(file('other/templates/x.yaml')), 'InvalidArchive'],
    [
      'a top directory named Chart.yaml (helm fails on it)',
      () => buildTgz([file('Chart.yaml/Chart.yaml', 'name: x\n')]),
      'InvalidArchive',
    ],
    [
      'a plain file in charts/ (helm fails on it)',
      () => chartWith(file('demo/charts/README.md')),
      'InvalidArchive',
    ],
    [
      'a vendored subchart without Chart.yaml',
      () => chartWith(file('demo/charts/sub/values.yaml')),
      'InvalidArchive',
    ],
    // UnsupportedEntry: types that are not files or directories, or that readers keep differently
    ['a contiguous file (7)', () => chartWith({ ...file('demo/c'), type: '7' }), 'UnsupportedEntry'],
    [
      'a GNU long link name',
      () => chartWith({ name: '././@LongLink', type: 'K', data: 'x' }, file('demo/c')),
      'UnsupportedEntry',
    ],
    [
      'an unknown typeflag Go reads as a file',
      () => chartWith({ ...file('demo/c'), type: 'A' }),
      'UnsupportedEntry',
    ],
    [
      'a pax sparse file',
      () => chartWith(pax(['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0']), file('demo/c')),
      'UnsupportedEntry',
    ],
    // UnsafePath: names readers could resolve differently
    [
      'a name that is not UTF-8',
      () => chartWith({ ...file('demo/x'), overwrite: [{ offset: 5, bytes: Buffer.from([0xc3, 0x28]) }] }),
      'UnsafePath',
    ],
    ['an empty segment', () => chartWith(file('demo//templates/x.yaml')), 'UnsafePath'],
    ['a "." segment', () => chartWith(file('./demo/templates/x.yaml')), 'UnsafePath'],
    ['a name helm reads as a parent reference', () => chartWith(file('demo/..x')), 'UnsafePath'],
    ['a drive-letter path under the top directory', () => chartWith(file('demo/c:/x')), 'UnsafePath'],
    ['a file inside a file', () => chartWith(file('demo/a'), file('demo/a/b')), 'UnsafePath'],
    [
      'a file and a directory of one name',
      () => chartWith({ name: 'demo/a/', type: '5' }, file('demo/a')),
      'UnsafePath',
    ],
    ['a file listed twice', () => chartWith(file('demo/a', '1'), file('demo/a', '2')), 'UnsafePath'],
    // ArchiveTooLarge
    [
      'a pax header above 64 KiB',
      () => chartWith(pax(['comment', 'x'.repeat(70_000)]), file('demo/c')),
      'ArchiveTooLarge',
    ],
  ])('refuses %s', async (_what, build, code) => {
    expect(await codeOf(build())).toBe(code);
  });
});

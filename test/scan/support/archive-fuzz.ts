// fast-check arbitraries that turn real chart archives into hostile ones: entries inserted, duplicated,
// dropped or swapped; header fields rewritten (numbers padded with NULs, base-256, magic, mode, typeflag,
// checksum); pax and GNU long-name overrides; directories whose size swallows the next entry; data after
// the end marker; a cut stream; split or padded gzip members. Used by the archive differential test.
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { paxRecord, tarEntry, tarHeader, type TarEntry, type TarMagic } from './tar-builder.ts';

const BLOCK = 512;

/** A seed archive cut into its entries (header + padded data each), as a well-formed writer made it. */
export interface SeedArchive {
  readonly label: string;
  readonly top: string;
  readonly entries: readonly Buffer[];
}

/** Splits a well-formed .tgz (helm's, or the tar builder's) into entries; stops at the end marker. */
export const splitSeed = (label: string, tgz: Buffer): SeedArchive => {
  const tar = gunzipSync(tgz);
  const entries: Buffer[] = [];
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const typeflag = String.fromCharCode(header[156] ?? 0);
    const dataBlocks = ['1', '2', '3', '4', '5', '6'].includes(typeflag) ? 0 : Math.ceil(size / BLOCK);
    const length = BLOCK + dataBlocks * BLOCK;
    entries.push(Buffer.from(tar.subarray(offset, offset + length)));
    offset += length;
  }
  const first = entries.find((e) => e[156] !== 0x78 && e[156] !== 0x67) ?? Buffer.from('x/');
  const top = first.toString('utf8', 0, 100).replace(/\0.*$/s, '').split('/')[0] ?? 'x';
  return { label, top, entries };
};

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

/** Picks a value with the given weights (common shapes often, hostile ones regularly). */
const weighted = <T>(...choices: [number, T][]): fc.Arbitrary<T> =>
  fc.oneof(...choices.map(([weight, value]) => ({ weight, arbitrary: fc.constant(value) })));

/** Entry names with `{top}` for the seed's top directory: the shapes readers resolve differently. */
const NAMES = [
  '{top}/templates/evil.yaml',
  '{top}/templates/',
  '{top}/values.yaml',
  '{top}/Chart.yaml',
  '{top}/templates/deployment.yaml',
  '{top}/templates',
  '{top}/',
  '{top}',
  'other/templates/x.yaml',
  './{top}/templates/x.yaml',
  '/{top}/templates/x.yaml',
  '{top}//templates/x.yaml',
  '{top}/templates/../x.yaml',
  '{top}/./templates/x.yaml',
  '{top}\\templates\\x.yaml',
  '{top}/..x',
  '{top}/c:/x',
  '{top}/charts/README.md',
  '{top}/charts/sub/values.yaml',
  '{top}/charts/_skip/x',
  '{top}/charts/x.prov',
  `{top}/templates/${'l'.repeat(120)}.yaml`,
  '{top}/templates/ünïcode.yaml',
  'Chart.yaml',
  '..',
];

const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NAMES) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '{top}/templates/new.yaml',
      '{top}/files/a.txt',
      '{top}/templates/sub/b.yaml',
      '{top}/README.md',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => `{top}/${s}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

const typeflagArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('0') },
  { weight: 3, arbitrary: fc.constantFrom('\0', '5') },
  { weight: 4, arbitrary: fc.constantFrom('1', '2', '3', '4', '6', '7', 'x', 'g', 'L', 'K', 'S', 'A', 'V') },
);

const PAX_VALUES: Record<string, readonly string[]> = {
  path: ['{top}/templates/evil.yaml', '{top}/templates/', '{top}/values.yaml', '../x', '', 'a\u0000b'],
  size: ['0', '5', '512', '1024', '+5', '-1', '007', '99999999999999999999', 'x', ''],
  mtime: ['1700000000', '1700000000.5', '-1', 'yesterday', ''],
  uid: ['0', '-1', 'x'],
  comment: ['hello', ''],
  linkpath: ['/etc/passwd'],
  'GNU.sparse.major': ['1', '2'],
  'GNU.sparse.name': ['{top}/templates/evil.yaml'],
  'SCHILY.xattr.user.x': ['y'],
};

const paxArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc
          .constantFrom(...Object.keys(PAX_VALUES))
          .chain((key) =>
            fc.constantFrom(...(PAX_VALUES[key] ?? [''])).map((value) => paxRecord(key, value)),
          ),
        { minLength: 1, maxLength: 3 },
      )
      .map((records) => records.join('')),
  },
  // Malformed records: a length that lies, no newline, no '='.
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '99 path=x\n',
      '5 a=b',
      '12 path:x\n',
      '0 =\n',
      '+12 path=x\n',
      '012 path=xy\n',
    ),
  },
);

const dataArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(privileged),
  fc.constant('kind: ConfigMap\n'),
  fc.constant('\ufeffkind: X\n'),
  fc.string({ maxLength: 20 }),
);

/** A header field rewritten to a value Go and naive readers parse differently. */
const FIELDS = {
  mode: [100, 8],
  uid: [108, 8],
  size: [124, 12],
  mtime: [136, 12],
  typeflag: [156, 1],
  magic: [257, 8],
  devmajor: [329, 8],
  prefix: [345, 155],
  name: [0, 100],
} as const;

const fieldValueArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      '\0\0\0\0\0\0\0\0\0\0 1',
      ' 1000\0',
      '1000 ',
      '00000001000\0',
      '\0',
      '',
      '0000009\0',
      '040755\0',
      '0100644\0',
      'ustar\0',
      'ustar  \0',
      'ustar\u000001',
      '5',
      '0',
      'x',
      'L',
      'templates',
    )
    .map((s) => Buffer.from(s, 'latin1')),
  fc.constant(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0])),
  fc.constant(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((a) => Buffer.from(a)),
);

const entryArb = (top: string): fc.Arbitrary<Buffer> =>
  fc
    .record({
      name: nameArb,
      type: typeflagArb,
      data: dataArb,
      pax: paxArb,
      sizeDelta: fc.oneof(
        { weight: 14, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -600, max: 1100 }) },
      ),
      magic: weighted<TarMagic>([10, 'ustar'], [2, 'gnu'], [2, 'v7'], [1, 'star']),
      mode: weighted([10, 0o644], [1, 0o755], [1, 0o40755], [1, 0o100644]),
      checksum: weighted<'unsigned' | 'signed' | 'bad'>([12, 'unsigned'], [2, 'signed'], [1, 'bad']),
    })
    .map(({ name, type, data, pax, sizeDelta, magic, mode, checksum }) => {
      const named = name.replaceAll('{top}', top);
      const body =
        type === 'x' || type === 'g'
          ? pax.replaceAll('{top}', top)
          : type === 'L' || type === 'K'
            ? `${named}\0`
            : data;
      const entry: TarEntry = {
        name: type === 'L' || type === 'K' ? '././@LongLink' : named,
        type,
        data: body,
        magic,
        mode,
        checksum,
      };
      const size = Buffer.byteLength(body);
      return sizeDelta === 0
        ? tarEntry(entry)
        : tarEntry({ ...entry, declaredSize: Math.max(0, size + sizeDelta) });
    });

/** A directory whose declared size covers the entry after it: Go reads that entry, a naive reader skips it. */
const sizedDirectoryArb = (top: string): fc.Arbitrary<Buffer> =>
  fc
    .record({ hidden: entryArb(top), flag: fc.constantFrom('5', '\0'), pax: fc.boolean() })
    .map(({ hidden, flag, pax }) => {
      const directory = { name: `${top}/templates/`, type: flag, rawData: hidden };
      if (!pax) return tarEntry({ ...directory, declaredSize: hidden.length });
      return Buffer.concat([
        tarEntry({ name: 'PaxHeader', type: 'x', data: paxRecord('size', String(hidden.length)) }),
        tarEntry(directory),
      ]);
    });

type Mutation = (entries: Buffer[]) => Buffer[];

const at = (entries: readonly Buffer[], index: number): number =>
  entries.length === 0 ? 0 : index % (entries.length + 1);

const mutationArb = (top: string): fc.Arbitrary<Mutation> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fc.nat(), entryArb(top)).map(
        ([i, e]): Mutation =>
          (es) =>
            es.toSpliced(at(es, i), 0, e),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(), sizedDirectoryArb(top)).map(
        ([i, e]): Mutation =>
          (es) =>
            es.toSpliced(at(es, i), 0, e),
      ),
    },
    {
      // An override header (pax or GNU long name) in front of an existing entry.
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.nat(),
          fc.oneof(
            paxArb.map((p) => ({ name: 'PaxHeader', type: 'x', data: p.replaceAll('{top}', top) })),
            nameArb.map((n) => ({
              name: '././@LongLink',
              type: 'L',
              data: `${n.replaceAll('{top}', top)}\0`,
            })),
          ),
        )
        .map(
          ([i, e]): Mutation =>
            (es) =>
              es.toSpliced(at(es, i), 0, tarEntry(e)),
        ),
    },
    {
      weight: 1,
      arbitrary: fc.nat().map(
        (i): Mutation =>
          (es) =>
            es.length === 0 ? es : es.toSpliced(i % es.length, 1),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.nat().map(
        (i): Mutation =>
          (es) =>
            es.length === 0 ? es : es.toSpliced(i % es.length, 0, es[i % es.length] ?? Buffer.alloc(0)),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(), fc.nat()).map(([i, j]): Mutation => (es) => {
        if (es.length < 2) return es;
        const out = [...es];
        const [a, b] = [i % es.length, j % es.length];
        [out[a], out[b]] = [out[b] ?? Buffer.alloc(0), out[a] ?? Buffer.alloc(0)];
        return out;
      }),
    },
    {
      // One header field rewritten, the checksum recomputed (or not).
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.nat(),
          fc.constantFrom(...(Object.keys(FIELDS) as (keyof typeof FIELDS)[])),
          fieldValueArb,
          weighted([6, true], [1, false]),
        )
        .map(([i, field, value, fix]): Mutation => (es) => {
          if (es.length === 0) return es;
          const index = i % es.length;
          const entry = Buffer.from(es[index] ?? Buffer.alloc(BLOCK));
          const [offset, length] = FIELDS[field];
          entry.fill(0, offset, offset + length);
          value.copy(entry, offset, 0, Math.min(length, value.length));
          if (fix) {
            entry.fill(0x20, 148, 156);
            let sum = 0;
            for (let k = 0; k < BLOCK; k++) sum += entry[k] ?? 0;
            entry.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
          }
          return es.toSpliced(index, 1, entry);
        }),
    },
  );

/** How the tar stream ends: the usual marker, or none, or data after it, or a cut. */
const ENDINGS = [
  'marker',
  'marker',
  'marker',
  'none',
  'one-zero-block',
  'zeros-after',
  'garbage-after',
  'entry-after',
  'cut',
  'zero-then-entry',
] as const;
/** How the tar stream is gzip'd. */
const WRAPS = [
  'one-member',
  'one-member',
  'one-member',
  'two-members',
  'trailing-zeros',
  'trailing-garbage',
] as const;

export interface FuzzCase {
  readonly label: string;
  readonly archive: Buffer;
}

/**
 * A packaged subchart added under charts/: another seed with at most one mutation of its own, gzip'd, so
 * the nested archives helm loads with LoadArchive get the same treatment.
 */
const nestedMutationArb = (seeds: readonly SeedArchive[], top: string): fc.Arbitrary<Mutation> =>
  fc.tuple(fc.nat(), fc.constantFrom(...seeds)).chain(([i, inner]) =>
    fc.array(mutationArb(inner.top), { maxLength: 1 }).map((mutations): Mutation => {
      const entries = mutations.reduce<Buffer[]>((es, m) => m(es), [...inner.entries]);
      const archive = gzipSync(Buffer.concat([...entries, Buffer.alloc(2 * BLOCK)]));
      const entry = tarEntry({ name: `${top}/charts/${inner.top}-9.9.9.tgz`, data: archive });
      return (es) => es.toSpliced(at(es, i), 0, entry);
    }),
  );

export const fuzzCaseArb = (seeds: readonly SeedArchive[]): fc.Arbitrary<FuzzCase> =>
  fc.constantFrom(...seeds).chain((seed) =>
    fc
      .record({
        mutations: fc.array(
          fc.oneof(
            { weight: 6, arbitrary: mutationArb(seed.top) },
            { weight: 1, arbitrary: nestedMutationArb(seeds, seed.top) },
          ),
          { minLength: 1, maxLength: 2 },
        ),
        ending: fc.oneof(
          { weight: 12, arbitrary: fc.constant(ENDINGS[0]) },
          { weight: 6, arbitrary: fc.constantFrom(...ENDINGS) },
        ),
        wrap: fc.oneof(
          { weight: 12, arbitrary: fc.constant(WRAPS[0]) },
          { weight: 4, arbitrary: fc.constantFrom(...WRAPS) },
        ),
        cut: fc.integer({ min: 1, max: 700 }),
        split: fc.nat(),
      })
      .map(({ mutations, ending, wrap, cut, split }) => {
        const entries = mutations.reduce<Buffer[]>((es, m) => m(es), [...seed.entries]);
        const body = Buffer.concat(entries);
        const zero = Buffer.alloc(BLOCK);
        const tail = {
          marker: [zero, zero],
          none: [],
          'one-zero-block': [zero],
          'zeros-after': [zero, zero, zero, zero],
          'garbage-after': [zero, zero, Buffer.alloc(BLOCK, 0x41)],
          'entry-after': [
            zero,
            zero,
            tarEntry({ name: `${seed.top}/templates/after.yaml`, data: privileged }),
            zero,
            zero,
          ],
          cut: [],
          'zero-then-entry': [zero, tarHeader({ name: `${seed.top}/x` }, 0), zero, zero],
        }[ending];
        let tar = Buffer.concat([body, ...tail]);
        if (ending === 'cut') tar = tar.subarray(0, Math.max(0, tar.length - cut));
        const at = tar.length === 0 ? 0 : split % tar.length;
        const archive = {
          'one-member': () => gzipSync(tar),
          'two-members': () => Buffer.concat([gzipSync(tar.subarray(0, at)), gzipSync(tar.subarray(at))]),
          'trailing-zeros': () => Buffer.concat([gzipSync(tar), Buffer.alloc(8)]),
          'trailing-garbage': () => Buffer.concat([gzipSync(tar), Buffer.from('garbage')]),
        }[wrap]();
        return { label: `${seed.label}, ${mutations.length} mutation(s), ${ending}, ${wrap}`, archive };
      }),
  );

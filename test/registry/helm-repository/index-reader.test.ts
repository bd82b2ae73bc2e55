// index.yaml read as helm's loadIndex reads it, or refused with a code where helm could read it otherwise.
import { describe, expect, it } from 'vitest';
import { readIndex, type HelmIndex } from '../../../src/registry/helm-repository/index-reader.ts';
import { HelmRepositoryError } from '../../../src/registry/helm-repository/errors.ts';

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    if (error instanceof HelmRepositoryError) return error.code;
    throw error;
  }
};

/** Everything an index answers: names, skipped, and each chart's entries or refusal code. */
const outcome = (work: () => HelmIndex): unknown => {
  let index: HelmIndex;
  try {
    index = work();
  } catch (error) {
    if (error instanceof HelmRepositoryError) return error.code;
    throw error;
  }
  return {
    names: index.chartNames,
    skipped: index.skipped,
    charts: index.chartNames.map((n) => {
      try {
        return index.chart(n);
      } catch (error) {
        return (error as HelmRepositoryError).code;
      }
    }),
  };
};

/** Reads an index chart by chart (helm's layout) and whole, and checks both readings agree. */
const read = (text: string, charts?: readonly string[]): HelmIndex => {
  const options = charts ? { charts: new Set(charts) } : {};
  const whole = outcome(() => readIndex(Buffer.from(text), { ...options, split: false }));
  expect(outcome(() => readIndex(Buffer.from(text), options))).toEqual(whole);
  return readIndex(Buffer.from(text), options);
};

const entry = (version: string, extra = ''): string =>
  `  - name: payment\n    version: ${version}\n    digest: ${D1}\n    urls: [payment-${version}.tgz]\n${extra}`;

const index = (...entries: string[]): string => `apiVersion: v1\nentries:\n  payment:\n${entries.join('')}`;

describe('readIndex', () => {
  it('reads what helm repo index writes, newest version first (helm SortEntries)', () => {
    const idx = read(index(entry('1.0.0'), entry('2.0.0-rc.1'), entry('1.10.0'), entry('2.0.0')));
    expect(idx.apiVersion).toBe('v1');
    expect(idx.chart('payment').map((e) => e.version)).toEqual(['2.0.0', '2.0.0-rc.1', '1.10.0', '1.0.0']);
    expect(idx.version('payment', '1.10.0')).toMatchObject({
      name: 'payment',
      digest: D1,
      urls: ['payment-1.10.0.tgz'],
      apiVersion: 'v1',
      deprecated: false,
    });
  });

  it('reads the JSON form helm also accepts', () => {
    const json = JSON.stringify({
      apiVersion: 'v1',
      entries: {
        payment: [{ name: 'payment', version: '1.0.0', digest: D2, urls: ['p.tgz'], deprecated: true }],
      },
    });
    expect(read(json).version('payment', '1.0.0')).toMatchObject({ digest: D2, deprecated: true });
  });

  it('reads YAML 1.1 booleans as go-yaml v2 does (deprecated: yes is true)', () => {
    expect(read(index(entry('1.0.0', '    deprecated: yes\n'))).version('payment', '1.0.0').deprecated).toBe(
      true,
    );
  });

  it('drops the entries helm drops on load and counts them', () => {
    const idx = read(
      index(
        entry('1.0.0'),
        entry('not-a-version'),
        '  - null\n',
        entry('1.1.0', '    type: plugin\n'),
        '  - version: 1.2.0\n    urls: [x.tgz]\n',
      ),
    );
    expect(idx.chart('payment').map((e) => e.version)).toEqual(['1.0.0']);
    expect(idx.skipped).toBe(3); // What Argo CD's own read of the index still lists (src/sources/argocd/helm-http-version.ts).
    expect(idx.droppedVersions('payment')).toEqual(['not-a-version', '1.1.0', '1.2.0']);
    expect(idx.droppedVersions('other')).toEqual([]);
  });

  it('keeps a malformed digest out of `digest` (the fetch then refuses it) but shows it raw', () => {
    const idx = read(
      `apiVersion: v1\nentries:\n  payment:\n  - name: payment\n    version: 1.0.0\n    digest: sha256:${D1}\n    urls: [p.tgz]\n`,
    );
    expect(idx.version('payment', '1.0.0')).toMatchObject({ digest: undefined, rawDigest: `sha256:${D1}` });
  });

  it('keeps only the charts asked for; the others are named but not read', () => {
    const text = `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0')}  other:\n  - name: other\n    version: 1.0.0\n    urls: [o.tgz]\n`;
    const idx = read(text, ['payment']);
    expect(idx.chartNames).toEqual(['payment', 'other']);
    expect(idx.chart('payment')).toHaveLength(1);
    expect(codeOf(() => idx.chart('other'))).toBe('ChartNotFound');
    expect(codeOf(() => idx.chart('missing'))).toBe('ChartNotFound');
    expect(codeOf(() => idx.version('payment', '9.9.9'))).toBe('ChartNotFound');
  });

  it.each([
    ['a duplicate key (helm UnmarshalStrict fails)', index(entry('1.0.0', `    digest: ${D2}\n`))],
    [
      'a duplicate chart',
      `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0')}  payment:\n${entry('1.0.1')}`,
    ],
    ['an anchor and alias', `apiVersion: v1\nentries:\n  payment: &a\n${entry('1.0.0')}  other: *a\n`],
    ['a merge key', index(`  - <<: {name: payment}\n    version: 1.0.0\n    urls: [p.tgz]\n`)],
    ['a tag', index(entry('1.0.0', '    description: !!str x\n'))],
    ['two documents', `${index(entry('1.0.0'))}---\n${index(entry('2.0.0'))}`],
    [
      'a key in another case (encoding/json matches it to Digest)',
      index(entry('1.0.0', `    Digest: ${D2}\n`)),
    ],
    ['an unknown field', index(entry('1.0.0', '    chartDigest: x\n'))],
    ['an unknown top-level field', `apiVersion: v1\nextra: 1\nentries: {}\n`],
    ['a YAML directive', `%YAML 1.1\n---\n${index(entry('1.0.0'))}`],
    ['a non-string key', `apiVersion: v1\nentries:\n  yes:\n${entry('1.0.0')}`],
  ])('refuses the whole index with %s', (_why, text) => {
    expect(codeOf(() => read(text))).toBe('UnsupportedIndex');
  });

  it.each([
    ['no apiVersion', 'entries: {}\n'],
    ['no entries', 'apiVersion: v1\n'],
    ['an empty file', ''],
    ['a list', '- a\n'],
    ['an entry that is a string', `apiVersion: v1\nentries:\n  payment:\n  - oops\n`],
    ['a broken YAML', 'apiVersion: v1\nentries: {a: [}\n'],
  ])('refuses an index with %s as invalid', (_why, text) => {
    expect(codeOf(() => read(text))).toBe('InvalidIndex');
  });

  it.each([
    ['two entries of one version', index(entry('1.0.0'), entry('1.0.0'))],
    ['two entries equal as semver (v prefix)', index(entry('1.0.0'), entry('v1.0.0'))],
    ['two entries equal as semver (build metadata)', index(entry('1.0.0+a'), entry('1.0.0+b'))],
    [
      'an entry naming another chart',
      index(entry('1.0.0'), '  - name: other\n    version: 2.0.0\n    urls: [o.tgz]\n'),
    ],
    [
      'a version that is a number (sigs.k8s.io/yaml makes 1.10 "1.1")',
      index('  - name: payment\n    version: 1.10\n    urls: [p.tgz]\n'),
    ],
    [
      'a digest that is a number',
      index(`  - name: payment\n    version: 1.0.0\n    digest: 123\n    urls: [p.tgz]\n`),
    ],
    ['a URL that is not a string', index('  - name: payment\n    version: 1.0.0\n    urls: [1]\n')],
    ['deprecated as a string', index(entry('1.0.0', '    deprecated: "true"\n'))],
  ])('refuses the chart with %s, other charts stay readable', (_why, text) => {
    const idx = read(`${text}  other:\n  - name: other\n    version: 1.0.0\n    urls: [o.tgz]\n`);
    expect(codeOf(() => idx.chart('payment'))).toBe('UnsupportedChartEntry');
    expect(idx.chart('other')).toHaveLength(1);
  });

  it('refuses a chart name helm would rewrite (a tab becomes a space in sanitizeString)', () => {
    const idx = read(
      `apiVersion: v1\nentries:\n  "pay\\tment":\n  - name: "pay\\tment"\n    version: 1.0.0\n    urls: [p.tgz]\n`,
    );
    expect(codeOf(() => idx.chart('pay\tment'))).toBe('UnsupportedChartEntry');
  });

  it.each([
    [
      'a multi-line quoted scalar holding a chart key line',
      index(entry('1.0.0', '    description: "a\n  other:\n  b"\n')),
    ],
    ['a block scalar', index(entry('1.0.0', '    description: |\n      other:\n      b\n'))],
    [
      'a comment between charts',
      `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0')}# c\n  other:\n  - name: other\n    version: 1.0.0\n`,
    ],
    [
      'a top-level key after the entries',
      `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0')}generated: "2026-01-01T00:00:00Z"\n`,
    ],
    [
      'entries inside a top-level flow mapping',
      `apiVersion: v1\nannotations: {a: b,\nentries:\n  x: y}\nentries: {}\n`,
    ],
    ['a flow chart value', `apiVersion: v1\nentries:\n  payment: [{name: payment, version: 1.0.0}]\n`],
    [
      'a chart key twice in two pieces',
      `apiVersion: v1\nentries:\n  payment:\n${entry('1.0.0')}  payment:\n${entry('2.0.0')}`,
    ],
    ['CRLF line ends', index(entry('1.0.0')).replaceAll('\n', '\r\n')],
  ])('reads the same chart by chart as whole: %s', (_why, text) => {
    // read() compares both readings; the outcome itself (entries or a refusal) is what it is.
    codeOf(() => read(text));
  });

  it('parses an index in helm layout chart by chart: each parse stays under the per-parse cap', () => {
    const charts = Array.from(
      { length: 8 },
      (_, i) => `  c${i}:\n${entry('1.0.0').replaceAll('payment', `c${i}`)}`,
    );
    const text = `apiVersion: v1\nentries:\n${charts.join('')}`;
    const limits = { maxNodes: 10_000, maxDocumentNodes: 40, maxDepth: 32 };
    expect(readIndex(Buffer.from(text), { limits }).chartNames).toHaveLength(8);
    expect(codeOf(() => readIndex(Buffer.from(text), { limits, split: false }))).toBe('IndexTooLarge');
    // A refusal inside one piece is the answer when the whole is too large to parse at once.
    const dup = text.replace('    version: 1.0.0\n', '    version: 1.0.0\n    version: 1.0.1\n');
    expect(codeOf(() => readIndex(Buffer.from(dup), { limits }))).toBe('UnsupportedIndex');
  });

  it('stops a dense index before parsing it', () => {
    const text = `apiVersion: v1\nentries: {a: [${'{},'.repeat(50_000)}]}\n`;
    expect(
      codeOf(() =>
        readIndex(Buffer.from(text), {
          limits: { maxNodes: 10_000, maxDocumentNodes: 10_000, maxDepth: 32 },
        }),
      ),
    ).toBe('IndexTooLarge');
  });

  it('refuses a nesting deeper than the limit', () => {
    const text = `apiVersion: v1\nentries:\n  payment:\n  - name: payment\n    version: 1.0.0\n    annotations: ${'['.repeat(40)}${']'.repeat(40)}\n`;
    expect(codeOf(() => read(text))).toBe('IndexTooLarge');
  });
});

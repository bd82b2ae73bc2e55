// Cross-checks src/registry/semver.ts against Flux's own semver code: the semver-oracle tool
// (scripts/tools/semver-oracle, built by scripts/testbin.sh with Masterminds/semver and fluxcd/pkg/version at
// the versions source-controller v1.9.2 pins) answers which tag Flux's OCIRepository would pick. Generated
// cases (seeded, reproducible) and hand-picked odd ones go through both; every answer must agree.
import { describe, expect, it } from 'vitest';
import { selectTag } from '../../../src/registry/semver.ts';
import { RegistryError } from '../../../src/registry/errors.ts';
import { runTool } from '../../env/run-tool.ts';

interface SemverCase {
  constraint: string;
  tags: string[];
}

interface OracleAnswer {
  tag?: string;
  error?: 'constraint' | 'filter' | 'no-match';
  detail?: string;
  tied?: string[];
  matching: number;
}

type Outcome = { tag: string } | { error: 'constraint' | 'no-match' };

const HAND_PICKED: SemverCase[] = [
  { constraint: '*', tags: ['1.0.0', '2.1', 'v3', 'latest', '1.5.0'] },
  { constraint: '', tags: ['1.0.0'] },
  { constraint: '   ', tags: ['1.0.0'] },
  { constraint: '1.x', tags: ['1.0.0', '1.9.9', '2.0.0', '1.10.0-rc.1'] },
  { constraint: '1.X', tags: ['1.0.0', '1.9.9', '2.0.0'] },
  { constraint: '1.*', tags: ['1.0.0', '1.9.9', '2.0.0'] },
  { constraint: '~1.2', tags: ['1.2.0', '1.2.9', '1.3.0', 'v1.2.10'] },
  { constraint: '~1', tags: ['1.2.0', '1.9.0', '2.0.0'] },
  { constraint: '~0.0.0', tags: ['0.0.0', '0.5.0', '3.0.0'] },
  { constraint: '^0.0.1', tags: ['0.0.1', '0.0.2', '0.1.0'] },
  { constraint: '^0.0', tags: ['0.0.1', '0.0.9', '0.1.0'] },
  { constraint: '^0', tags: ['0.0.1', '0.9.0', '1.0.0'] },
  { constraint: '^0.2.3', tags: ['0.2.3', '0.2.9', '0.3.0'] },
  { constraint: '^1.2.3-beta.2', tags: ['1.2.3-beta.1', '1.2.3-beta.3', '1.2.4-alpha', '1.9.0'] },
  { constraint: '>=1.0.0 <2.0.0 || 3.x', tags: ['1.5.0', '2.5.0', '3.2.0', '4.0.0'] },
  { constraint: '>=1.0.0 <2.0.0 || 3.x', tags: ['1.5.0', '2.5.0', '4.0.0'] },
  { constraint: '>=1.0.0,<2.0.0', tags: ['1.5.0', '2.5.0'] },
  { constraint: '>=1.0.0 , <2.0.0', tags: ['1.5.0', '2.5.0'] },
  { constraint: '>=1.0.0,,<2.0.0', tags: ['1.5.0'] },
  { constraint: '>= 1.0.0', tags: ['1.5.0', '0.5.0'] },
  { constraint: '> = 1.0.0', tags: ['1.5.0'] },
  { constraint: '=>1.0.0 =<1.5.0', tags: ['1.5.0', '1.5.1', '0.9.0'] },
  { constraint: '1.0.0 - 1.2.3', tags: ['1.2.3', '1.2.4', '0.9.9'] },
  { constraint: '1.0 - 1.2', tags: ['1.2.9', '1.3.0'] },
  { constraint: '1.x - 2.x', tags: ['2.9.0', '3.0.0', '0.9.0'] },
  { constraint: '>=1.0.0 - 2.0.0', tags: ['1.5.0'] },
  { constraint: '1.0.0 - 2.0.0 || 1.0.0 - 2.0.0', tags: ['2.0.0', '2.0.1'] },
  { constraint: '<=*', tags: ['0.0.0', '0.0.7', '0.5.0', '1.0.0'] },
  { constraint: '>*', tags: ['0.0.0', '0.0.1'] },
  { constraint: '<*', tags: ['0.0.0', '1.0.0'] },
  { constraint: '!=*', tags: ['0.0.0', '1.0.0'] },
  { constraint: '!=1.x', tags: ['1.0.0', '1.5.0', '2.0.0'] },
  { constraint: '!=1.2', tags: ['1.2.0', '1.2.5', '1.3.0'] },
  { constraint: '!=1.2-rc', tags: ['1.2.0-rc', '1.2.5-rc', '1.2.5'] },
  { constraint: '>1.2', tags: ['1.2.9', '1.3.0', '1.2.10'] },
  { constraint: '>1', tags: ['1.9.0', '2.0.0'] },
  { constraint: '<=1.2', tags: ['1.2.9', '1.3.0'] },
  { constraint: '<1.2', tags: ['1.1.9', '1.2.0'] },
  { constraint: 'v1.2.3', tags: ['1.2.3', 'v1.2.3'] },
  { constraint: '=1.2.3', tags: ['v1.2.3', '1.2.3'] },
  { constraint: '1.2.3+build.5', tags: ['1.2.3+other', '1.2.3'] },
  { constraint: '1.2.3+bu_ild', tags: ['1.2.3'] },
  { constraint: '>=1.0.0', tags: ['1.0.0+a', '1.0.0+b', 'v1.0.0'] },
  { constraint: '>=1.0.0', tags: ['01.02.03', '1.2.3', '1.2.4'] },
  { constraint: '>=1.0.0', tags: ['1.0.0-01', '1.0.0-0a', '1.0.0'] },
  { constraint: '>=1.0.0-0', tags: ['1.0.0-01', '1.0.0-0a', '1.0.0-1'] },
  { constraint: '>=0.0.0-0', tags: ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.11'] },
  { constraint: '>=0.0.0-0', tags: ['1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1'] },
  { constraint: '>=0.0.0-0', tags: ['1.0.0-18446744073709551616', '1.0.0-18446744073709551615'] },
  { constraint: '>=0.0.0-0', tags: ['1.0.0-a-b', '1.0.0-a.b', '1.0.0-a'] },
  { constraint: '*', tags: ['18446744073709551615.0.0', '18446744073709551616.0.0', '9007199254740993.0.0'] },
  { constraint: '*', tags: ['9007199254740993.0.0', '9007199254740992.0.0'] },
  { constraint: '>=18446744073709551615.0.0', tags: ['18446744073709551615.0.0'] },
  { constraint: '>=18446744073709551616.0.0', tags: ['18446744073709551615.0.0'] },
  { constraint: '*', tags: ['1.2', '1', 'v1', '1.2-rc.1.0', '1-a.b.c'] },
  { constraint: '>=0.0.0-0', tags: ['1.2', '1', 'v1', '1.2-rc.1.0', '1-a.b.c'] },
  { constraint: '*', tags: ['V1.2.3', '1.2.3.4', '1.2.3_build', 'sha256-abc.sig', '1.2.3-'] },
  { constraint: '>=1.0.0-rc.1 <1.0.0', tags: ['1.0.0-rc.0', '1.0.0-rc.2', '1.0.0'] },
  { constraint: '>=1.0.0 || >=2.0.0-0', tags: ['1.5.0', '2.0.0-rc.1'] },
  { constraint: '1.2.3-rc.1', tags: ['1.2.3-rc.1', '1.2.3'] },
  { constraint: 'x.1.2', tags: ['3.0.0'] },
  { constraint: '1.xx', tags: ['1.0.0'] },
  { constraint: '1|2', tags: ['1.0.0'] },
  { constraint: '1 ||| 2', tags: ['1.0.0'] },
  { constraint: '>=banana', tags: ['1.0.0'] },
  { constraint: 'latest', tags: ['1.0.0'] },
  { constraint: '>=1.0.0-01', tags: ['1.0.0'] },
  { constraint: '~>1.2.0', tags: ['1.2.5', '1.3.0'] },
  { constraint: '\t>=1.0.0\n', tags: ['1.0.0'] },
  { constraint: '\v>=1.0.0', tags: ['1.0.0'] },
  { constraint: `${'1.0.0 || '.repeat(32)}1.0.0`, tags: ['1.0.0'] },
  { constraint: `${'1.0.0 || '.repeat(31)}1.0.0`, tags: ['1.0.0'] },
  { constraint: `>=1.0.0 ${' '.repeat(600)}`, tags: ['1.0.0'] },
  {
    // More than 12 matches with ties: Go's sort is no longer insertion sort (see the tie rule below).
    constraint: '*',
    tags: [
      '1.0.0',
      'v1.0.0',
      '1.0.0+a',
      '0.1.0',
      '0.2.0',
      '0.3.0',
      '0.4.0',
      '0.5.0',
      '0.6.0',
      '0.7.0',
    ].concat(['0.8.0', '0.9.0', '0.10.0', 'v1.0.0+b']),
  },
];

/** mulberry32: a small seeded generator, so a failure is reproducible. */
const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const generateCases = (count: number, seed: number): SemverCase[] => {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number): boolean => random() < p;
  const num = (): string => pick(['0', '1', '2', '3', '10']);
  const pre = (): string => pick(['-rc.1', '-alpha', '-beta.2', '-0', '-rc.1.0', '-01', '-0a', '-x-y']);

  const tag = (): string => {
    if (chance(0.06)) return pick(['latest', 'sha256-abc.sig', 'V1.2.3', '1.2.3.4', '1.2.3_b', 'main']);
    if (chance(0.04)) return pick(['18446744073709551615.1.0', '18446744073709551616.0.0', '01.02.03']);
    const parts = chance(0.85) ? 3 : pick([1, 2]);
    let text = [num(), num(), num()].slice(0, parts).join('.');
    if (chance(0.25)) text += pre();
    if (chance(0.1)) text += pick(['+build.1', '+sha.abc', '+1']);
    return chance(0.2) ? `v${text}` : text;
  };

  const version = (): string => {
    const form = pick([
      'M',
      'M.m',
      'M.m.p',
      'M.m.p',
      'M.x',
      'M.m.x',
      '*',
      'x',
      'X',
      'M.*',
      'pre',
      'v',
      'meta',
    ]);
    const [M, m, p] = [num(), num(), num()];
    switch (form) {
      case 'M':
        return M;
      case 'M.m':
        return `${M}.${m}`;
      case 'M.x':
        return `${M}.${pick(['x', 'X', '*'])}`;
      case 'M.m.x':
        return `${M}.${m}.x`;
      case 'M.*':
        return `${M}.*`;
      case 'pre':
        return `${M}.${m}.${p}${pre()}`;
      case 'v':
        return `v${M}.${m}.${p}`;
      case 'meta':
        return `${M}.${m}.${p}+b.1`;
      case '*':
      case 'x':
      case 'X':
        return form;
      default:
        return `${M}.${m}.${p}`;
    }
  };

  const comparator = (): string => {
    if (chance(0.08)) return `${version()} - ${version()}`;
    const op = pick(['', '', '=', '!=', '>', '<', '>=', '=>', '<=', '=<', '~', '~>', '^', '^']);
    return `${op}${chance(0.1) ? ' ' : ''}${version()}`;
  };

  const group = (): string => {
    const n = pick([1, 1, 1, 2, 2, 3]);
    return Array.from({ length: n }, comparator).join(pick([' ', ', ', ',', '  ']));
  };

  return Array.from({ length: count }, () => {
    const groups = pick([1, 1, 1, 2, 3]);
    const constraint = Array.from({ length: groups }, group).join(pick([' || ', '||']));
    const size = pick([3, 6, 10, 12, 20]);
    return { constraint, tags: Array.from({ length: size }, tag) };
  });
};

const ours = (c: SemverCase): Outcome => {
  try {
    const tag = selectTag(c.tags, c.constraint);
    return tag === undefined ? { error: 'no-match' } : { tag };
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'InvalidReference') return { error: 'constraint' };
    throw error;
  }
};

const flux = (answer: OracleAnswer): Outcome =>
  answer.tag !== undefined
    ? { tag: answer.tag }
    : { error: answer.error === 'no-match' ? 'no-match' : 'constraint' };

describe('semver selection agrees with Flux (Masterminds/semver v3.5.0, fluxcd/pkg/version)', () => {
  const cases = [...HAND_PICKED, ...generateCases(400, 20260317)];

  it(`picks what Flux picks in ${cases.length} cases`, async () => {
    const { stdout } = await runTool('semver-oracle', [], { input: JSON.stringify(cases) });
    const answers = JSON.parse(stdout) as OracleAnswer[];
    expect(answers).toHaveLength(cases.length);

    const disagreements: string[] = [];
    let tiesBeyondInsertionSort = 0;
    cases.forEach((c, i) => {
      const answer = answers[i] as OracleAnswer;
      const expected = flux(answer);
      const actual = ours(c);
      // Go's sort.Sort is insertion sort (stable) up to 12 elements; beyond that, which of several equal
      // versions comes first is an accident of pdqsort, so any of the tied tags is an acceptable answer.
      if ('tag' in actual && (answer.tied?.length ?? 0) > 1 && answer.matching > 12) {
        tiesBeyondInsertionSort++;
        if (!answer.tied?.includes(actual.tag))
          disagreements.push(`${JSON.stringify(c)}: ours ${actual.tag}, not among Flux's ties`);
        return;
      }
      if (JSON.stringify(actual) !== JSON.stringify(expected))
        disagreements.push(
          `${JSON.stringify(c)}: Flux ${JSON.stringify(expected)} (${answer.detail ?? ''}), ours ${JSON.stringify(actual)}`,
        );
    });
    expect(disagreements).toEqual([]);

    // The generated cases exercise every outcome, not just one of them.
    const outcomes = answers.map((a) => (a.tag !== undefined ? 'tag' : a.error));
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(outcomes.filter((o) => o === 'tag').length).toBeGreaterThan(100);
    expect(outcomes.filter((o) => o === 'no-match').length).toBeGreaterThan(20);
    expect(outcomes.filter((o) => o === 'constraint').length).toBeGreaterThan(10);
    expect(answers.some((a) => a.tag?.includes('-'))).toBe(true);
    expect(answers.some((a) => a.tag?.startsWith('v'))).toBe(true);
    expect(tiesBeyondInsertionSort).toBeGreaterThan(0);
  });
});

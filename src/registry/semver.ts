// Semver tag selection as Flux does it (Masterminds/semver v3 semantics): lenient versions ("v1", "1.2",
// "1.2.3-rc.1+meta"), constraints with AND (space or comma), OR (||), hyphen ranges, x-ranges, ~ and ^,
// and prereleases only when the constraint names one. The highest matching tag wins.
import { RegistryError } from './errors.ts';

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly string[];
}

const VERSION =
  /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export const parseVersion = (tag: string): SemVer | undefined => {
  const m = VERSION.exec(tag);
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2] ?? 0),
    patch: Number(m[3] ?? 0),
    prerelease: m[4] ? m[4].split('.') : [],
  };
};

const comparePrerelease = (a: readonly string[], b: readonly string[]): number => {
  if (a.length === 0 || b.length === 0) return b.length - a.length; // a release sorts above its prereleases
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

export const compareVersions = (a: SemVer, b: SemVer): number =>
  a.major - b.major ||
  a.minor - b.minor ||
  a.patch - b.patch ||
  comparePrerelease(a.prerelease, b.prerelease);

type Bound = { version: SemVer; inclusive: boolean };
interface Comparator {
  lower?: Bound;
  upper?: Bound;
  /** "!=" : the range is excluded instead of required. */
  negate: boolean;
  hasPrerelease: boolean;
}

const TOKEN =
  /^(!=|>=|=>|<=|=<|>|<|=|~>|~|\^)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

const v = (major: number, minor = 0, patch = 0, prerelease: readonly string[] = []): SemVer => ({
  major,
  minor,
  patch,
  prerelease,
});
const isWild = (part: string | undefined): boolean => part === undefined || /^[xX*]$/.test(part);

const parseComparator = (token: string, constraint: string): Comparator => {
  const m = TOKEN.exec(token);
  if (!m)
    throw new RegistryError(
      'InvalidReference',
      `invalid semver constraint "${constraint}": cannot read "${token}"`,
    );
  const op = m[1] === '=>' ? '>=' : m[1] === '=<' ? '<=' : m[1] === '~>' ? '~' : (m[1] ?? '=');
  const [major, minor, patch] = [m[2], m[3], m[4]];
  const pre = m[5] ? m[5].split('.') : [];
  const hasPrerelease = pre.length > 0;
  if (isWild(major))
    return {
      negate: op === '!=',
      hasPrerelease,
      ...(op === '<' ? { upper: { version: v(0), inclusive: false } } : {}),
    };
  const M = Number(major);
  const precision = isWild(minor) ? 1 : isWild(patch) ? 2 : 3;
  const m2 = precision >= 2 ? Number(minor) : 0;
  const p = precision === 3 ? Number(patch) : 0;
  const base = v(M, m2, p, pre);
  const next = precision === 1 ? v(M + 1) : precision === 2 ? v(M, m2 + 1) : undefined; // end of a partial range
  const range = (lower: SemVer, upper?: SemVer): Comparator => ({
    lower: { version: lower, inclusive: true },
    ...(upper ? { upper: { version: upper, inclusive: false } } : {}),
    negate: false,
    hasPrerelease,
  });
  switch (op) {
    case '=':
    case '!=':
      return {
        ...(next
          ? range(base, next)
          : { lower: { version: base, inclusive: true }, upper: { version: base, inclusive: true } }),
        negate: op === '!=',
        hasPrerelease,
      };
    case '>':
      return {
        lower: { version: next ?? base, inclusive: next !== undefined },
        negate: false,
        hasPrerelease,
      };
    case '>=':
      return range(base);
    case '<':
      return { upper: { version: base, inclusive: false }, negate: false, hasPrerelease };
    case '<=':
      return {
        upper: next ? { version: next, inclusive: false } : { version: base, inclusive: true },
        negate: false,
        hasPrerelease,
      };
    case '~':
      return range(base, precision === 1 ? v(M + 1) : v(M, m2 + 1));
    default: // '^'
      if (M > 0 || precision === 1) return range(base, v(M + 1));
      if (m2 > 0 || precision === 2) return range(base, v(0, m2 + 1));
      return range(base, v(0, 0, p + 1));
  }
};

const within = (c: Comparator, ver: SemVer): boolean => {
  const lowerOk =
    !c.lower ||
    (c.lower.inclusive
      ? compareVersions(ver, c.lower.version) >= 0
      : compareVersions(ver, c.lower.version) > 0);
  const upperOk =
    !c.upper ||
    (c.upper.inclusive
      ? compareVersions(ver, c.upper.version) <= 0
      : compareVersions(ver, c.upper.version) < 0);
  return c.negate ? !(lowerOk && upperOk) : lowerOk && upperOk;
};

export type SemverConstraint = (version: SemVer) => boolean;

export const parseConstraint = (constraint: string): SemverConstraint => {
  if (constraint.trim() === '') throw new RegistryError('InvalidReference', 'semver constraint is empty');
  const groups = constraint.split('||').map((group) => {
    const normalised = group
      .trim()
      .replace(/\s+-\s+/g, ' - ')
      .replace(/(!=|>=|=>|<=|=<|>|<|=|~>|~|\^)\s+/g, '$1');
    const tokens = normalised.split(/[\s,]+/).filter((t) => t !== '');
    const comparators: Comparator[] = [];
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i + 1] === '-') {
        const low = parseComparator(`>=${tokens[i] ?? ''}`, constraint);
        const high = parseComparator(`<=${tokens[i + 2] ?? ''}`, constraint);
        comparators.push(low, high);
        i += 2;
      } else {
        comparators.push(parseComparator(tokens[i] ?? '', constraint));
      }
    }
    if (comparators.length === 0)
      throw new RegistryError(
        'InvalidReference',
        `invalid semver constraint "${constraint}": empty alternative`,
      );
    return comparators;
  });
  return (ver) =>
    groups.some(
      (group) =>
        (ver.prerelease.length === 0 || group.some((c) => c.hasPrerelease)) &&
        group.every((c) => within(c, ver)),
    );
};

/** The tag Flux would pick: the highest version satisfying the constraint (and the optional tag filter). */
export const selectTag = (
  tags: readonly string[],
  constraint: string,
  filter?: RegExp,
): string | undefined => {
  const matches = parseConstraint(constraint);
  let best: { tag: string; version: SemVer } | undefined;
  for (const tag of tags) {
    if (filter && !filter.test(tag)) continue;
    const version = parseVersion(tag);
    if (!version || !matches(version)) continue;
    if (!best || compareVersions(version, best.version) > 0) best = { tag, version };
  }
  return best?.tag;
};

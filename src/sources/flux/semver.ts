// Semver tag selection exactly as Flux's OCIRepository does it (`spec.ref.semver`): a port of
// Masterminds/semver v3.5.0 (NewVersion in its default coercing mode, NewConstraint, Check, Compare) plus
// fluxcd/pkg/version.ParseVersion (a tag needs three dot-separated parts) and source-controller's pick of
// the highest match. Quirks are kept on purpose (`<=*` matches only 0.x, `>*` excludes only 0.0.0, a
// hyphen range is rewritten textually); test/integration/sources/semver-oracle.test.ts checks this module
// against the Go library. Numbers are uint64 as in Go, hence bigint.
import { RegistryError } from '../../registry/errors.ts';

export interface SemVer {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  /** Dot-separated prerelease identifiers; "" for a release. */
  readonly prerelease: string;
  /** Build metadata; ignored by every comparison. */
  readonly metadata: string;
  /** The text as it was parsed ("v" prefix, leading zeros and metadata included). */
  readonly original: string;
}

const MAX_VERSION_LENGTH = 256;
const MAX_CONSTRAINT_LENGTH = 512;
const MAX_CONSTRAINT_GROUPS = 32;
const UINT64_MAX = 2n ** 64n - 1n;

// Go's \s is ASCII whitespace without \v; JavaScript's is wider, so it is spelled out.
const WS = '[\\t\\n\\f\\r ]';
const LOOSE_VERSION =
  /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const CONSTRAINT_VERSION =
  '(v?([0-9|xX*]+)(\\.[0-9|xX*]+)?(\\.[0-9|xX*]+)?(-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?)';
const CONSTRAINT_VERSION_ONLY = new RegExp(`^${CONSTRAINT_VERSION}$`);
const HYPHEN_RANGE = new RegExp(`${WS}*${CONSTRAINT_VERSION}${WS}+-${WS}+${CONSTRAINT_VERSION}${WS}*`, 'g');
const OPERATORS = new Set(['', '=', '!=', '>', '<', '>=', '=>', '<=', '=<', '~', '~>', '^']);
const OPERATOR_CHAR = /[=!<>~^]/;
const WS_CHAR = /[\t\n\f\r ]/;

/** strconv.ParseUint(s, 10, 64): digits only, within uint64. */
const parseUint = (text: string): bigint | undefined => {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value > UINT64_MAX ? undefined : value;
};

const validPrerelease = (pre: string): boolean =>
  pre.split('.').every((part) => part !== '' && !/^0[0-9]+$/.test(part));

/**
 * Why Masterminds NewVersion refused a text: `InvalidSemVer` is its ErrInvalidSemVer (the text does not have
 * the shape of a version); `Malformed` is any other error (a number beyond uint64, a numeric prerelease part
 * with a leading zero, longer than the version's length limit). Argo CD skips the first kind of tag and
 * fails on the second.
 */
export type VersionRefusal = 'InvalidSemVer' | 'Malformed';

/** Masterminds NewVersion (coercing), with its length limit (v3.5.0: 256; v3.4.0: none, Infinity). */
export const readVersion = (text: string, maxLength = MAX_VERSION_LENGTH): SemVer | VersionRefusal => {
  if (text.length > maxLength) return 'Malformed';
  const m = LOOSE_VERSION.exec(text);
  if (!m) return 'InvalidSemVer';
  const major = parseUint(m[1] ?? '');
  const minor = m[2] ? parseUint(m[2].slice(1)) : 0n;
  const patch = m[3] ? parseUint(m[3].slice(1)) : 0n;
  if (major === undefined || minor === undefined || patch === undefined) return 'Malformed';
  const prerelease = m[5] ?? '';
  if (prerelease !== '' && !validPrerelease(prerelease)) return 'Malformed';
  return { major, minor, patch, prerelease, metadata: m[8] ?? '', original: text };
};

/** Masterminds NewVersion (coercing): "v1", "1.2", "01.2.3" parse; a numeric prerelease part may not start with 0. */
export const parseVersion = (text: string): SemVer | undefined => {
  const version = readVersion(text);
  return typeof version === 'string' ? undefined : version;
};

/** fluxcd/pkg/version.ParseVersion: as parseVersion, but only text with at least two dots is a version. */
const parseFluxVersion = (tag: string): SemVer | undefined =>
  tag.split('.').length >= 3 ? parseVersion(tag) : undefined;

const compareNumbers = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

const comparePrereleasePart = (s: string, o: string): number => {
  if (s === o) return 0;
  if (s === '') return -1;
  if (o === '') return 1;
  const si = parseUint(s);
  const oi = parseUint(o);
  if (si === undefined && oi === undefined) return s > o ? 1 : -1;
  if (oi === undefined) return -1; // numeric identifiers sort below alphanumeric ones
  if (si === undefined) return 1;
  return si > oi ? 1 : -1;
};

const comparePrerelease = (a: string, b: string): number => {
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const d = comparePrereleasePart(as[i] ?? '', bs[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
};

/** Orders by major, minor, patch, then prerelease (a release above its prereleases); metadata is ignored. */
export const compareVersions = (a: SemVer, b: SemVer): number => {
  const d =
    compareNumbers(a.major, b.major) || compareNumbers(a.minor, b.minor) || compareNumbers(a.patch, b.patch);
  if (d !== 0) return d;
  if (a.prerelease === '' && b.prerelease === '') return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  return comparePrerelease(a.prerelease, b.prerelease);
};

interface Comparator {
  readonly op: string;
  readonly version: SemVer;
  /** Some part was a wildcard or missing ("1", "1.x", "*"). */
  readonly dirty: boolean;
  /** The minor part was a wildcard or missing ("1", "1.x"). */
  readonly minorDirty: boolean;
  /** The patch part was a wildcard or missing ("1.2", "1.2.x"). */
  readonly patchDirty: boolean;
}

// One function per operator, as Masterminds' constraintOps; a prerelease only passes where its group
// names a prerelease (checked once per group in parseConstraint).
const lessThan = (v: SemVer, c: Comparator): boolean => compareVersions(v, c.version) < 0;

const tilde = (v: SemVer, c: Comparator): boolean => {
  const con = c.version;
  if (compareVersions(v, con) < 0) return false;
  if (con.major === 0n && con.minor === 0n && con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== con.major) return false;
  return !(v.minor !== con.minor && !c.minorDirty);
};

const notEqual = (v: SemVer, c: Comparator): boolean => {
  const con = c.version;
  if (c.dirty) {
    if (con.major !== v.major) return true;
    if (con.minor !== v.minor && !c.minorDirty) return true;
    if (c.minorDirty) return false;
    if (con.patch !== v.patch && !c.patchDirty) return true;
    if (c.patchDirty) {
      if (v.prerelease !== '' || con.prerelease !== '')
        return comparePrerelease(v.prerelease, con.prerelease) !== 0;
      return false;
    }
  }
  return compareVersions(v, con) !== 0;
};

const greaterThan = (v: SemVer, c: Comparator): boolean => {
  const con = c.version;
  if (!c.dirty) return compareVersions(v, con) === 1;
  if (v.major > con.major) return true;
  if (v.major < con.major || c.minorDirty) return false;
  if (c.patchDirty) return v.minor > con.minor;
  return compareVersions(v, con) === 1;
};

const lessThanEqual = (v: SemVer, c: Comparator): boolean => {
  const con = c.version;
  if (!c.dirty) return compareVersions(v, con) <= 0;
  if (v.major > con.major) return false;
  return !(v.major === con.major && v.minor > con.minor && !c.minorDirty);
};

const caret = (v: SemVer, c: Comparator): boolean => {
  const con = c.version;
  if (compareVersions(v, con) < 0) return false;
  if (con.major > 0n || c.minorDirty) return v.major === con.major;
  if (v.major > 0n) return false;
  if (con.minor > 0n || c.patchDirty) return v.minor === con.minor;
  if (v.minor > 0n) return false;
  return con.patch === v.patch;
};

const check = (v: SemVer, c: Comparator): boolean => {
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c) : compareVersions(v, c.version) === 0;
    case '!=':
      return notEqual(v, c);
    case '>':
      return greaterThan(v, c);
    case '<':
      return lessThan(v, c);
    case '>=':
    case '=>':
      return compareVersions(v, c.version) >= 0;
    case '<=':
    case '=<':
      return lessThanEqual(v, c);
    case '~':
    case '~>':
      return tilde(v, c);
    default: // '^'
      return caret(v, c);
  }
};

const invalid = (constraint: string, detail: string): RegistryError =>
  new RegistryError('InvalidReference', `invalid semver constraint "${constraint}": ${detail}`);

const isWildcard = (part: string | undefined): boolean => part === 'x' || part === 'X' || part === '*';

/** Masterminds parseConstraint: wildcards and missing parts become zeros and mark the comparator dirty. */
const parseComparator = (
  op: string,
  text: string,
  constraint: string,
  limits: ConstraintLimits,
): Comparator => {
  const m = CONSTRAINT_VERSION_ONLY.exec(text);
  if (!m) throw invalid(constraint, `cannot read "${op}${text}"`);
  const [major = '', minorPart = '', patchPart = '', preWithDash = ''] = [m[2], m[3], m[4], m[5]];
  let versionText = text;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isWildcard(major)) {
    versionText = `0.0.0${preWithDash}`;
    dirty = true;
  } else if (minorPart === '' || isWildcard(minorPart.slice(1))) {
    versionText = `${major}.0.0${preWithDash}`;
    dirty = minorDirty = true;
  } else if (patchPart === '' || isWildcard(patchPart.slice(1))) {
    versionText = `${major}${minorPart}.0${preWithDash}`;
    dirty = patchDirty = true;
  }
  const version = readVersion(versionText, limits.maxVersionLength);
  if (typeof version === 'string') throw invalid(constraint, `cannot read "${op}${text}"`);
  return { op, version, dirty, minorDirty, patchDirty };
};

const isWs = (ch: string | undefined): boolean => ch !== undefined && WS_CHAR.test(ch);

/**
 * Splits one `||` alternative into comparators. Equivalent to Masterminds' validConstraintRegex followed by
 * findConstraintRegex, written as a scanner because that regex backtracks exponentially in JavaScript:
 * items are `<op><ws>*<version>`, separated by whitespace or one comma with optional whitespace.
 */
const parseGroup = (group: string, constraint: string, limits: ConstraintLimits): Comparator[] => {
  const cannotRead = (): RegistryError => invalid(constraint, `cannot read "${group.trim()}"`);
  const comparators: Comparator[] = [];
  let i = 0;
  const skipWs = (): number => {
    const start = i;
    while (isWs(group[i])) i++;
    return i - start;
  };
  skipWs();
  for (;;) {
    const opStart = i;
    while (i < group.length && OPERATOR_CHAR.test(group[i] ?? '')) i++;
    const op = group.slice(opStart, i);
    if (!OPERATORS.has(op)) throw cannotRead();
    skipWs();
    const wordStart = i;
    while (i < group.length && !isWs(group[i]) && group[i] !== ',') i++;
    const word = group.slice(wordStart, i);
    if (!CONSTRAINT_VERSION_ONLY.test(word)) throw cannotRead();
    comparators.push(parseComparator(op, word, constraint, limits));
    const spaces = skipWs();
    if (i >= group.length) return comparators;
    if (group[i] === ',') {
      i++;
      skipWs();
      if (i >= group.length) throw cannotRead();
    } else if (spaces === 0) {
      throw cannotRead();
    }
  }
};

/** Masterminds rewriteRange: "A - B" becomes ">= A, <= B " by text replacement, as in Go. */
const rewriteHyphenRanges = (constraint: string): string => {
  let out = constraint;
  for (const m of constraint.matchAll(HYPHEN_RANGE)) {
    const replacement = `>= ${m[1] ?? ''}, <= ${m[7] ?? ''} `;
    out = out.replace(m[0], () => replacement);
  }
  return out;
};

export type SemverConstraint = (version: SemVer) => boolean;

/** The input limits of a Masterminds release; Infinity is no limit. */
export interface ConstraintLimits {
  /** Bytes of the whole constraint. */
  readonly maxLength: number;
  /** `||` alternatives. */
  readonly maxGroups: number;
  /** Characters of each version inside it. */
  readonly maxVersionLength: number;
}

/** Masterminds v3.5.0 (Flux). */
const MASTERMINDS_3_5_LIMITS: ConstraintLimits = {
  maxLength: MAX_CONSTRAINT_LENGTH,
  maxGroups: MAX_CONSTRAINT_GROUPS,
  maxVersionLength: MAX_VERSION_LENGTH,
};

/** Masterminds NewConstraint + Check. Throws RegistryError('InvalidReference') where Go returns an error. */
export const parseConstraint = (
  constraint: string,
  limits: ConstraintLimits = MASTERMINDS_3_5_LIMITS,
): SemverConstraint => {
  if (constraint.trim() === '') throw new RegistryError('InvalidReference', 'semver constraint is empty');
  if (Buffer.byteLength(constraint, 'utf8') > limits.maxLength)
    throw invalid(constraint.slice(0, 40), `longer than ${limits.maxLength} bytes`);
  const alternatives = rewriteHyphenRanges(constraint).split('||');
  if (alternatives.length > limits.maxGroups)
    throw invalid(constraint, `more than ${limits.maxGroups} alternatives`);
  const groups = alternatives.map((group) => {
    const comparators = parseGroup(group, constraint, limits);
    return { comparators, includesPrerelease: comparators.some((c) => c.version.prerelease !== '') };
  });
  return (version) =>
    groups.some(
      ({ comparators, includesPrerelease }) =>
        (version.prerelease === '' || includesPrerelease) && comparators.every((c) => check(version, c)),
    );
};

/**
 * The tag Flux would pick (source-controller getTagBySemver): tags that pass the optional filter and
 * parse as Flux versions, the highest that satisfies the constraint; among equal versions ("1.0.0" and
 * "v1.0.0", or differing only in metadata) the first listed, as Go's sort does for up to 12 matches.
 */
export const selectTag = (
  tags: readonly string[],
  constraint: string,
  /** Flux `ref.semverFilter`: only tags it matches (unanchored, as Go's regexp.MatchString) are considered. */
  filter?: { test(tag: string): boolean },
): string | undefined => {
  const matches = parseConstraint(constraint);
  let best: SemVer | undefined;
  for (const tag of tags) {
    if (filter && !filter.test(tag)) continue;
    const version = parseFluxVersion(tag);
    if (!version || !matches(version)) continue;
    if (!best || compareVersions(version, best) > 0) best = version;
  }
  return best?.original;
};

// The chart versions helm keeps when it loads an index, and their order: Masterminds/semver v3.4.0's
// NewVersion (coercing: "v1", "1.2" parse; helm 3.19 pins v3.4.0, which has no length limit) and Compare.
// The same grammar as src/sources/flux/semver.ts, which the registry layer may not import; kept to the two
// functions an index needs.

export interface ChartSemVer {
  /** Decimal digits without leading zeros (uint64 as in Go; compared by length, then text). */
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  /** Dot-separated prerelease identifiers; "" for a release. */
  readonly prerelease: string;
}

const LOOSE_VERSION =
  /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const UINT64_MAX = '18446744073709551615';
const DIGITS = /^[0-9]+$/;

/** strconv.ParseUint(s, 10, 64) as normalized digits, without allocating a BigInt per version. */
const parseUint = (text: string): string | undefined => {
  if (!DIGITS.test(text)) return undefined;
  const digits = text.replace(/^0+(?=.)/, '');
  return compareNumbers(digits, UINT64_MAX) > 0 ? undefined : digits;
};

const compareNumbers = (a: string, b: string): number =>
  a.length !== b.length ? (a.length < b.length ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;

/** Masterminds NewVersion: the version, or undefined where it returns an error (helm then drops the entry). */
export const parseChartVersion = (text: string): ChartSemVer | undefined => {
  const m = LOOSE_VERSION.exec(text);
  if (!m) return undefined;
  const major = parseUint(m[1] ?? '');
  const minor = m[2] ? parseUint(m[2].slice(1)) : '0';
  const patch = m[3] ? parseUint(m[3].slice(1)) : '0';
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  const prerelease = m[5] ?? '';
  if (prerelease.split('.').some((part) => prerelease !== '' && /^0[0-9]+$/.test(part))) return undefined;
  return { major, minor, patch, prerelease };
};

const comparePart = (s: string, o: string): number => {
  if (s === o) return 0;
  if (s === '') return -1;
  if (o === '') return 1;
  const si = parseUint(s);
  const oi = parseUint(o);
  if (si === undefined && oi === undefined) return s > o ? 1 : -1;
  if (oi === undefined) return -1;
  if (si === undefined) return 1;
  return compareNumbers(si, oi);
};

/** Masterminds Compare: major, minor, patch, then prerelease (a release above its prereleases); metadata ignored. */
export const compareChartVersions = (a: ChartSemVer, b: ChartSemVer): number => {
  const d =
    compareNumbers(a.major, b.major) || compareNumbers(a.minor, b.minor) || compareNumbers(a.patch, b.patch);
  if (d !== 0) return d;
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  const as = a.prerelease.split('.');
  const bs = b.prerelease.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const p = comparePart(as[i] ?? '', bs[i] ?? '');
    if (p !== 0) return p;
  }
  return 0;
};

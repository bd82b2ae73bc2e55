// RE2 patterns: what Go's regexp (cosign, Flux, Kubernetes CEL) accepts and matches, in linear time.
// The "go" column of the table is Go's answer for `regexp.MustCompile("^(?:" + pattern + ")$").MatchString`,
// read from the RE2 syntax page and Go's regexp/syntax docs (cited per row); the "js" column is what the
// JavaScript RegExp that tagguard used before answered, checked here so each differential row stays one.
import { describe, expect, it } from 'vitest';
import {
  compileGlob,
  compileRe2,
  MAX_PATTERN_LENGTH,
  Re2PatternError,
  type Re2PatternErrorCode,
} from '../src/re2-pattern.ts';

type Verdict = boolean | 'invalid';

interface Row {
  readonly pattern: string;
  readonly input: string;
  /** Go regexp, full match. */
  readonly go: Verdict;
  /** JavaScript `new RegExp('^(?:' + pattern + ')$')` (no flags), the previous engine. */
  readonly js: Verdict;
  readonly why: string;
}

const table: readonly Row[] = [
  // Flags: Go's (?flags) syntax; JavaScript has only (?flags:...) groups.
  {
    pattern: '(?i)k',
    input: '\u212a',
    go: true,
    js: 'invalid',
    why: '(?i) folds with Unicode simple folding: k K U+212A',
  },
  { pattern: '(?i)s', input: '\u017f', go: true, js: 'invalid', why: 'U+017F long s folds to s' },
  { pattern: '(?s).', input: '\n', go: true, js: 'invalid', why: 's: . matches \\n' },
  { pattern: '(?U)a+', input: 'aaa', go: true, js: 'invalid', why: 'U: ungreedy, same set' },
  { pattern: '(?P<n>a)', input: 'a', go: true, js: 'invalid', why: 'named capture (?P<name>re)' },
  // Perl and JavaScript syntax that RE2 does not have.
  { pattern: '\\Z', input: 'Z', go: 'invalid', js: true, why: '\\Z is not an RE2 escape (JS: literal Z)' },
  { pattern: 'a(?=b)b', input: 'ab', go: 'invalid', js: true, why: 'no lookahead in RE2' },
  { pattern: '(?<=a)b', input: 'b', go: 'invalid', js: false, why: 'no lookbehind in RE2' },
  { pattern: '(a)\\1', input: 'aa', go: 'invalid', js: true, why: 'no backreferences in RE2' },
  { pattern: '\\C', input: 'C', go: 'invalid', js: true, why: 'Go refuses \\C (any byte)' },
  { pattern: 'x{1001}', input: 'x', go: 'invalid', js: false, why: 'repeat counts stop at 1000' },
  // RE2 syntax JavaScript reads as something else.
  { pattern: 'a\\z', input: 'a', go: true, js: false, why: '\\z is end of text (JS: literal z)' },
  { pattern: '[[:alpha:]]+', input: 'abc', go: true, js: false, why: 'ASCII class [[:alpha:]]' },
  { pattern: '\\Qa.b\\E', input: 'a.b', go: true, js: false, why: '\\Q...\\E literal text' },
  { pattern: '\\Qa.b\\E', input: 'axb', go: false, js: false, why: 'the dot inside \\Q...\\E is literal' },
  {
    pattern: '\\pL+',
    input: '\u00e9t\u00e9',
    go: true,
    js: false,
    why: '\\pL Unicode letter (JS without u: "p")',
  },
  { pattern: '\\x{1F600}', input: '\u{1F600}', go: true, js: false, why: '\\x{10FFFF} hex code point' },
  // Characters: RE2 matches code points; `.` excludes only \n; Perl classes are ASCII.
  { pattern: '.', input: '\u{1F600}', go: true, js: false, why: '. is one code point (JS: one UTF-16 unit)' },
  { pattern: '[^a]', input: '\u{1F600}', go: true, js: false, why: 'a negated class matches one code point' },
  { pattern: '.*', input: 'a\rb', go: true, js: false, why: '. matches \\r (JS: not a line terminator)' },
  { pattern: 'a.b', input: 'a\u2028b', go: true, js: false, why: '. matches U+2028' },
  { pattern: '\\s', input: '\v', go: false, js: true, why: '\\s is [\\t\\n\\f\\r ], no \\v' },
  { pattern: '\\s', input: '\u00a0', go: false, js: true, why: '\\s is ASCII, no NBSP' },
  // Same answer in both: kept to pin what users rely on.
  { pattern: '.*', input: 'a\nb', go: false, js: false, why: '. never matches \\n without (?s)' },
  { pattern: 'a$', input: 'a\n', go: false, js: false, why: '$ without (?m) is \\z, not before a final \\n' },
  {
    pattern: '(?m)a$',
    input: 'a\n',
    go: false,
    js: 'invalid',
    why: 'full match still ends at the end of text',
  },
  { pattern: '\\d', input: '\u0663', go: false, js: false, why: '\\d is [0-9]' },
  { pattern: '\\w', input: '\u00e9', go: false, js: false, why: '\\w is [0-9A-Za-z_]' },
  { pattern: 'a{,2}', input: 'a{,2}', go: true, js: true, why: '{,n} is literal' },
  { pattern: 'a|ab', input: 'ab', go: true, js: true, why: 'full match tries every alternative' },
  { pattern: '(?<n>a)', input: 'a', go: true, js: true, why: 'Go 1.22 accepts (?<name>re)' },
];

const re2Verdict = (pattern: string, input: string): Verdict => {
  try {
    return compileRe2(pattern).matchesWhole(input);
  } catch (error) {
    expect(error).toBeInstanceOf(Re2PatternError);
    return 'invalid';
  }
};

const jsVerdict = (pattern: string, input: string): Verdict => {
  try {
    return new RegExp(`^(?:${pattern})$`).test(input);
  } catch {
    return 'invalid';
  }
};

describe('compileRe2 against Go regexp semantics', () => {
  it.each(table)('$pattern on $input: Go says $go ($why)', ({ pattern, input, go, js }) => {
    expect(re2Verdict(pattern, input)).toBe(go);
    expect(jsVerdict(pattern, input)).toBe(js);
  });

  it('differs from the JavaScript RegExp on most rows of the table', () => {
    expect(table.filter((r) => r.go !== r.js).length).toBeGreaterThanOrEqual(20);
  });

  it('matches anywhere like regexp.MatchString when asked to', () => {
    const p = compileRe2('github\\.com/acme/');
    expect(p.matchesAnywhere('https://github.com/acme/app')).toBe(true);
    expect(p.matchesWhole('https://github.com/acme/app')).toBe(false);
  });
});

describe('compileRe2 refusals', () => {
  const codeOf = (pattern: string): Re2PatternErrorCode | undefined => {
    try {
      compileRe2(pattern);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(Re2PatternError);
      return (error as Re2PatternError).code;
    }
  };

  it.each([
    ['(', 'InvalidPattern'],
    ['a)|(b', 'InvalidPattern'],
    ['a**', 'InvalidPattern'],
    ['[z-a]', 'InvalidPattern'],
    ['(?x)a', 'InvalidPattern'],
    ['\\8', 'InvalidPattern'],
    ['(((a{100}){100}){100})', 'InvalidPattern'],
    [`${'('.repeat(1001)}a${')'.repeat(1001)}`.slice(0, MAX_PATTERN_LENGTH), 'InvalidPattern'],
    ['a'.repeat(MAX_PATTERN_LENGTH + 1), 'PatternTooLong'],
  ] as const)('refuses %j with %s', (pattern, code) => {
    expect(codeOf(pattern)).toBe(code);
  });

  it('accepts a pattern of exactly the cap and the usual identity patterns', () => {
    expect(codeOf('a'.repeat(MAX_PATTERN_LENGTH))).toBeUndefined();
    expect(
      codeOf('^https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.ya?ml@refs/tags/v\\d+$'),
    ).toBe(undefined);
  });
});

describe('linear time on attacker-sized input', () => {
  /** Best of three runs: the machine is shared, and a GC pause is not the engine's time. */
  const timed = (run: () => boolean): { ms: number; result: boolean } => {
    let best = Infinity;
    let result = false;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      result = run();
      best = Math.min(best, performance.now() - start);
    }
    return { ms: best, result };
  };

  it.each(['(a+)+b', '(a|a)*b', '(a*)*b', '(.*a){20}b', '^(([a-z])+.)+[A-Z]([a-z])+$'])(
    '%s stays linear from 10k to 80k characters',
    (pattern) => {
      const p = compileRe2(pattern);
      p.matchesWhole('a'.repeat(1000)); // warm-up
      const small = timed(() => p.matchesWhole('a'.repeat(10_000)));
      const large = timed(() => p.matchesWhole('a'.repeat(80_000)));
      expect(small.result).toBe(false);
      expect(large.result).toBe(false);
      expect(large.ms).toBeLessThan(1000);
      // 8x the input: linear is ~8x, quadratic 64x (and backtracking never finishes). A 20 ms floor
      // for timer noise on a shared machine.
      expect(large.ms).toBeLessThan(Math.max(small.ms, 20) * 24);
    },
  );

  it('globs with many stars stay linear on a long import name', () => {
    const glob = compileGlob('*a*a*a*a*a*a*b');
    const run = timed(() => glob.matchesWhole('a'.repeat(50_000)));
    expect(run.result).toBe(false);
    expect(run.ms).toBeLessThan(1000);
  });
});

describe('compileGlob', () => {
  it('reads * and ? as wildcards and everything else literally, newlines included', () => {
    expect(compileGlob('wasi_*.fd_?rite').matchesWhole('wasi_snapshot.fd_write')).toBe(true);
    expect(compileGlob('env.(a|b)*').matchesWhole('env.abort')).toBe(false);
    expect(compileGlob('env.(a|b)*').matchesWhole('env.(a|b)x')).toBe(true);
    expect(compileGlob('a*b').matchesWhole('a\nb')).toBe(true);
    expect(compileGlob('\\Q*').matchesWhole('\\Qx')).toBe(true);
    expect(compileGlob('?').matchesWhole('\u{1F600}')).toBe(true);
  });
});

// Regular expressions written by a user and matched against attacker-controlled text (certificate SANs,
// Wasm import names): RE2 syntax and semantics, as Go's `regexp` (cosign, Flux, Kubernetes CEL) reads them,
// in time linear in the input (re2js, a port of RE2/J). Compile once, match many times; a pattern RE2
// refuses, or one over the length cap, is a coded error.
import { RE2JS } from 're2js';
import { BaseError } from './errors.ts';

/** Longest pattern accepted; the CRD caps `subjectRegex` at the same length. */
export const MAX_PATTERN_LENGTH = 1024;

export type Re2PatternErrorCode = 'InvalidPattern' | 'PatternTooLong';

export class Re2PatternError extends BaseError<Re2PatternErrorCode> {}

export interface Re2Pattern {
  /** The pattern as written. */
  readonly source: string;
  /** The whole input matches (RE2 full match: as `^(?:source)$` with `$` at the very end only, like `\z`). */
  matchesWhole(input: string): boolean;
  /** Some part of the input matches (Go's unanchored `regexp.MatchString`). */
  matchesAnywhere(input: string): boolean;
}

/** Compiles with Go's default (Perl) flags: no `(?i)`, `(?s)`, `(?m)` unless the pattern sets them. */
export const compileRe2 = (source: string): Re2Pattern => {
  if (source.length > MAX_PATTERN_LENGTH)
    throw new Re2PatternError(
      'PatternTooLong',
      `the pattern has ${source.length} characters; at most ${MAX_PATTERN_LENGTH} are accepted`,
    );
  let compiled: RE2JS;
  try {
    // Flags 0: RE2's Perl mode as Go's regexp.Compile; look-behinds (an re2js extension Go lacks) stay off.
    compiled = RE2JS.compile(source, 0);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new Re2PatternError('InvalidPattern', `not a valid RE2 regular expression: ${detail}`, { cause });
  }
  return wrap(source, compiled);
};

/**
 * A glob as an RE2 pattern: `*` any run of characters (newlines and dots included), `?` one code point,
 * everything else literal. No length cap: the pattern is linear in the glob and carries no user syntax.
 */
export const compileGlob = (glob: string): Re2Pattern => {
  const pattern = glob
    .split(/([*?])/)
    .map((part) => (part === '*' ? '.*' : part === '?' ? '.' : part === '' ? '' : RE2JS.quote(part)))
    .join('');
  return wrap(glob, RE2JS.compile(pattern, RE2JS.DOTALL));
};

const wrap = (source: string, compiled: RE2JS): Re2Pattern => ({
  source,
  matchesWhole: (input) => compiled.testExact(input),
  matchesAnywhere: (input) => compiled.test(input),
});

// M-of-N evaluation: the verdict and reasons from per-signer results.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../src/verify/evaluate-policy.ts';
import type { SignerResult } from '../../src/verify/types.ts';

const ok = (name: string): SignerResult => ({
  name,
  type: 'cosign',
  format: 'legacy',
  verified: true,
  message: '',
});
const failed = (name: string, reason: SignerResult['reason']): SignerResult => ({
  name,
  type: 'cosign',
  verified: false,
  ...(reason ? { reason } : {}),
  message: '',
});
const digest = `sha256:${'a'.repeat(64)}`;

describe('evaluatePolicy', () => {
  it('is Trusted when minSignatures distinct entries verified', () => {
    const result = evaluatePolicy(digest, [ok('a'), ok('b'), failed('c', 'SignatureMissing')], 2);
    expect(result.verdict).toBe('Trusted');
    expect(result.reasons).toEqual([]);
  });

  it('adds ThresholdNotMet to the failures when some but not enough entries verified', () => {
    const result = evaluatePolicy(digest, [ok('a'), failed('b', 'UntrustedSigner')], 2);
    expect(result.verdict).toBe('Untrusted');
    expect(result.reasons).toEqual(['UntrustedSigner', 'ThresholdNotMet']);
  });

  it('lists each distinct failure reason once when nothing verified', () => {
    const result = evaluatePolicy(
      digest,
      [failed('a', 'DigestMismatch'), failed('b', 'DigestMismatch'), failed('c', 'SignatureMissing')],
      1,
    );
    expect(result.reasons).toEqual(['DigestMismatch', 'SignatureMissing']);
  });

  it('requires nothing when the policy has no signer and minSignatures 0', () => {
    expect(evaluatePolicy(digest, [], 0).verdict).toBe('Trusted');
  });
});

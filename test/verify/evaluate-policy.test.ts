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

  it('never counts a result that verified and yet carries a failure reason', () => {
    const errored: SignerResult = { ...ok('a'), reason: 'SignatureInvalid' };
    const result = evaluatePolicy(digest, [errored], 1);
    expect(result.verdict).toBe('Untrusted');
    expect(result.reasons).toEqual(['SignatureInvalid']);
  });

  it('counts one signer entry once, however many results name it', () => {
    expect(evaluatePolicy(digest, [ok('a'), ok('a')], 2).verdict).toBe('Untrusted');
  });

  it('requires one signature when signers are configured, even with minSignatures 0', () => {
    const result = evaluatePolicy(digest, [failed('a', 'SignatureInvalid')], 0);
    expect(result.verdict).toBe('Untrusted');
    expect(evaluatePolicy(digest, [ok('a')], 0).verdict).toBe('Trusted');
  });
});

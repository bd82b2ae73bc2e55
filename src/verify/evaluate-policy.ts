// M-of-N: the verdict from the per-signer results. Trusted when at least minSignatures distinct signer
// entries verified; otherwise Untrusted with every distinct failure reason, plus ThresholdNotMet when some
// entries verified but not enough. A policy with no signer and minSignatures 0 requires nothing; a policy
// with signers always requires one. Only a result that verified without any failure reason counts, and
// an entry counts once by name, so a signature that errored can never make up the threshold.
import type { SignerResult, VerificationResult, VerifyReason } from './types.ts';

const counts = (s: SignerResult): boolean => s.verified && s.reason === undefined;

export const evaluatePolicy = (
  digest: string,
  signers: readonly SignerResult[],
  minSignatures: number,
): VerificationResult => {
  const verified = new Set(signers.filter(counts).map((s) => s.name)).size;
  const required = signers.length > 0 ? Math.max(1, minSignatures) : minSignatures;
  if (verified >= required) return { digest, verdict: 'Trusted', reasons: [], signers };
  const reasons = new Set<VerifyReason>();
  for (const s of signers) if (!counts(s) && s.reason !== undefined) reasons.add(s.reason);
  if (verified > 0 || reasons.size === 0) reasons.add('ThresholdNotMet');
  return { digest, verdict: 'Untrusted', reasons: [...reasons], signers };
};

// M-of-N: the verdict from the per-signer results. Trusted when at least minSignatures distinct signer
// entries verified; otherwise Untrusted with every distinct failure reason, plus ThresholdNotMet when some
// entries verified but not enough. A policy with no signer and minSignatures 0 requires nothing.
import type { SignerResult, VerificationResult, VerifyReason } from './types.ts';

export const evaluatePolicy = (
  digest: string,
  signers: readonly SignerResult[],
  minSignatures: number,
): VerificationResult => {
  const verified = signers.filter((s) => s.verified).length;
  if (verified >= minSignatures) return { digest, verdict: 'Trusted', reasons: [], signers };
  const reasons = new Set<VerifyReason>();
  for (const s of signers) if (!s.verified && s.reason !== undefined) reasons.add(s.reason);
  if (verified > 0 || reasons.size === 0) reasons.add('ThresholdNotMet');
  return { digest, verdict: 'Untrusted', reasons: [...reasons], signers };
};

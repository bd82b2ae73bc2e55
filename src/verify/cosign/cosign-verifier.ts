// The Verifier of one cosign signer entry: every legacy signature and every bundle found for the digest
// is checked on its own; the first that verifies makes the entry verified, otherwise the most telling
// failure is reported (SignatureMissing when there was nothing to check). A check that throws fails
// that signature only (SignatureInvalid) and the next one is still tried.
import type { SignatureFormat } from '../../api/artifact-verification.ts';
import type {
  CosignTrust,
  SignatureMaterial,
  SignerResult,
  VerificationTarget,
  VerifyReason,
} from '../types.ts';
import type { Verifier } from '../verifier.ts';
import { mostTelling } from '../reason-priority.ts';
import { checkLegacySignature } from './cosign-legacy-verifier.ts';
import { checkBundleSignature } from './cosign-bundle-verifier.ts';
import { prepareCosignTrust, type PreparedCosignTrust, type SignatureCheck } from './prepared-trust.ts';
import { judgeOrFail } from '../judge-each.ts';

interface Failure {
  readonly format: SignatureFormat;
  readonly reason: VerifyReason;
  readonly message: string;
}

export class CosignVerifier implements Verifier {
  readonly name: string;
  readonly type = 'cosign' as const;
  private readonly trust: PreparedCosignTrust;

  /** Parses the trust material once; throws TrustPolicyError when it is unusable. */
  constructor(trust: CosignTrust) {
    this.name = trust.name;
    this.trust = prepareCosignTrust(trust);
  }

  verify(target: VerificationTarget, material: SignatureMaterial, now: Date): SignerResult {
    const failures: Failure[] = [];
    const candidates = [
      ...material.cosignLegacy.map((sig) => ({
        format: 'legacy' as const,
        check: () => checkLegacySignature(sig, target, this.trust, now),
        where: sig.signatureManifestDigest,
      })),
      ...material.cosignBundles.map((sig) => ({
        format: 'bundle' as const,
        check: () => checkBundleSignature(sig, target, this.trust, now),
        where: sig.signatureManifestDigest,
      })),
    ];
    for (const candidate of candidates) {
      const outcome = judgeOrFail(candidate.check, (cause): SignatureCheck => ({
        ok: false,
        reason: 'SignatureInvalid',
        message: `the signature could not be read (${cause})`,
      }));
      if (outcome.ok) {
        return {
          name: this.name,
          type: 'cosign',
          format: candidate.format,
          identity: outcome.identity,
          verified: true,
          message: `${candidate.format} signature ${candidate.where} verified${outcome.note ? ` (${outcome.note})` : ''}`,
        };
      }
      failures.push({
        format: candidate.format,
        reason: outcome.reason,
        message: `${candidate.where}: ${outcome.message}`,
      });
    }
    const worst = mostTelling(failures);
    if (!worst)
      return {
        name: this.name,
        type: 'cosign',
        verified: false,
        reason: 'SignatureMissing',
        message: 'no cosign signature (legacy .sig tag or Sigstore bundle referrer) for this digest',
      };
    return {
      name: this.name,
      type: 'cosign',
      format: worst.format,
      verified: false,
      reason: worst.reason,
      message:
        failures.length === 1
          ? worst.message
          : `${worst.message} (and ${failures.length - 1} more signatures failed)`,
    };
  }
}

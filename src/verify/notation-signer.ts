// Adapts the Notation verifier (src/verify/notation/) to the Verifier interface for one signer entry.
import type { NotationTrust, SignatureMaterial, SignerResult, VerificationTarget } from './types.ts';
import type { Verifier, VerifierIo } from './verifier.ts';
import { verifyNotation } from './notation/notation-verifier.ts';

export class NotationSignerVerifier implements Verifier {
  readonly name: string;
  readonly type = 'notation' as const;
  private readonly trust: NotationTrust;

  constructor(trust: NotationTrust) {
    this.name = trust.name;
    this.trust = trust;
  }

  verify(
    target: VerificationTarget,
    material: SignatureMaterial,
    now: Date,
    io: VerifierIo,
  ): Promise<SignerResult> {
    // The caller reads the manifest whenever the policy has a notation entry.
    return verifyNotation(
      { mediaType: target.mediaType ?? '', digest: target.digest, size: target.size ?? -1 },
      material.notation,
      this.trust,
      now,
      io.revocation,
    );
  }
}

// The one interface every signature verifier implements: one configured signer entry (trust as data)
// checked against the signature material fetched for one digest. Implementations do no registry I/O;
// the only I/O is revocation checking of Notary Project chains, through the checker in `io`.
import type { ChainRevocation } from './notation/revocation/revocation.ts';
import type { SignatureMaterial, SignerResult, VerificationTarget } from './types.ts';

export interface VerifierIo {
  /** OCSP / CRL for Notary Project chains; without one, revocation is reported as not checked. */
  readonly revocation?: ChainRevocation;
}

export interface Verifier {
  /** The signer entry's name from the policy. */
  readonly name: string;
  readonly type: SignerResult['type'];
  verify(
    target: VerificationTarget,
    material: SignatureMaterial,
    now: Date,
    io: VerifierIo,
  ): SignerResult | Promise<SignerResult>;
}

// The one interface every signature verifier implements: one configured signer entry (trust as data)
// checked against the signature material fetched for one digest. Implementations do no I/O.
import type { SignatureMaterial, SignerResult, VerificationTarget } from './types.ts';

export interface Verifier {
  /** The signer entry's name from the policy. */
  readonly name: string;
  readonly type: 'cosign' | 'notation';
  verify(target: VerificationTarget, material: SignatureMaterial, now: Date): SignerResult;
}

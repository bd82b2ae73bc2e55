// A cosign signer entry made ready to verify with: keys parsed, trusted root parsed (the public-good root
// when none is given), and the outcome type of checking one signature against it.
import type { CosignTrust, VerifyReason } from '../types.ts';
import { parsePublicKeys, type TrustedKey } from './public-keys.ts';
import { parseTrustedRoot, PUBLIC_GOOD_TRUSTED_ROOT, type TrustAnchors } from './trusted-root.ts';
import { prepareIdentityPolicy, type CertificateIdentityPolicy } from './certificates.ts';

export interface PreparedCosignTrust {
  readonly name: string;
  readonly keys: readonly TrustedKey[];
  readonly keyless: CertificateIdentityPolicy | undefined;
  readonly anchors: TrustAnchors;
  readonly requireTransparencyLog: boolean;
}

/** Certificates a signature may carry (leaf, intermediates, root): walking a longer chain only costs checks. */
export const MAX_CHAIN_CERTIFICATES = 10;

/** The outcome of one signature against one signer entry; `note` adds what else was checked. */
export type SignatureCheck =
  | { readonly ok: true; readonly identity: string; readonly note?: string }
  | { readonly ok: false; readonly reason: VerifyReason; readonly message: string };

export const prepareCosignTrust = (trust: CosignTrust): PreparedCosignTrust => ({
  name: trust.name,
  keys: parsePublicKeys(trust.publicKeys, trust.name),
  keyless: trust.keyless && prepareIdentityPolicy(trust.keyless),
  anchors: parseTrustedRoot(trust.trustedRoot ?? PUBLIC_GOOD_TRUSTED_ROOT, trust.name),
  requireTransparencyLog: trust.requireTransparencyLog,
});

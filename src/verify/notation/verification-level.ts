// The Notary Project verification levels (trust-store-trust-policy.md, "Signature Verification
// details"): which checks are enforced (fail the signature), logged (reported, not failing) or skipped.
import type { NotationLevel } from '../../api/artifact-verification.ts';
import type { NotationTrust } from '../types.ts';

export type ValidationType = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type ValidationAction = 'enforce' | 'log' | 'skip';

/** The spec's table; `skip` (no verification at all) is not offered by tagguard's API. */
export const VERIFICATION_LEVELS: Readonly<
  Record<NotationLevel, Readonly<Record<ValidationType, ValidationAction>>>
> = {
  strict: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'enforce',
    expiry: 'enforce',
    revocation: 'enforce',
  },
  permissive: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'log',
    expiry: 'log',
    revocation: 'log',
  },
  audit: {
    integrity: 'enforce',
    authenticity: 'log',
    authenticTimestamp: 'log',
    expiry: 'log',
    revocation: 'log',
  },
};

export const actionFor = (level: NotationLevel, type: ValidationType): ValidationAction =>
  VERIFICATION_LEVELS[level][type];

/** What a signer entry does with revocation: its `revocation` override, else its level's action. */
export const revocationActionFor = (trust: Pick<NotationTrust, 'level' | 'revocation'>): ValidationAction =>
  trust.revocation ?? actionFor(trust.level, 'revocation');

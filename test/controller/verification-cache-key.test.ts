// When a verification is computed again: a new digest, repository or policy always; the passing of an
// hour only when a notation signer looks at revocation (its answer can change without anything else).
import { describe, expect, it } from 'vitest';
import { REVOCATION_RECHECK_MS, verificationCacheKey } from '../../src/controller/artifact-checker.ts';
import { trustPolicyFromSpec } from '../../src/verify/trust-policy.ts';
import type { NotationTrust, TrustPolicy } from '../../src/verify/types.ts';
import { makeKey } from '../verify/provenance/provenance-fixtures.ts';

const repo = { registry: 'registry.example.com', repository: 'charts/payment' };
const digest = `sha256:${'a'.repeat(64)}`;
const notation = (overrides: Partial<NotationTrust> = {}): NotationTrust => ({
  name: 'release',
  caCertificates: ['-----BEGIN CERTIFICATE-----'],
  tsaCertificates: [],
  trustedIdentities: ['*'],
  level: 'strict',
  ...overrides,
});
const policy = (signers: NotationTrust[]): TrustPolicy => ({
  minSignatures: 1,
  cosign: [],
  notation: signers,
});

const start = new Date(Math.ceil(Date.now() / REVOCATION_RECHECK_MS) * REVOCATION_RECHECK_MS);
const sameHour = new Date(start.getTime() + REVOCATION_RECHECK_MS - 1);
const nextHour = new Date(start.getTime() + REVOCATION_RECHECK_MS);

describe('verificationCacheKey', () => {
  it.each([
    ['strict', notation()],
    ['permissive (logged)', notation({ level: 'permissive' })],
    ['an enforce override', notation({ level: 'audit', revocation: 'enforce' })],
  ])('changes each hour when revocation is looked at: %s', (_name, signer) => {
    const p = policy([signer]);
    expect(verificationCacheKey({ ...repo, digest }, p, sameHour)).toBe(
      verificationCacheKey({ ...repo, digest }, p, start),
    );
    expect(verificationCacheKey({ ...repo, digest }, p, nextHour)).not.toBe(
      verificationCacheKey({ ...repo, digest }, p, start),
    );
  });

  it('does not change with time when revocation is skipped or there is no notation signer', () => {
    for (const p of [policy([notation({ revocation: 'skip' })]), policy([])])
      expect(verificationCacheKey({ ...repo, digest }, p, nextHour)).toBe(
        verificationCacheKey({ ...repo, digest }, p, start),
      );
  });

  it('changes with the digest, the repository and the policy', () => {
    const p = policy([notation()]);
    const base = verificationCacheKey({ ...repo, digest }, p, start);
    expect(verificationCacheKey({ ...repo, digest: `sha256:${'b'.repeat(64)}` }, p, start)).not.toBe(base);
    expect(verificationCacheKey({ ...repo, repository: 'charts/other', digest }, p, start)).not.toBe(base);
    expect(
      verificationCacheKey({ ...repo, digest }, policy([notation({ level: 'permissive' })]), start),
    ).not.toBe(base);
  });

  it('changes with a rotated provenance keyring Secret and, for provenance policies only, with the tag', async () => {
    const [a, b] = await Promise.all([makeKey('a'), makeKey('b')]);
    const spec = { provenance: [{ name: 'helm', keyring: { secretRef: { name: 'helm-keys' } } }] };
    const withKeys = (...armored: string[]) =>
      trustPolicyFromSpec(spec, {
        keyringSecrets: { 'helm-keys': Object.fromEntries(armored.map((k, i) => [`k${i}`, Buffer.from(k)])) },
      });
    const ref = { ...repo, digest };
    const base = verificationCacheKey(ref, await withKeys(a.armored), start, '0.1.0');
    expect(verificationCacheKey(ref, await withKeys(a.armored), start, '0.1.0')).toBe(base);
    expect(verificationCacheKey(ref, await withKeys(b.armored), start, '0.1.0')).not.toBe(base);
    expect(verificationCacheKey(ref, await withKeys(a.armored, b.armored), start, '0.1.0')).not.toBe(base);
    expect(verificationCacheKey(ref, await withKeys(a.armored), start, '0.2.0')).not.toBe(base);
    const cosignOnly = policy([]);
    expect(verificationCacheKey(ref, cosignOnly, start, '0.1.0')).toBe(
      verificationCacheKey(ref, cosignOnly, start, '0.2.0'),
    );
  });
});

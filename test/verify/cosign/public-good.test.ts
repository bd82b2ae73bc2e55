// The offline checks against the Sigstore public-good trusted root shipped with tagguard, on a real
// keyless signature (Fulcio certificate with the v1 issuer extension, Rekor SET) — see the fixture.
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { X509Certificate } from '@sigstore/core';
import { verifyRekorBundle } from '../../../src/verify/cosign/rekor-set.ts';
import { verifyEmbeddedScts } from '../../../src/verify/cosign/certificate-transparency.ts';
import { parseTrustedRoot, PUBLIC_GOOD_TRUSTED_ROOT } from '../../../src/verify/cosign/trusted-root.ts';
import {
  checkIdentity,
  fulcioIssuer,
  parseCertificates,
  verifyCertificateChain,
} from '../../../src/verify/cosign/certificates.ts';
import * as real from './fixtures/kubewarden-keyless-2022.ts';

const anchors = parseTrustedRoot(PUBLIC_GOOD_TRUSTED_ROOT, 'public-good');
const leaf = X509Certificate.parse(real.certificate);
const signedAt = new Date(1645806604 * 1000);
const signature = Buffer.from(real.signature, 'base64');

describe('the shipped public-good trusted root', () => {
  it('verifies a real Rekor SET and binds it to the signature and certificate (only the payload differs)', () => {
    // The payload was not published: the check must get past the SET, the signature and the key, and
    // stop at the payload hash.
    const result = verifyRekorBundle(
      real.rekorBundle,
      anchors,
      signature,
      Buffer.from('not the payload'),
      createPublicKey(real.certificate),
    );
    expect(result).toEqual({ ok: false, message: 'the Rekor entry is about another payload' });
  });

  it('refuses the same SET with one bit of it changed', () => {
    const bundle = JSON.parse(real.rekorBundle) as { Payload: { logIndex: number } };
    bundle.Payload.logIndex += 1;
    const result = verifyRekorBundle(
      JSON.stringify(bundle),
      anchors,
      signature,
      Buffer.from(''),
      createPublicKey(real.certificate),
    );
    expect(result).toEqual({ ok: false, message: 'the Rekor signed entry timestamp does not verify' });
  });

  it('trusts the 2021 Fulcio root only inside the window the trusted root gives it (from 2022-04-13)', () => {
    // As sigstore-go and sigstore-js: the root that issued this February 2022 leaf is listed with
    // validFor.start 2022-04-13, so the leaf chains but is not trusted for its signing time.
    expect(verifyCertificateChain(leaf, parseCertificates(real.chain), anchors, signedAt)).toMatchObject({
      ok: false,
      reason: 'UntrustedSigner',
      message: expect.stringContaining('not trusted for 2022-02-25') as unknown,
    });
  });

  it('chains the Fulcio certificate to the real root at the Rekor time, and finds it expired now', () => {
    const root = structuredClone(PUBLIC_GOOD_TRUSTED_ROOT) as {
      certificateAuthorities: { validFor?: { start?: string } }[];
    };
    for (const ca of root.certificateAuthorities) delete ca.validFor;
    const widened = parseTrustedRoot(root, 'public-good, CA windows removed');
    const chain = parseCertificates(real.chain);
    const verified = verifyCertificateChain(leaf, chain, widened, signedAt);
    expect(verified).toMatchObject({ ok: true, identity: real.identity.subject });
    // The issuer (for SCTs) is the 2021 Fulcio root the chain ends in.
    expect(verified.ok && verified.issuer.equals(chain[0] as X509Certificate)).toBe(true);
    expect(verifyCertificateChain(leaf, [], widened, signedAt)).toMatchObject({ ok: true });
    expect(verifyCertificateChain(leaf, chain, widened, new Date())).toMatchObject({
      ok: false,
      reason: 'CertificateExpired',
    });
  });

  it('reads the issuer from the v1 Fulcio extension and matches the workflow identity', () => {
    expect(fulcioIssuer(leaf)).toBe(real.identity.issuer);
    expect(
      checkIdentity(leaf, {
        issuer: real.identity.issuer,
        subjectRegex: 'https://github\\.com/kubewarden/.*',
      }),
    ).toEqual({
      ok: true,
      identity: real.identity.subject,
    });
    expect(
      checkIdentity(leaf, { issuer: real.identity.issuer, subjectRegex: 'https://github\\.com/kubewarden' }),
    ).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(
      checkIdentity(leaf, { issuer: 'https://accounts.google.com', subject: real.identity.subject }),
    ).toMatchObject({
      ok: false,
      reason: 'UntrustedSigner',
    });
  });

  it('lists the two public-good CT logs under their RFC 6962 log IDs (SHA-256 of the key)', () => {
    const root = PUBLIC_GOOD_TRUSTED_ROOT as { ctlogs: { logId: { keyId: string } }[] };
    expect([...anchors.ctlogs.keys()].sort()).toEqual(
      root.ctlogs.map((l) => Buffer.from(l.logId.keyId, 'base64').toString('hex')).sort(),
    );
  });

  it('refuses this February 2022 Fulcio certificate for lack of an embedded SCT (Fulcio added them later)', () => {
    const result = verifyEmbeddedScts(
      leaf,
      parseCertificates(real.chain)[0] as X509Certificate,
      anchors,
      signedAt,
    );
    expect(result).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(!result.ok && result.message).toMatch(/no SCT/);
  });

  it('does not trust the same certificate under a private root', () => {
    const empty = parseTrustedRoot(
      {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [],
        ctlogs: [],
        certificateAuthorities: [],
        timestampAuthorities: [],
      },
      'private',
    );
    expect(verifyCertificateChain(leaf, parseCertificates(real.chain), empty, signedAt)).toMatchObject({
      ok: false,
      reason: 'UntrustedSigner',
    });
  });
});

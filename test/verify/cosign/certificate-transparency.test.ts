// Embedded SCTs of keyless signing certificates: leaves with REAL SCTs made at run time (openssl issues
// the precertificate with the poison extension and the final certificate; a test CT log key signs the
// RFC 6962 precert entry), checked against trusted roots that list (or do not list) the log.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from '@sigstore/core';
import { createCA, type KeyPair } from '../../env/pki.ts';
import {
  createCtLog,
  ctLogEntry,
  issueCertificateWithScts,
  type CtLog,
  type SctLeafOptions,
} from '../../env/ct-log.ts';
import { fulcioIssuerExtensions, privateTrustedRoot } from '../../env/sign.ts';
import { verifyEmbeddedScts } from '../../../src/verify/cosign/certificate-transparency.ts';
import { parseTrustedRoot, type TrustAnchors } from '../../../src/verify/cosign/trusted-root.ts';
import { CosignVerifier } from '../../../src/verify/cosign/cosign-verifier.ts';

const ISSUER = 'https://token.tagguard.test';
const HOUR = 3_600_000;
const DIGEST = `sha256:${'ab'.repeat(32)}`;

let dir: string;
let ca: KeyPair;
let otherCa: KeyPair;
let log: CtLog;
let foreignLog: CtLog;
let caCert: X509Certificate;

const rootJson = (logs: readonly unknown[], caPem = ca.certPem): Record<string, unknown> => ({
  ...(privateTrustedRoot(caPem) as Record<string, unknown>),
  ctlogs: logs,
});

const anchorsWith = (...logs: unknown[]): TrustAnchors => parseTrustedRoot(rootJson(logs), 'test');

/** Our log, trusted from a day ago with no end. */
const trustingLog = (): TrustAnchors =>
  anchorsWith(ctLogEntry(log, { start: new Date(Date.now() - 24 * HOUR) }));

let counter = 0;
const leaf = async (
  scts: SctLeafOptions['scts'],
  issuer: KeyPair = ca,
): Promise<{ cert: X509Certificate; pem: string; keyFile: string; list: Buffer }> => {
  const name = `leaf-${++counter}`;
  const issued = await issueCertificateWithScts(issuer, dir, name, {
    subject: `/CN=${name}`,
    extensions: ['subjectAltName = email:alice@tagguard.test', ...fulcioIssuerExtensions(ISSUER)],
    scts,
  });
  return {
    cert: X509Certificate.parse(issued.certPem),
    pem: issued.certPem,
    keyFile: issued.keyFile,
    list: issued.sctList,
  };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tagguard-sct-'));
  [ca, otherCa] = await Promise.all([createCA(dir, 'fulcio-ca'), createCA(dir, 'other-ca')]);
  caCert = X509Certificate.parse(ca.certPem);
  log = createCtLog();
  foreignLog = createCtLog();
});

describe('verifyEmbeddedScts', () => {
  it('accepts a certificate whose SCT the trusted CT log signed over its precertificate', async () => {
    const { cert } = await leaf([{ log }]);
    const result = verifyEmbeddedScts(cert, caCert, trustingLog(), new Date());
    expect(result).toEqual({
      ok: true,
      note: `SCT from CT log ${log.logId.toString('hex').slice(0, 16)} verified`,
    });
  });

  it('refuses an SCT whose log ID names the trusted log but which another key signed', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { cert } = await leaf([{ log, signWith: privateKey }]);
    const result = verifyEmbeddedScts(cert, caCert, trustingLog(), new Date());
    expect(result).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(!result.ok && result.message).toMatch(/SCT .* does not verify with the log's key/);
  });

  it('refuses an SCT from a log the trusted root does not list', async () => {
    const { cert } = await leaf([{ log: foreignLog }]);
    const result = verifyEmbeddedScts(cert, caCert, trustingLog(), new Date());
    expect(result).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(!result.ok && result.message).toMatch(/not a CT log of the trusted root/);
  });

  it.each(['signature', 'timestamp'] as const)('refuses an SCT with its %s altered', async (tamper) => {
    const { cert } = await leaf([{ log, tamper }]);
    expect(verifyEmbeddedScts(cert, caCert, trustingLog(), new Date())).toMatchObject({
      ok: false,
      reason: 'UntrustedSigner',
    });
  });

  it('refuses the SCTs of another certificate copied into this one', async () => {
    const original = await leaf([{ log }]);
    const copy = await leaf({ list: original.list });
    expect(verifyEmbeddedScts(original.cert, caCert, trustingLog(), new Date())).toMatchObject({ ok: true });
    expect(verifyEmbeddedScts(copy.cert, caCert, trustingLog(), new Date())).toMatchObject({
      ok: false,
      reason: 'UntrustedSigner',
    });
  });

  it('binds the SCT to the issuer key: the same certificate checked as issued by another CA fails', async () => {
    const { cert } = await leaf([{ log }]);
    expect(
      verifyEmbeddedScts(cert, X509Certificate.parse(otherCa.certPem), trustingLog(), new Date()),
    ).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
  });

  it('requires an SCT when the trusted root lists CT logs, and says it is not checked when it lists none', async () => {
    const { cert } = await leaf('none');
    const required = verifyEmbeddedScts(cert, caCert, trustingLog(), new Date());
    expect(required).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(!required.ok && required.message).toMatch(/carries no SCT/);
    expect(verifyEmbeddedScts(cert, caCert, anchorsWith(), new Date())).toEqual({
      ok: true,
      note: 'SCTs not checked: the trusted root lists no CT logs',
    });
  });

  it('accepts an SCT only inside the validity window the trusted root gives the log', async () => {
    const signedAt = new Date(Date.now() - 2 * HOUR);
    const { cert } = await leaf([{ log, timestamp: signedAt }]);
    const ended = anchorsWith(
      ctLogEntry(log, { start: new Date(Date.now() - 24 * HOUR), end: new Date(Date.now() - 3 * HOUR) }),
    );
    const notYet = anchorsWith(ctLogEntry(log, { start: new Date(Date.now() - HOUR) }));
    const covering = anchorsWith(
      ctLogEntry(log, { start: new Date(Date.now() - 24 * HOUR), end: new Date(Date.now() - HOUR) }),
    );
    for (const anchors of [ended, notYet]) {
      const result = verifyEmbeddedScts(cert, caCert, anchors, new Date());
      expect(result).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
      expect(!result.ok && result.message).toMatch(/outside the log's validity/);
    }
    expect(verifyEmbeddedScts(cert, caCert, covering, new Date())).toMatchObject({ ok: true });
  });

  it('refuses an SCT dated in the future', async () => {
    const { cert } = await leaf([{ log, timestamp: new Date(Date.now() + HOUR) }]);
    const result = verifyEmbeddedScts(cert, caCert, trustingLog(), new Date());
    expect(result).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(!result.ok && result.message).toMatch(/in the future/);
    expect(verifyEmbeddedScts(cert, caCert, trustingLog(), new Date(Date.now() + 2 * HOUR))).toMatchObject({
      ok: true,
    });
  });

  it('is satisfied by one valid SCT among others that do not verify', async () => {
    const { cert } = await leaf([{ log: foreignLog }, { log, tamper: 'signature' }, { log }]);
    expect(verifyEmbeddedScts(cert, caCert, trustingLog(), new Date())).toMatchObject({ ok: true });
  });
});

describe('CosignVerifier with a keyless legacy signature', () => {
  const signed = async (scts: SctLeafOptions['scts']) => {
    const { pem, keyFile } = await leaf(scts);
    const payload = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': 'registry.test/app' },
          image: { 'docker-manifest-digest': DIGEST },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
    const signature = sign('sha256', payload, await readFile(keyFile, 'utf8')).toString('base64');
    return {
      cosignLegacy: [
        { payload, signature, certificate: pem, chain: ca.certPem, signatureManifestDigest: 'sha256:sig' },
      ],
      cosignBundles: [],
      notation: [],
    };
  };

  const verifier = (ctlogs: unknown[]) =>
    new CosignVerifier({
      name: 'ci',
      publicKeys: [],
      keyless: { issuer: ISSUER, subject: 'alice@tagguard.test' },
      trustedRoot: rootJson(ctlogs),
      requireTransparencyLog: false,
    });

  const target = { repository: 'registry.test/app', digest: DIGEST };

  it('verifies the signer and names the SCT it checked', async () => {
    const material = await signed([{ log }]);
    const result = verifier([ctLogEntry(log, { start: new Date(Date.now() - HOUR) })]).verify(
      target,
      material,
      new Date(),
    );
    expect(result.verified).toBe(true);
    expect(result.message).toMatch(/SCT from CT log [0-9a-f]{16} verified/);
  });

  it('fails the signer with UntrustedSigner naming the SCT when the certificate has none', async () => {
    const material = await signed('none');
    const result = verifier([ctLogEntry(log, { start: new Date(Date.now() - HOUR) })]).verify(
      target,
      material,
      new Date(),
    );
    expect(result).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
    expect(result.message).toMatch(/SCT/);
    const withoutLogs = verifier([]).verify(target, material, new Date());
    expect(withoutLogs.verified).toBe(true);
    expect(withoutLogs.message).toMatch(/SCTs not checked/);
  });
});

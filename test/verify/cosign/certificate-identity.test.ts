// checkIdentity on certificates whose SAN bytes are written by hand (DER through openssl): the identity is
// the one Go's x509 and sigstore-go read (first URI, else first e-mail; nothing when Go would refuse the
// certificate or re-encode the URI), and subjectRegex is an RE2 full match in linear time.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCA,
  issueCertificate,
  rawSubjectAltName,
  type GeneralName,
  type KeyPair,
} from '../../env/pki.ts';
import { checkIdentity, prepareIdentityPolicy } from '../../../src/verify/cosign/certificates.ts';

const ISSUER = 'https://issuer.tagguard.test';
const WORKFLOW = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3';

const certificates: Record<string, GeneralName[]> = {
  email: [['email', 'alice@tagguard.test']],
  workflow: [['uri', WORKFLOW]],
  workflowAndEmail: [
    ['email', 'alice@tagguard.test'],
    ['uri', WORKFLOW],
  ],
  carriageReturn: [['email', 'alice\r@tagguard.test']],
  // 0xe5 is 'e' with the high bit set: Node's 'ascii' decoding read it as "alice@tagguard.test".
  highBitEmail: [
    ['email', Buffer.concat([Buffer.from('alic'), Buffer.from([0xe5]), Buffer.from('@tagguard.test')])],
  ],
  highBitDns: [
    ['email', 'alice@tagguard.test'],
    ['dns', Buffer.from([0x61, 0xe5, 0x2e, 0x74])],
  ],
  upperScheme: [['uri', 'HTTPS://github.com/acme/app']],
  userinfo: [['uri', 'https://acme@github.com/acme/app']],
  space: [['uri', 'https://github.com/acme/app x']],
  fragment: [['uri', 'https://github.com/acme/app#x#y']],
  badEscape: [['uri', 'https://github.com/acme/app%zz']],
  escapedSlash: [['uri', 'https://github.com/acme/app%2Fx']],
  longEmail: [['email', `${'a'.repeat(10_000)}@tagguard.test`]],
  longUri: [['uri', `https://github.com/${'a'.repeat(10_000)}`]],
};

const leaves: Record<string, X509Certificate> = {};

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-identity-unit-'));
  const ca: KeyPair = await createCA(dir, 'ca');
  await Promise.all(
    Object.entries(certificates).map(async ([name, names]) => {
      const leaf = await issueCertificate(ca, dir, name, {
        subject: `/CN=${name}`,
        usage: 'code-signing',
        extraExtensions: [rawSubjectAltName(names), `1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:${ISSUER}`],
      });
      leaves[name] = X509Certificate.parse(leaf.certPem);
    }),
  );
}, 60_000);

const leaf = (name: string): X509Certificate => {
  const cert = leaves[name];
  if (!cert) throw new Error(`no test certificate ${name}`);
  return cert;
};

const regex = (name: string, subjectRegex: string) =>
  checkIdentity(leaf(name), { issuer: ISSUER, subjectRegex });
const exact = (name: string, subject: string) => checkIdentity(leaf(name), { issuer: ISSUER, subject });

describe('checkIdentity with subjectRegex', () => {
  it('matches the whole SAN with RE2, anchored at both ends', () => {
    expect(regex('email', 'alice@tagguard\\.test')).toEqual({ ok: true, identity: 'alice@tagguard.test' });
    expect(regex('email', '(?i)ALICE@TAGGUARD\\.TEST')).toMatchObject({ ok: true });
    expect(regex('email', 'alice@tagguard')).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(regex('email', 'lice@tagguard\\.test')).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(
      regex(
        'workflow',
        'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v\\d+(\\.\\d+)*',
      ),
    ).toEqual({
      ok: true,
      identity: WORKFLOW,
    });
  });

  it('reads `.` as RE2 does: it matches a carriage return, as it does for cosign', () => {
    expect(regex('carriageReturn', '.*@tagguard\\.test')).toEqual({
      ok: true,
      identity: 'alice\r@tagguard.test',
    });
    expect(regex('carriageReturn', '\\w+@tagguard\\.test')).toMatchObject({ ok: false });
  });

  it('takes the first URI before any e-mail, as sigstore-go does', () => {
    expect(regex('workflowAndEmail', 'alice@tagguard\\.test')).toMatchObject({ ok: false });
    expect(regex('workflowAndEmail', 'https://github\\.com/acme/.*')).toMatchObject({
      ok: true,
      identity: WORKFLOW,
    });
  });

  it('compiles the pattern once per signer entry and matches with it', () => {
    const prepared = prepareIdentityPolicy({ issuer: ISSUER, subjectRegex: '(?i)ALICE@tagguard\\.test' });
    expect(prepared.subjectPattern?.source).toBe('(?i)ALICE@tagguard\\.test');
    expect(checkIdentity(leaf('email'), prepared)).toMatchObject({ ok: true });
    const refused = prepareIdentityPolicy({ issuer: ISSUER, subjectRegex: '.*\\Z' });
    expect(refused.subjectPattern).toBeUndefined();
    expect(checkIdentity(leaf('email'), refused)).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
  });

  it('matches nothing with a pattern RE2 refuses', () => {
    expect(regex('email', 'alice@tagguard\\.test\\Z')).toMatchObject({
      ok: false,
      reason: 'UntrustedSigner',
    });
    expect(regex('email', '(?=a)alice@tagguard\\.test')).toMatchObject({
      ok: false,
      reason: 'UntrustedSigner',
    });
  });

  it('answers in linear time on a 10k-character SAN', () => {
    for (const [name, pattern] of [
      ['longEmail', '(a+)+b'],
      ['longEmail', '(a|aa)+@x'],
      ['longUri', 'https://github\\.com/(a*)*b'],
    ] as const) {
      const start = performance.now();
      expect(regex(name, pattern)).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
      expect(performance.now() - start).toBeLessThan(1000);
    }
    expect(regex('longEmail', '(a+)+@tagguard\\.test')).toMatchObject({ ok: true });
  });
});

describe('SANs Go reads otherwise are no identity', () => {
  it.each([
    ['highBitEmail', 'an e-mail byte >= 0x80 (Go x509 refuses the certificate)'],
    ['highBitDns', 'a DNS name byte >= 0x80 beside a clean e-mail'],
  ])('%s: %s', (name) => {
    expect(exact(name, 'alice@tagguard.test')).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(regex(name, 'alic.@tagguard\\.test')).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(regex(name, '.*')).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
  });

  it.each([
    ['upperScheme', '(?i)https://github\\.com/acme/app'],
    ['userinfo', 'https://acme@github\\.com/acme/app'],
    ['space', 'https://github\\.com/acme/app x'],
    ['fragment', 'https://github\\.com/acme/app#x#y'],
    ['badEscape', 'https://github\\.com/acme/app%zz'],
  ])('%s: a URI Go would refuse or re-encode matches nothing', (name, pattern) => {
    expect(regex(name, pattern)).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
    expect(regex(name, '.*')).toMatchObject({ ok: false, reason: 'UntrustedSigner' });
  });

  it('keeps a URI Go writes back as it is', () => {
    expect(exact('escapedSlash', 'https://github.com/acme/app%2Fx')).toEqual({
      ok: true,
      identity: 'https://github.com/acme/app%2Fx',
    });
  });
});

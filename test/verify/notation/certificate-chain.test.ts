// Code-signing chains with intermediates (root → intermediate → leaf), made by openssl: which
// certificate may anchor trust, path length limits, and what is not a valid chain.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCertificate, type KeyPair } from '../../env/pki.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import { buildJws, chartTarget, jwsEnvelope, trustFor, type TestSigner } from './fixtures.ts';

const der = (pair: KeyPair): Buffer => new X509Certificate(pair.certPem).raw;

let root: KeyPair;
let intermediate: KeyPair;
let leaf: KeyPair;
let constrained: KeyPair;
let subIntermediate: KeyPair;
let deepLeaf: KeyPair;
let caAsLeaf: KeyPair;

const signerOf = async (leafPair: KeyPair, chain: KeyPair[]): Promise<TestSigner> => ({
  key: createPrivateKey(await readFile(leafPair.keyFile)),
  chain: chain.map(der),
  caPem: root.certPem,
  leafSubject: '',
  notAfter: new X509Certificate(leafPair.certPem).validToDate,
});

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-notation-chain-'));
  root = await createCA(dir, 'root', 30);
  intermediate = await issueCertificate(root, dir, 'intermediate', {
    subject: '/O=Acme/CN=Acme Signing CA',
    usage: 'ca',
    days: 20,
  });
  leaf = await issueCertificate(intermediate, dir, 'leaf', {
    subject: '/C=US/ST=WA/O=Acme/CN=release',
    usage: 'code-signing',
    days: 10,
  });
  constrained = await issueCertificate(root, dir, 'constrained', {
    subject: '/O=Acme/CN=Constrained CA',
    usage: 'ca',
    pathLength: 0,
  });
  subIntermediate = await issueCertificate(constrained, dir, 'sub', {
    subject: '/O=Acme/CN=Sub CA',
    usage: 'ca',
  });
  deepLeaf = await issueCertificate(subIntermediate, dir, 'deep', {
    subject: '/C=US/ST=WA/O=Acme/CN=deep',
    usage: 'code-signing',
  });
  caAsLeaf = await issueCertificate(root, dir, 'ca-leaf', {
    subject: '/C=US/ST=WA/O=Acme/CN=ca-leaf',
    usage: 'ca',
  });
});

const verify = async (
  leafPair: KeyPair,
  chain: KeyPair[],
  trustStore: KeyPair[],
): Promise<ReturnType<typeof verifyNotation>> => {
  const signer = await signerOf(leafPair, chain);
  const trust = trustFor(signer, {
    caCertificates: trustStore.map((p) => p.certPem),
    trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme'],
  });
  return await verifyNotation(chartTarget, [jwsEnvelope(buildJws(signer, chartTarget))], trust, new Date());
};

describe('chains with an intermediate CA', () => {
  it('verify when the trust store holds the root', async () => {
    expect(await verify(leaf, [leaf, intermediate, root], [root])).toMatchObject({
      verified: true,
      identity: 'C=US, ST=WA, O=Acme, CN=release',
    });
  });

  it('verify when the trust store holds only the intermediate (membership, as notation)', async () => {
    expect((await verify(leaf, [leaf, intermediate, root], [intermediate])).verified).toBe(true);
  });

  it('are untrusted when the trust store holds another root', async () => {
    const other = await createCA(await mkdtemp(join(tmpdir(), 'tagguard-notation-other-')), 'other', 30);
    expect(await verify(leaf, [leaf, intermediate, root], [other])).toMatchObject({
      verified: false,
      reason: 'UntrustedSigner',
    });
  });

  it('are invalid without the intermediate', async () => {
    const result = await verify(leaf, [leaf, root], [root]);
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
    expect(result.message).toContain('InvalidCertificateChain');
  });

  it('are invalid without the root (the envelope must carry the whole chain)', async () => {
    const result = await verify(leaf, [leaf, intermediate], [intermediate]);
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
  });

  it('honour pathlen: a CA with pathlen 0 cannot issue another CA', async () => {
    const result = await verify(deepLeaf, [deepLeaf, subIntermediate, constrained, root], [root]);
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
    expect(result.message).toContain('path length');
  });

  it('refuse a CA certificate as the signing certificate', async () => {
    const result = await verify(caAsLeaf, [caAsLeaf, root], [root]);
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
    expect(result.message).toContain('must not be a CA');
  });
});

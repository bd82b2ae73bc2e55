// Notary Project envelopes built in the test, from certificates made by openssl (test/env/pki.ts) and
// signatures made by node:crypto, so each header can be bent one way at a time. Real notation output is
// covered by test/integration/verify/notation-*.test.ts.
import { createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueCertificate, type CertUsage } from '../../env/pki.ts';
import { encodeCbor } from '../../../src/verify/notation/cbor.ts';
import type { NotationEnvelope, NotationTrust } from '../../../src/verify/types.ts';

export const PAYLOAD_CTY = 'application/vnd.cncf.notary.payload.v1+json';

export interface TestTarget {
  mediaType: string;
  digest: string;
  size: number;
}

export const chartTarget: TestTarget = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 1234,
};

export interface TestSigner {
  key: KeyObject;
  /** Leaf first, then the self-signed root. */
  chain: Buffer[];
  caPem: string;
  leafSubject: string;
  notAfter: Date;
}

export interface SignerOptions {
  subject?: string;
  usage?: CertUsage;
  /** Omit the root from the chain (the envelope then carries only the leaf). */
  leafOnly?: boolean;
}

const pemToDer = (pem: string): Buffer => new X509Certificate(pem).raw;

/** A P-256 CA and code-signing leaf made by openssl, as a signer. */
export const createTestSigner = async (options: SignerOptions = {}): Promise<TestSigner> => {
  const dir = await mkdtemp(join(tmpdir(), 'tagguard-notation-unit-'));
  const ca = await createCA(dir, 'root', 30);
  const subject = options.subject ?? '/C=US/ST=WA/L=Seattle/O=Acme/CN=release';
  const leaf = await issueCertificate(ca, dir, 'leaf', {
    subject,
    usage: options.usage ?? 'code-signing',
    days: 10,
  });
  const chain = options.leafOnly ? [pemToDer(leaf.certPem)] : [pemToDer(leaf.certPem), pemToDer(ca.certPem)];
  return {
    key: createPrivateKey(await readFile(leaf.keyFile)),
    chain,
    caPem: ca.certPem,
    leafSubject: subject,
    notAfter: new X509Certificate(leaf.certPem).validToDate,
  };
};

export const trustFor = (signer: TestSigner, overrides: Partial<NotationTrust> = {}): NotationTrust => ({
  name: 'acme-release',
  caCertificates: [signer.caPem],
  tsaCertificates: [],
  trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme, CN=release'],
  level: 'strict',
  ...overrides,
});

export const descriptorPayload = (target: TestTarget): Buffer =>
  Buffer.from(JSON.stringify({ targetArtifact: target }));

const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface JwsOptions {
  /** Merged over the default protected header; a key set to undefined is removed. */
  header?: Record<string, unknown>;
  unprotected?: Record<string, unknown>;
  payload?: Buffer;
  signingTime?: Date;
  /** Sign with this key instead of the signer's. */
  key?: KeyObject;
}

const signP1363 = (key: KeyObject, data: Buffer): Buffer =>
  sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });

/** A flattened JWS envelope signed with ES256, as notation makes it. */
export const buildJws = (signer: TestSigner, target: TestTarget, options: JwsOptions = {}): Buffer => {
  const header: Record<string, unknown> = {
    alg: 'ES256',
    crit: ['io.cncf.notary.signingScheme'],
    cty: PAYLOAD_CTY,
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': rfc3339(options.signingTime ?? new Date()),
  };
  for (const [key, value] of Object.entries(options.header ?? {})) {
    if (value === undefined) delete header[key];
    else header[key] = value;
  }
  const protectedB64 = Buffer.from(JSON.stringify(header)).toString('base64url');
  const payloadB64 = (options.payload ?? descriptorPayload(target)).toString('base64url');
  const signature = signP1363(options.key ?? signer.key, Buffer.from(`${protectedB64}.${payloadB64}`));
  return Buffer.from(
    JSON.stringify({
      payload: payloadB64,
      protected: protectedB64,
      header: {
        x5c: signer.chain.map((der) => der.toString('base64')),
        'io.cncf.notary.signingAgent': 'tagguard-test',
        ...options.unprotected,
      },
      signature: signature.toString('base64url'),
    }),
  );
};

/** A CBOR value for the test encoder: a tag is { tag, value }. */
export type TestCbor =
  number | string | Buffer | TestCbor[] | Map<number | string, TestCbor> | { tag: number; value: TestCbor };

const cborHead = (major: number, n: number): Buffer => {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
};

/** A general CBOR encoder for building test envelopes (definite lengths). */
export const cbor = (value: TestCbor): Buffer => {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') return encodeCbor(value);
  if (Buffer.isBuffer(value)) return encodeCbor(value);
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map(cbor)]);
  if (value instanceof Map)
    return Buffer.concat([cborHead(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  return Buffer.concat([cborHead(6, value.tag), cbor(value.value)]);
};

export interface CoseOptions {
  /** Entries merged over the default protected header; undefined removes an entry. */
  header?: [number | string, TestCbor | undefined][];
  unprotected?: [number | string, TestCbor][];
  payload?: Buffer;
  signingTime?: Date;
  /** Replace the whole encoding of COSE_Sign1 (after signing) for structural tests. */
  wrap?: (parts: {
    protectedRaw: Buffer;
    unprotected: Map<number | string, TestCbor>;
    payload: Buffer;
    signature: Buffer;
  }) => Buffer;
}

/** A COSE_Sign1_Tagged envelope signed with ES256 (alg -7), as notation makes it. */
export const buildCose = (signer: TestSigner, target: TestTarget, options: CoseOptions = {}): Buffer => {
  const header = new Map<number | string, TestCbor>([
    [1, -7],
    [2, ['io.cncf.notary.signingScheme']],
    [3, PAYLOAD_CTY],
    ['io.cncf.notary.signingScheme', 'notary.x509'],
    [
      'io.cncf.notary.signingTime',
      { tag: 1, value: Math.floor((options.signingTime ?? new Date()).getTime() / 1000) },
    ],
  ]);
  for (const [key, value] of options.header ?? []) {
    if (value === undefined) header.delete(key);
    else header.set(key, value);
  }
  const protectedRaw = cbor(header);
  const payload = options.payload ?? descriptorPayload(target);
  const unprotected = new Map<number | string, TestCbor>([
    [33, signer.chain],
    ['io.cncf.notary.signingAgent', 'tagguard-test'],
    ...(options.unprotected ?? []),
  ]);
  const signature = signP1363(signer.key, encodeCbor(['Signature1', protectedRaw, Buffer.alloc(0), payload]));
  if (options.wrap) return options.wrap({ protectedRaw, unprotected, payload, signature });
  return cbor({ tag: 18, value: [protectedRaw, unprotected, payload, signature] });
};

export const jwsEnvelope = (bytes: Buffer, digest = `sha256:${'01'.repeat(32)}`): NotationEnvelope => ({
  mediaType: 'application/jose+json',
  bytes,
  signatureManifestDigest: digest,
});

export const coseEnvelope = (bytes: Buffer, digest = `sha256:${'02'.repeat(32)}`): NotationEnvelope => ({
  mediaType: 'application/cose',
  bytes,
  signatureManifestDigest: digest,
});

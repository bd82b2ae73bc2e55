// Envelope integrity: crit handling, signed-attribute rules, certificate chain rules, malformed input
// and size limits, for JWS and COSE. Each refusal has its code; none crashes the verifier.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCoseEnvelope } from '../../../src/verify/notation/cose-envelope.ts';
import { decodeCbor, MAX_CBOR_DEPTH } from '../../../src/verify/notation/cbor.ts';
import { completeVerification, MAX_ENVELOPE_BYTES } from '../../../src/verify/notation/envelope.ts';
import { NotationError } from '../../../src/verify/notation/errors.ts';
import { parseJwsEnvelope } from '../../../src/verify/notation/jws-envelope.ts';
import { verifyNotation } from '../../../src/verify/notation/notation-verifier.ts';
import {
  buildCose,
  buildJws,
  cbor,
  chartTarget,
  coseEnvelope,
  createTestSigner,
  descriptorPayload,
  jwsEnvelope,
  trustFor,
  type TestSigner,
} from './fixtures.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof NotationError ? error.code : `not a NotationError: ${String(error)}`;
  }
};

const jwsCode = (bytes: Buffer): string | undefined =>
  codeOf(() => completeVerification(parseJwsEnvelope(bytes)));
const coseCode = (bytes: Buffer): string | undefined =>
  codeOf(() => completeVerification(parseCoseEnvelope(bytes)));

let signer: TestSigner;
let leafOnlySigner: TestSigner;
let serverCertSigner: TestSigner;
let other: TestSigner;

beforeAll(async () => {
  [signer, leafOnlySigner, serverCertSigner, other] = await Promise.all([
    createTestSigner(),
    createTestSigner({ leafOnly: true }),
    createTestSigner({ usage: 'server' }),
    createTestSigner(),
  ]);
});

describe('well-formed envelopes', () => {
  it('a JWS envelope verifies and yields the signed descriptor', () => {
    const verified = completeVerification(parseJwsEnvelope(buildJws(signer, chartTarget)));
    expect(verified.target).toEqual(chartTarget);
    expect(verified.signingScheme).toBe('notary.x509');
    expect(verified.algorithm).toBe('ES256');
  });

  it('a COSE envelope verifies and yields the signed descriptor', () => {
    const verified = completeVerification(parseCoseEnvelope(buildCose(signer, chartTarget)));
    expect(verified.target).toEqual(chartTarget);
    expect(verified.format).toBe('notation-cose');
  });

  it('reads a COSE x5chain given as a single byte string (the chain rules then apply)', () => {
    const bytes = buildCose(leafOnlySigner, chartTarget, {
      wrap: ({ protectedRaw, unprotected, payload, signature }) => {
        const single = new Map(unprotected);
        single.set(33, leafOnlySigner.chain[0] as Buffer);
        return cbor({ tag: 18, value: [protectedRaw, single, payload, signature] });
      },
    });
    // one certificate that is not self-signed is not a valid chain: the chain rules still run
    expect(coseCode(bytes)).toBe('InvalidCertificateChain');
  });
});

describe('crit (JWS)', () => {
  const expiry = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  it.each([
    [
      'an unknown critical header',
      { 'com.example.policy': 'x', crit: ['io.cncf.notary.signingScheme', 'com.example.policy'] },
      'UnknownCriticalHeader',
    ],
    [
      'a JWS header listed as critical',
      { crit: ['io.cncf.notary.signingScheme', 'alg'] },
      'UnknownCriticalHeader',
    ],
    [
      'a critical header that is absent',
      { crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'] },
      'CriticalHeaderMismatch',
    ],
    ['no crit', { crit: undefined }, 'CriticalHeaderMismatch'],
    ['an empty crit', { crit: [] }, 'CriticalHeaderMismatch'],
    ['crit without the signing scheme', { crit: ['io.cncf.notary.signingTime'] }, 'CriticalHeaderMismatch'],
    ['an expiry that is not critical', { 'io.cncf.notary.expiry': expiry }, 'CriticalHeaderMismatch'],
    ['crit that is not an array', { crit: 'io.cncf.notary.signingScheme' }, 'MalformedEnvelope'],
    [
      'a verification plugin',
      { 'io.cncf.notary.verificationPlugin': 'com.example.plugin' },
      'VerificationPluginRequired',
    ],
  ])('refuses %s', (_why, header, code) => {
    expect(jwsCode(buildJws(signer, chartTarget, { header }))).toBe(code);
  });

  it('accepts a critical expiry and an unknown non-critical header', () => {
    const bytes = buildJws(signer, chartTarget, {
      header: {
        'io.cncf.notary.expiry': expiry,
        'com.example.note': 'informational',
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
      },
    });
    expect(completeVerification(parseJwsEnvelope(bytes)).expiry?.toISOString()).toBe(
      new Date(expiry).toISOString(),
    );
  });
});

describe('crit (COSE)', () => {
  const future = { tag: 1, value: Math.floor(Date.now() / 1000) + 3600 };
  it.each([
    [
      'an unknown critical header',
      [
        ['com.example.policy', 'x'],
        [2, ['io.cncf.notary.signingScheme', 'com.example.policy']],
      ],
      'UnknownCriticalHeader',
    ],
    ['an integer label as critical', [[2, ['io.cncf.notary.signingScheme', 1]]], 'UnknownCriticalHeader'],
    [
      'a critical header that is absent',
      [[2, ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry']]],
      'CriticalHeaderMismatch',
    ],
    ['no crit', [[2, undefined]], 'CriticalHeaderMismatch'],
    ['an expiry that is not critical', [['io.cncf.notary.expiry', future]], 'CriticalHeaderMismatch'],
    ['a verification plugin', [['io.cncf.notary.verificationPlugin', 'p']], 'VerificationPluginRequired'],
  ] as [string, [number | string, unknown][], string][])('refuses %s', (_why, header, code) => {
    expect(coseCode(buildCose(signer, chartTarget, { header: header as never }))).toBe(code);
  });
});

describe('signed attributes', () => {
  const now = new Date();
  const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  it.each([
    ['an unsupported alg', { alg: 'HS256' }, 'UnsupportedAlgorithm'],
    ['alg none', { alg: 'none' }, 'UnsupportedAlgorithm'],
    ['an alg that does not match the key', { alg: 'ES384' }, 'AlgorithmMismatch'],
    ['another content type', { cty: 'application/json' }, 'InvalidPayload'],
    [
      'an unknown signing scheme',
      { 'io.cncf.notary.signingScheme': 'notary.default.x509' },
      'InvalidSigningScheme',
    ],
    ['no signing time', { 'io.cncf.notary.signingTime': undefined }, 'InvalidSigningTime'],
    [
      'a signing time that is not RFC 3339',
      { 'io.cncf.notary.signingTime': 'yesterday' },
      'InvalidSigningTime',
    ],
    [
      'an authentic signing time under notary.x509',
      { 'io.cncf.notary.authenticSigningTime': iso(now) },
      'InvalidSigningTime',
    ],
    [
      'an expiry before the signing time',
      {
        'io.cncf.notary.expiry': iso(new Date(now.getTime() - 60_000)),
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
      },
      'InvalidSigningTime',
    ],
    [
      'signingAuthority without an authentic signing time',
      {
        'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority',
        'io.cncf.notary.signingTime': undefined,
      },
      'CriticalHeaderMismatch',
    ],
    [
      'signingAuthority with an untrusted signing time',
      {
        'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority',
        'io.cncf.notary.authenticSigningTime': iso(now),
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.authenticSigningTime'],
      },
      'InvalidSigningTime',
    ],
    [
      'signingAuthority whose authentic signing time is not critical',
      {
        'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority',
        'io.cncf.notary.signingTime': undefined,
        'io.cncf.notary.authenticSigningTime': iso(now),
      },
      'CriticalHeaderMismatch',
    ],
  ])('refuses %s', (_why, header, code) => {
    expect(jwsCode(buildJws(signer, chartTarget, { header }))).toBe(code);
  });

  it('COSE times must be tag-1 epoch dates', () => {
    const bytes = buildCose(signer, chartTarget, { header: [['io.cncf.notary.signingTime', 1_700_000_000]] });
    expect(coseCode(bytes)).toBe('InvalidSigningTime');
  });

  it('COSE alg labels outside the Notary Project set are refused', () => {
    expect(coseCode(buildCose(signer, chartTarget, { header: [[1, -8]] }))).toBe('UnsupportedAlgorithm');
  });
});

describe('certificate chain rules', () => {
  it('refuses a chain whose leaf is a TLS server certificate', () => {
    expect(jwsCode(buildJws(serverCertSigner, chartTarget))).toBe('InvalidCertificateChain');
  });

  it('refuses a leaf that is neither self-signed nor followed by its root', () => {
    expect(jwsCode(buildJws(leafOnlySigner, chartTarget))).toBe('InvalidCertificateChain');
  });

  it('refuses a chain whose root did not issue the leaf', () => {
    const mixed = { ...signer, chain: [signer.chain[0] as Buffer, other.chain[1] as Buffer] };
    expect(jwsCode(buildJws(mixed, chartTarget))).toBe('InvalidCertificateChain');
  });

  it('refuses a root repeated in the middle of the chain', () => {
    const repeated = {
      ...signer,
      chain: [signer.chain[0] as Buffer, signer.chain[1] as Buffer, signer.chain[1] as Buffer],
    };
    expect(jwsCode(buildJws(repeated, chartTarget))).toBe('InvalidCertificateChain');
  });

  it('refuses an x5c entry that is not a certificate', () => {
    const garbage = { ...signer, chain: [randomBytes(64)] };
    expect(jwsCode(buildJws(garbage, chartTarget))).toBe('MalformedCertificate');
  });

  it('refuses an empty x5c', () => {
    expect(jwsCode(buildJws({ ...signer, chain: [] }, chartTarget))).toBe('InvalidCertificateChain');
  });
});

describe('signature and payload', () => {
  it('refuses a signature made by another key than the leaf', () => {
    expect(jwsCode(buildJws(signer, chartTarget, { key: other.key }))).toBe('SignatureMismatch');
  });

  it('refuses a JWS whose payload was swapped after signing', () => {
    const envelope = JSON.parse(buildJws(signer, chartTarget).toString()) as Record<string, unknown>;
    envelope.payload = descriptorPayload({ ...chartTarget, size: 1 }).toString('base64url');
    expect(jwsCode(Buffer.from(JSON.stringify(envelope)))).toBe('SignatureMismatch');
  });

  it('refuses a COSE envelope whose protected header was changed after signing', () => {
    const bytes = buildCose(signer, chartTarget, {
      wrap: ({ unprotected, payload, signature }) => {
        const header = new Map<number | string, never>([
          [1, -7 as never],
          [2, ['io.cncf.notary.signingScheme'] as never],
          [3, 'application/vnd.cncf.notary.payload.v1+json' as never],
          ['io.cncf.notary.signingScheme', 'notary.x509' as never],
          ['io.cncf.notary.signingTime', { tag: 1, value: 1 } as never],
        ]);
        return cbor({ tag: 18, value: [cbor(header), unprotected, payload, signature] });
      },
    });
    expect(coseCode(bytes)).toBe('SignatureMismatch');
  });

  it.each([
    ['not JSON', Buffer.from('not json')],
    ['without targetArtifact', Buffer.from('{"subject":{}}')],
    [
      'with a size that is not a number',
      Buffer.from(JSON.stringify({ targetArtifact: { ...chartTarget, size: '1234' } })),
    ],
    ['without a digest', Buffer.from(JSON.stringify({ targetArtifact: { mediaType: 'x', size: 1 } }))],
    ['empty', Buffer.alloc(0)],
  ])('refuses a signed payload %s', (_why, payload) => {
    expect(jwsCode(buildJws(signer, chartTarget, { payload }))).toBe('InvalidPayload');
  });
});

describe('malformed JWS envelopes', () => {
  const valid = (): Record<string, unknown> =>
    JSON.parse(buildJws(signer, chartTarget).toString()) as Record<string, unknown>;
  const mutate = (change: (e: Record<string, unknown>) => void): Buffer => {
    const envelope = valid();
    change(envelope);
    return Buffer.from(JSON.stringify(envelope));
  };
  it.each([
    ['not JSON', () => Buffer.from('{"payload":'), 'MalformedEnvelope'],
    ['a JSON array', () => Buffer.from('[]'), 'MalformedEnvelope'],
    ['JSON null', () => Buffer.from('null'), 'MalformedEnvelope'],
    ['general serialization', () => mutate((e) => (e.signatures = [])), 'MalformedEnvelope'],
    ['protected not base64url', () => mutate((e) => (e.protected = 'a+b/')), 'MalformedEnvelope'],
    [
      'protected not JSON',
      () => mutate((e) => (e.protected = Buffer.from('{{').toString('base64url'))),
      'MalformedEnvelope',
    ],
    [
      'protected a JSON string',
      () => mutate((e) => (e.protected = Buffer.from('"x"').toString('base64url'))),
      'MalformedEnvelope',
    ],
    ['no payload', () => mutate((e) => delete e.payload), 'MalformedEnvelope'],
    ['an empty signature', () => mutate((e) => (e.signature = '')), 'MalformedEnvelope'],
    ['no unprotected header', () => mutate((e) => delete e.header), 'MalformedEnvelope'],
    ['no x5c', () => mutate((e) => (e.header = {})), 'MalformedEnvelope'],
    ['x5c not base64', () => mutate((e) => (e.header = { x5c: ['***'] })), 'MalformedEnvelope'],
    ['x5c of numbers', () => mutate((e) => (e.header = { x5c: [1, 2] })), 'MalformedEnvelope'],
    ['a signature of the wrong length', () => mutate((e) => (e.signature = 'AAAA')), 'SignatureMismatch'],
  ])('refuses %s', async (_why, make, code) => {
    const bytes = make();
    expect(jwsCode(bytes)).toBe(code);
    const result = await verifyNotation(chartTarget, [jwsEnvelope(bytes)], trustFor(signer), new Date());
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
  });
});

describe('malformed COSE envelopes', () => {
  const sign1 = (value: unknown): Buffer =>
    buildCose(signer, chartTarget, { wrap: () => cbor(value as never) });
  it.each([
    ['empty input', () => Buffer.alloc(0), 'MalformedEnvelope'],
    ['JSON instead of CBOR', () => Buffer.from('{"a":1}'), 'MalformedEnvelope'],
    [
      'an untagged COSE_Sign1',
      () =>
        buildCose(signer, chartTarget, {
          wrap: (p) => cbor([p.protectedRaw, p.unprotected, p.payload, p.signature]),
        }),
      'MalformedEnvelope',
    ],
    [
      'COSE_Sign (tag 98)',
      () =>
        buildCose(signer, chartTarget, {
          wrap: (p) => cbor({ tag: 98, value: [p.protectedRaw, p.unprotected, p.payload, p.signature] }),
        }),
      'MalformedEnvelope',
    ],
    [
      'three elements',
      () =>
        buildCose(signer, chartTarget, {
          wrap: (p) => cbor({ tag: 18, value: [p.protectedRaw, p.unprotected, p.payload] }),
        }),
      'MalformedEnvelope',
    ],
    [
      'a detached payload',
      () =>
        Buffer.concat([
          Buffer.from([0xd2, 0x84]),
          cbor(Buffer.from([0xa0])),
          Buffer.from([0xa0, 0xf6]),
          cbor(Buffer.from([1])),
        ]),
      'MalformedEnvelope',
    ],
    [
      'an empty protected header',
      () => sign1({ tag: 18, value: [Buffer.alloc(0), new Map(), Buffer.from('x'), Buffer.from('y')] }),
      'MalformedEnvelope',
    ],
    [
      'a protected header that is not a map',
      () => sign1({ tag: 18, value: [cbor([1]), new Map(), Buffer.from('x'), Buffer.from('y')] }),
      'MalformedEnvelope',
    ],
    [
      'an unprotected header that is an array',
      () =>
        buildCose(signer, chartTarget, {
          wrap: (p) => cbor({ tag: 18, value: [p.protectedRaw, [], p.payload, p.signature] }),
        }),
      'MalformedEnvelope',
    ],
    ['an indefinite-length array', () => Buffer.from([0xd2, 0x9f, 0xff]), 'MalformedEnvelope'],
    [
      'a truncated byte string',
      () => Buffer.from([0xd2, 0x84, 0x5a, 0xff, 0xff, 0xff, 0xff]),
      'MalformedEnvelope',
    ],
    ['a 2^32-item array claim', () => Buffer.from([0xd2, 0x9a, 0xff, 0xff, 0xff, 0xff]), 'MalformedEnvelope'],
    [
      'a 64-bit integer beyond 2^53',
      () => Buffer.from([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      'MalformedEnvelope',
    ],
    [
      'trailing bytes',
      () => Buffer.concat([buildCose(signer, chartTarget), Buffer.from([0])]),
      'MalformedEnvelope',
    ],
    [
      'duplicate protected header keys',
      () =>
        buildCose(signer, chartTarget, {
          wrap: (p) =>
            cbor({
              tag: 18,
              value: [
                Buffer.concat([Buffer.from([0xa2]), cbor(1), cbor(-7), cbor(1), cbor(-7)]),
                p.unprotected,
                p.payload,
                p.signature,
              ],
            }),
        }),
      'MalformedEnvelope',
    ],
    [
      'a label both protected and unprotected',
      () => buildCose(signer, chartTarget, { unprotected: [[3, 'text/plain']] }),
      'MalformedEnvelope',
    ],
    [
      'x5chain entries that are not byte strings',
      () =>
        buildCose(signer, chartTarget, {
          wrap: (p) =>
            cbor({ tag: 18, value: [p.protectedRaw, new Map([[33, ['a']]]), p.payload, p.signature] }),
        }),
      'MalformedEnvelope',
    ],
    [
      'no x5chain',
      () =>
        buildCose(signer, chartTarget, {
          wrap: (p) => cbor({ tag: 18, value: [p.protectedRaw, new Map(), p.payload, p.signature] }),
        }),
      'MalformedEnvelope',
    ],
  ])('refuses %s', async (_why, make, code) => {
    const bytes = make();
    expect(coseCode(bytes)).toBe(code);
    const result = await verifyNotation(chartTarget, [coseEnvelope(bytes)], trustFor(signer), new Date());
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
  });

  it('survives random corruption of a valid envelope without throwing', async () => {
    const valid = buildCose(signer, chartTarget);
    const jws = buildJws(signer, chartTarget);
    for (let i = 0; i < 300; i++) {
      for (const [bytes, wrap] of [
        [Buffer.from(valid), coseEnvelope],
        [Buffer.from(jws), jwsEnvelope],
      ] as const) {
        const at = Math.floor(Math.random() * bytes.length);
        bytes[at] = (bytes[at] ?? 0) ^ (1 + Math.floor(Math.random() * 255));
        const result = await verifyNotation(chartTarget, [wrap(bytes)], trustFor(signer), new Date());
        if (!result.verified)
          expect(['SignatureInvalid', 'UntrustedSigner', 'DigestMismatch']).toContain(result.reason);
      }
    }
  });
});

describe('size limits', () => {
  it(`refuses an envelope over ${MAX_ENVELOPE_BYTES} bytes before parsing it`, async () => {
    const big = buildJws(signer, chartTarget, { unprotected: { padding: 'x'.repeat(MAX_ENVELOPE_BYTES) } });
    const result = await verifyNotation(chartTarget, [jwsEnvelope(big)], trustFor(signer), new Date());
    expect(result).toMatchObject({ verified: false, reason: 'SignatureInvalid' });
    expect(result.message).toContain('EnvelopeTooLarge');
  });

  it('refuses more than 10 certificates in x5c and x5chain', () => {
    const long = { ...signer, chain: Array.from({ length: 11 }, () => signer.chain[0] as Buffer) };
    expect(jwsCode(buildJws(long, chartTarget))).toBe('EnvelopeTooLarge');
    expect(coseCode(buildCose(long, chartTarget))).toBe('EnvelopeTooLarge');
  });

  it(`refuses CBOR nested deeper than ${MAX_CBOR_DEPTH}`, () => {
    const deep = Buffer.concat([Buffer.alloc(MAX_CBOR_DEPTH + 1, 0x81), Buffer.from([0x00])]);
    expect(codeOf(() => decodeCbor(deep))).toBe('EnvelopeTooLarge');
    expect(
      decodeCbor(Buffer.concat([Buffer.alloc(MAX_CBOR_DEPTH, 0x81), Buffer.from([0x00])])),
    ).toBeDefined();
  });

  it('tries at most 50 envelopes and says so', async () => {
    const bad = jwsEnvelope(Buffer.from('{}'));
    const good = jwsEnvelope(buildJws(signer, chartTarget));
    const result = await verifyNotation(
      chartTarget,
      [...Array.from({ length: 50 }, () => bad), good],
      trustFor(signer),
      new Date(),
    );
    expect(result.verified).toBe(false);
    expect(result.message).toContain('only the first 50 of 51');
  });
});

// The fuzz harness shared by the unit and integration fuzz tests: a real signature in one of the four
// formats, mutated by test/verify/signature-mutations.ts, judged by tagguard's verifier. Per input: no
// exception escapes, the time is bounded, and a mutated signature verifies only when its signed view
// (what the signature covers and what trust rests on, read by a lenient independent reader) is the
// original's — a mutation of unsigned parts (unprotected headers, the chain beside a directly issued
// leaf, JSON formatting, lenient base64) may leave it valid, nothing else may.
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';
import { decodeCbor, isCborMap, isTagged, type CborValue } from '../../src/verify/notation/cbor.ts';
import type { CosignLegacySignature, SignerResult } from '../../src/verify/types.ts';
import { mutate, mutations, type MutationContext } from './signature-mutations.ts';

export interface FuzzSubject {
  readonly name: string;
  /** The bytes mutations are applied to. */
  readonly original: Buffer;
  readonly context: MutationContext;
  readonly judge: (bytes: Buffer) => SignerResult | Promise<SignerResult>;
  /** The signed view of a signature, or a marker when it is unreadable. */
  readonly view: (bytes: Buffer) => string;
}

export interface FuzzReport {
  readonly runs: number;
  /** Mutated inputs that still verified (each a no-op on the signed view). */
  readonly verifiedNoOps: number;
  readonly reasons: Readonly<Record<string, number>>;
  readonly maxMillis: number;
  readonly totalMillis: number;
}

/** Any one input must be judged within this (generous: two cores shared by the whole suite). */
export const MAX_MILLIS_PER_INPUT = 5000;

export const runFuzz = async (subject: FuzzSubject, runs: number, seed?: number): Promise<FuzzReport> => {
  const baseline = await subject.judge(subject.original);
  expect(baseline.verified, `the unmutated ${subject.name} must verify: ${baseline.message}`).toBe(true);
  const originalView = subject.view(subject.original);
  const reasons: Record<string, number> = {};
  let verifiedNoOps = 0;
  let maxMillis = 0;
  let totalMillis = 0;
  await fc.assert(
    fc.asyncProperty(mutations, async (list) => {
      const mutated = mutate(subject.original, list, subject.context);
      const started = performance.now();
      const result = await subject.judge(mutated);
      const took = performance.now() - started;
      maxMillis = Math.max(maxMillis, took);
      totalMillis += took;
      expect(took).toBeLessThan(MAX_MILLIS_PER_INPUT);
      expect(typeof result.verified).toBe('boolean');
      if (result.verified) {
        const view = subject.view(mutated);
        const differs = view
          .split('|')
          .map((part, i) => ({ i, part, was: originalView.split('|')[i] }))
          .filter((p) => p.part !== p.was)
          .map((p) => `part ${p.i}: ${p.part.slice(0, 300)} (was ${String(p.was).slice(0, 300)})`);
        expect(
          view,
          `verified a mutated ${subject.name}: ${JSON.stringify(list)}\n${differs.join('\n')}\nmutated: ${mutated.toString('utf8').slice(0, 3000)}`,
        ).toBe(originalView);
        verifiedNoOps++;
      } else {
        expect(result.reason).toBeDefined();
        const reason = result.reason ?? 'none';
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}), endOnFailure: true },
  );
  return { runs, verifiedNoOps, reasons, maxMillis, totalMillis };
};

// ---- cosign legacy: the layer and its annotations as one JSON document ------------------------------

/** A legacy signature as the mutation root: its payload (base64) and annotations in one JSON object. */
export const legacyDocument = (sig: CosignLegacySignature): Buffer =>
  Buffer.from(
    JSON.stringify({
      payload: sig.payload.toString('base64'),
      signature: sig.signature,
      ...(sig.certificate !== undefined ? { certificate: sig.certificate } : {}),
      ...(sig.chain !== undefined ? { chain: sig.chain } : {}),
      ...(sig.rekorBundle !== undefined ? { rekorBundle: sig.rekorBundle } : {}),
    }),
  );

const annotation = (value: unknown): string | undefined => {
  if (value === undefined || typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    // Nested deeper than JSON.stringify recurses: the annotation is then deep JSON text all the same.
    return `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
  }
};

/**
 * The legacy signature a mutated document stands for. Annotations are strings in a manifest, so a value
 * of another type is written as its JSON; a document that no longer parses is the mutated payload
 * beside the original annotations.
 */
export const legacyFromDocument = (bytes: Buffer, original: CosignLegacySignature): CosignLegacySignature => {
  let doc: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    doc = parsed as Record<string, unknown>;
  } catch {
    return { ...original, payload: bytes };
  }
  const optional = {
    certificate: annotation(doc.certificate),
    chain: annotation(doc.chain),
    rekorBundle: annotation(doc.rekorBundle),
  };
  return {
    payload: Buffer.from(annotation(doc.payload) ?? '', 'base64'),
    signature: annotation(doc.signature) ?? '',
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined && v !== '')),
    signatureManifestDigest: original.signatureManifestDigest,
  };
};

/** The first PEM certificate block's DER as node:crypto reads it (text around the block is ignored, as Go's pem.Decode does). */
const certificateView = (pem: string | undefined): string => {
  if (pem === undefined) return 'none';
  const block = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!block) return 'no PEM block';
  try {
    return new X509Certificate(Buffer.from(block[1] ?? '', 'base64')).raw.toString('hex');
  } catch {
    return 'unreadable';
  }
};

/** Payload, signature bytes and (for certificate signers) the leaf certificate. */
export const legacyView =
  (original: CosignLegacySignature, withCertificate: boolean) =>
  (bytes: Buffer): string => {
    const sig = legacyFromDocument(bytes, original);
    return [
      sig.payload.toString('hex'),
      Buffer.from(sig.signature, 'base64').toString('hex'),
      withCertificate ? certificateView(sig.certificate) : '',
    ].join('|');
  };

// ---- cosign bundle -------------------------------------------------------------------------------------

const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const b64 = (v: unknown): string =>
  typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : 'none';

/** The DSSE payload and type, its signatures and (for certificate signers) the leaf certificate. */
export const bundleView =
  (withCertificate: boolean) =>
  (bytes: Buffer): string => {
    let doc: Record<string, unknown>;
    try {
      doc = record(JSON.parse(bytes.toString('utf8')));
    } catch {
      return 'unreadable';
    }
    const dsse = record(doc.dsseEnvelope);
    const signatures = Array.isArray(dsse.signatures) ? dsse.signatures : [];
    const material = record(doc.verificationMaterial);
    const chain = record(material.x509CertificateChain).certificates;
    const leaf = Array.isArray(chain) ? record(chain[0]) : record(material.certificate);
    return [
      b64(dsse.payload),
      String(dsse.payloadType),
      signatures.map((s) => b64(record(s).sig)).join(','),
      withCertificate ? b64(leaf.rawBytes) : '',
    ].join('|');
  };

// ---- Notation -------------------------------------------------------------------------------------

/** The JWS signing input (protected and payload exactly as written), the signature and the leaf. */
export const jwsView = (bytes: Buffer): string => {
  let doc: Record<string, unknown>;
  try {
    doc = record(JSON.parse(bytes.toString('utf8')));
  } catch {
    return 'unreadable';
  }
  const x5c = record(doc.header).x5c;
  return [
    String(doc.protected),
    String(doc.payload),
    typeof doc.signature === 'string' ? Buffer.from(doc.signature, 'base64url').toString('hex') : 'none',
    Array.isArray(x5c) ? b64(x5c[0]) : 'none',
  ].join('|');
};

/** The COSE protected header and payload as signed, the signature and the leaf of x5chain. */
export const coseView = (bytes: Buffer): string => {
  let decoded: CborValue;
  try {
    decoded = decodeCbor(bytes);
  } catch {
    return 'unreadable';
  }
  if (!isTagged(decoded) || !Array.isArray(decoded.value)) return 'not COSE_Sign1';
  const [protectedRaw, unprotected, payload, signature] = decoded.value as CborValue[];
  const hex = (v: CborValue): string => (Buffer.isBuffer(v) ? v.toString('hex') : 'none');
  const chain = isCborMap(unprotected ?? null)
    ? (unprotected as ReadonlyMap<number, CborValue>).get(33)
    : undefined;
  const leaf = Array.isArray(chain) ? (chain as CborValue[])[0] : chain;
  return [hex(protectedRaw ?? null), hex(payload ?? null), hex(signature ?? null), hex(leaf ?? null)].join(
    '|',
  );
};

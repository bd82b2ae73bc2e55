// A Certificate Transparency log made at test time, and Fulcio-style leaves carrying REAL embedded SCTs:
// the CA (openssl) issues a precertificate with the poison extension, the test log signs the RFC 6962
// precert entry (issuer key hash + TBS without the poison) with its own key, and the CA issues the final
// certificate with the same serial, dates and extensions, the SCT list standing where the poison stood.
import { execFile } from 'node:child_process';
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KeyPair } from './pki.ts';

const exec = promisify(execFile);

const OID_POISON = '1.3.6.1.4.1.11129.2.4.3';
const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';

export interface CtLog {
  readonly privateKey: KeyObject;
  readonly publicKeyDer: Buffer;
  /** RFC 6962 log ID: SHA-256 of the public key's DER. */
  readonly logId: Buffer;
  /** The public key as PEM (cosign v2's SIGSTORE_CT_LOG_PUBLIC_KEY_FILE). */
  readonly publicKeyPem: string;
}

export const createCtLog = (): CtLog => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyDer = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    publicKeyDer,
    logId: createHash('sha256').update(publicKeyDer).digest(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
};

/** The trusted_root.json `ctlogs` entry of a log, valid from `start` (and until `end` when given). */
export const ctLogEntry = (log: CtLog, validFor: { start: Date; end?: Date }): unknown => ({
  baseUrl: 'https://ct.tagguard.test',
  hashAlgorithm: 'SHA2_256',
  publicKey: {
    rawBytes: log.publicKeyDer.toString('base64'),
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    validFor: {
      start: validFor.start.toISOString(),
      ...(validFor.end ? { end: validFor.end.toISOString() } : {}),
    },
  },
  logId: { keyId: log.logId.toString('base64') },
});

// ---- DER, just enough to take one extension out of a TBSCertificate --------------------------------

interface Tlv {
  readonly tag: number;
  /** The whole element (tag, length, content). */
  readonly bytes: Buffer;
  readonly content: Buffer;
}

const readTlv = (buf: Buffer, offset: number): Tlv => {
  const tag = buf[offset] ?? 0;
  let length = buf[offset + 1] ?? 0;
  let header = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = buf.subarray(offset + 2, offset + 2 + octets).readUIntBE(0, octets);
    header += octets;
  }
  const end = offset + header + length;
  return { tag, bytes: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
};

const children = (content: Buffer): Tlv[] => {
  const out: Tlv[] = [];
  for (let offset = 0; offset < content.length; offset += out.at(-1)?.bytes.length ?? 1)
    out.push(readTlv(content, offset));
  return out;
};

const encodeLength = (length: number): Buffer => {
  if (length < 0x80) return Buffer.from([length]);
  const octets = Buffer.alloc(4);
  octets.writeUInt32BE(length);
  const trimmed = octets.subarray(octets.findIndex((b) => b !== 0));
  return Buffer.concat([Buffer.from([0x80 | trimmed.length]), trimmed]);
};

const tlv = (tag: number, content: Buffer): Buffer =>
  Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);

const oidDer = (oid: string): Buffer => {
  const [a = 0, b = 0, ...rest] = oid.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
};

/** The TBSCertificate (DER) of a certificate (DER), without the extension `oid`. */
export const tbsWithout = (certDer: Buffer, oid: string): Buffer => {
  const [tbs] = children(readTlv(certDer, 0).content);
  if (!tbs) throw new Error('not a certificate');
  const oidBytes = oidDer(oid);
  const fields = children(tbs.content).map((field) => {
    if (field.tag !== 0xa3) return field.bytes;
    const [list] = children(field.content);
    const kept = children(list?.content ?? Buffer.alloc(0)).filter(
      (ext) => !children(ext.content)[0]?.bytes.equals(oidBytes),
    );
    return tlv(0xa3, tlv(0x30, Buffer.concat(kept.map((e) => e.bytes))));
  });
  return tlv(0x30, Buffer.concat(fields));
};

// ---- SCTs (RFC 6962 §3.2, TLS encoding) --------------------------------------------------------------

const uint = (value: number | bigint, bytes: number): Buffer => {
  const out = Buffer.alloc(bytes);
  if (bytes === 8) out.writeBigUInt64BE(BigInt(value));
  else out.writeUIntBE(Number(value), 0, bytes);
  return out;
};

const vector = (data: Buffer, lengthBytes: number): Buffer =>
  Buffer.concat([uint(data.length, lengthBytes), data]);

export interface SctSpec {
  readonly log: CtLog;
  /** The SCT time; default now. */
  readonly timestamp?: Date;
  /** Sign with this key instead of the log's own (the log ID still names `log`). */
  readonly signWith?: KeyObject;
  /** Change one byte of the signed SCT after signing. */
  readonly tamper?: 'signature' | 'timestamp';
}

/** One serialized SCT over the precert entry `issuerKeyHash || uint24(tbs) || tbs`. */
export const signSct = (spec: SctSpec, issuerKeyHash: Buffer, precertTbs: Buffer): Buffer => {
  const timestamp = uint(BigInt((spec.timestamp ?? new Date()).getTime()), 8);
  const extensions = vector(Buffer.alloc(0), 2);
  const signed = Buffer.concat([
    Buffer.from([0, 0]), // version v1, signature_type certificate_timestamp
    timestamp,
    uint(1, 2), // entry_type precert_entry
    issuerKeyHash,
    vector(precertTbs, 3),
    extensions,
  ]);
  const signature = sign('sha256', signed, spec.signWith ?? spec.log.privateKey);
  const flip = (buf: Buffer, at: number): void => {
    buf.writeUInt8((buf.readUInt8(at) ^ 0x01) & 0xff, at);
  };
  if (spec.tamper === 'signature') flip(signature, signature.length - 1);
  if (spec.tamper === 'timestamp') flip(timestamp, 7);
  return Buffer.concat([
    Buffer.from([0]),
    spec.log.logId,
    timestamp,
    extensions,
    Buffer.from([4, 3]), // sha256, ecdsa
    vector(signature, 2),
  ]);
};

/** The SignedCertificateTimestampList: a TLS vector of TLS vectors. */
export const sctList = (scts: readonly Buffer[]): Buffer =>
  vector(Buffer.concat(scts.map((s) => vector(s, 2))), 2);

// ---- issuing --------------------------------------------------------------------------------------

const openssl = async (args: readonly string[]): Promise<void> => {
  try {
    await exec('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: error });
  }
};

const asn1Time = (date: Date): string => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

export interface SctLeafOptions {
  /** openssl -subj form. */
  readonly subject: string;
  /** openssl extension lines beside the code-signing usage (SAN, Fulcio issuer …). */
  readonly extensions: readonly string[];
  /**
   * The SCTs to embed, or a ready SCT list (e.g. one made for another certificate), or none (a plain
   * certificate without the SCT extension).
   */
  readonly scts: readonly SctSpec[] | { readonly list: Buffer } | 'none';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export interface SctLeaf extends KeyPair {
  /** The embedded SignedCertificateTimestampList (TLS encoding); empty when none. */
  readonly sctList: Buffer;
}

/** A code-signing leaf issued by `ca` with real embedded SCTs, as a CT-logging CA (Fulcio) issues it. */
export const issueCertificateWithScts = async (
  ca: KeyPair,
  dir: string,
  name: string,
  options: SctLeafOptions,
): Promise<SctLeaf> => {
  const work = join(dir, `${name}.ct`);
  await mkdir(work, { recursive: true });
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const csrFile = join(work, 'leaf.csr');
  await openssl(
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      keyFile,
      '-out',
      csrFile,
      '-subj',
      options.subject,
    ]),
  );
  const serial = randomBytes(8).toString('hex');
  // Not before the CA itself: cosign checks the chain at the leaf's notBefore.
  const notBefore = options.notBefore ?? new Date();
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 2 * 86_400_000);
  const config = join(work, 'ca.cnf');
  await writeFile(
    config,
    [
      '[ca]',
      'default_ca = ct_test',
      '[ct_test]',
      `database = ${join(work, 'index.txt')}`,
      `new_certs_dir = ${work}`,
      `serial = ${join(work, 'serial')}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const baseExtensions = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = codeSigning',
    ...options.extensions,
  ];
  // The precertificate and the final certificate: same serial, dates and extension order.
  const issue = async (out: string, lastExtension: string | undefined): Promise<Buffer> => {
    await writeFile(join(work, 'index.txt'), '');
    await writeFile(join(work, 'serial'), `${serial}\n`);
    const extFile = `${out}.ext`;
    await writeFile(extFile, [...baseExtensions, ...(lastExtension ? [lastExtension] : []), ''].join('\n'));
    await openssl(
      ['ca', '-batch', '-notext', '-preserveDN', '-config', config, '-in', csrFile, '-out', out]
        .concat(['-cert', ca.certFile, '-keyfile', ca.keyFile, '-extfile', extFile])
        .concat(['-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter)]),
    );
    return new X509Certificate(await readFile(out)).raw;
  };

  let list: Buffer = Buffer.alloc(0);
  if (options.scts !== 'none') {
    if ('list' in options.scts) {
      list = options.scts.list;
    } else {
      const precert = await issue(join(work, 'precert.crt'), `${OID_POISON} = critical, DER:0500`);
      const tbs = tbsWithout(precert, OID_POISON);
      const issuerKey = new X509Certificate(ca.certPem).publicKey.export({ format: 'der', type: 'spki' });
      const issuerKeyHash = createHash('sha256').update(issuerKey).digest();
      list = sctList(options.scts.map((spec) => signSct(spec, issuerKeyHash, tbs)));
    }
  }
  const sctExtension =
    options.scts === 'none' ? undefined : `${OID_SCT_LIST} = DER:${tlv(0x04, list).toString('hex')}`;
  await issue(certFile, sctExtension);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), sctList: list };
};

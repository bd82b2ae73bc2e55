// Certificates in cosign signatures are read as strictly as cosign (Go) reads them; each malformation the
// fuzz test found accepted by @sigstore/core's lenient reader is refused here with its code.
import { X509Certificate as NodeX509 } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCA, type KeyPair } from '../../env/pki.ts';
import {
  readCertificateDer,
  readPemCertificates,
  SignatureCertificateError,
  strictBase64,
} from '../../../src/verify/cosign/signature-certificates.ts';
import { toPem } from '../odd-key-certificates.ts';

let ca: KeyPair;
let der: Buffer;

beforeAll(async () => {
  ca = await createCA(await mkdtemp(join(tmpdir(), 'tagguard-pem-')), 'ca');
  der = new NodeX509(ca.certPem).raw;
});

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (error) {
    return error instanceof SignatureCertificateError ? error.code : 'other';
  }
};

describe('certificates of cosign signatures', () => {
  it('reads PEM blocks separated by whitespace', () => {
    expect(readPemCertificates(`\n${ca.certPem}\n${ca.certPem}`)).toHaveLength(2);
  });

  it('refuses a block whose footer is damaged (the lenient reader decoded the footer as base64)', () => {
    expect(codeOf(() => readPemCertificates(ca.certPem.replace('-----END', '-----EOD')))).toBe(
      'MalformedPem',
    );
  });

  it('refuses text outside the blocks and text without a block', () => {
    expect(codeOf(() => readPemCertificates(`.${ca.certPem}`))).toBe('MalformedPem');
    expect(codeOf(() => readPemCertificates(`${ca.certPem}junk`))).toBe('MalformedPem');
    expect(codeOf(() => readPemCertificates(''))).toBe('MalformedPem');
  });

  it('refuses base64 that only a lenient decoder reads', () => {
    const body = der.toString('base64');
    expect(codeOf(() => strictBase64(`${body.slice(0, 10)}!${body.slice(10)}`))).toBe('MalformedCertificate');
    expect(codeOf(() => strictBase64(body.replace(/=+$/, '')))).toBe(
      body.endsWith('=') ? 'MalformedCertificate' : undefined,
    );
    expect(strictBase64(body).equals(der)).toBe(true);
  });

  it('refuses data after the certificate', () => {
    expect(codeOf(() => readCertificateDer(Buffer.concat([der, Buffer.from([0])])))).toBe(
      'MalformedCertificate',
    );
    expect(codeOf(() => readPemCertificates(toPem(Buffer.concat([der, der]))))).toBe('MalformedCertificate');
  });

  it('refuses an outer signature algorithm other than the signed one (the CA signature does not cover it)', () => {
    const oid = Buffer.from('2a8648ce3d040302', 'hex'); // ecdsa-with-SHA256
    const outer = der.lastIndexOf(oid);
    const edited = Buffer.from(der);
    edited[outer + oid.length - 1] = 0x03; // ecdsa-with-SHA384
    expect(codeOf(() => readCertificateDer(edited))).toBe('MalformedCertificate');
    expect(readCertificateDer(der).subject).toBeDefined();
  });
});

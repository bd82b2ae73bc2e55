// Test certificates made at run time with the openssl CLI: a CA and leaves issued by it (serving, client
// or code-signing). Nothing here is committed; every run gets fresh keys.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface KeyPair {
  certFile: string;
  keyFile: string;
  certPem: string;
}

/** `ca`: an intermediate CA (keyCertSign, cRLSign), issued by the given CA. */
export type CertUsage = 'server' | 'client' | 'code-signing' | 'timestamping' | 'ca';

export interface LeafOptions {
  /** openssl -subj form, e.g. "/O=system:masters/CN=admin". */
  subject: string;
  usage: CertUsage;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  days?: number;
  /** Extra openssl extension lines, e.g. "1.3.6.1.4.1.57264.1.1 = ASN1:UTF8String:https://issuer". */
  extraExtensions?: readonly string[];
  /** Exact validity bounds (e.g. an already expired or short-lived leaf); they take precedence over `days`. */
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints pathlen of a `ca` certificate. */
  pathLength?: number;
}

/** A SAN entry with its bytes exactly as given (a Buffer may hold bytes no openssl SAN syntax writes). */
export type GeneralName = readonly ['email' | 'dns' | 'uri', string | Buffer];
const GENERAL_NAME_TAG = { email: 0x81, dns: 0x82, uri: 0x86 } as const;

const derLength = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let m = n; m > 0; m = Math.floor(m / 256)) bytes.unshift(m % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};

const tlv = (tag: number, value: Buffer): Buffer =>
  Buffer.concat([Buffer.from([tag]), derLength(value.length), value]);

/** An `extraExtensions` line: a subjectAltName of exactly these GeneralNames, written as DER. */
export const rawSubjectAltName = (names: readonly GeneralName[]): string =>
  `2.5.29.17 = DER:${tlv(
    0x30,
    Buffer.concat(names.map(([kind, value]) => tlv(GENERAL_NAME_TAG[kind], Buffer.from(value)))),
  ).toString('hex')}`;

const openssl = async (args: readonly string[]): Promise<void> => {
  try {
    await exec('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: error });
  }
};

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export const createCA = async (dir: string, name: string, days = 2): Promise<KeyPair> => {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl([
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    String(days),
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8') };
};

const usageExtensions: Record<CertUsage, string[]> = {
  server: ['keyUsage = critical, digitalSignature, keyEncipherment', 'extendedKeyUsage = serverAuth'],
  client: ['keyUsage = critical, digitalSignature, keyEncipherment', 'extendedKeyUsage = clientAuth'],
  'code-signing': ['keyUsage = critical, digitalSignature', 'extendedKeyUsage = codeSigning'],
  timestamping: ['keyUsage = critical, digitalSignature', 'extendedKeyUsage = critical, timeStamping'],
  ca: ['keyUsage = critical, keyCertSign, cRLSign'],
};

const basicConstraints = (options: LeafOptions): string =>
  options.usage !== 'ca'
    ? 'basicConstraints = critical, CA:FALSE'
    : `basicConstraints = critical, CA:TRUE${options.pathLength === undefined ? '' : `, pathlen:${options.pathLength}`}`;

export const issueCertificate = async (
  ca: KeyPair,
  dir: string,
  name: string,
  options: LeafOptions,
): Promise<KeyPair> => {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  const altNames = [
    ...(options.dnsNames ?? []).map((n) => `DNS:${n}`),
    ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  await writeFile(
    extFile,
    [
      basicConstraints(options),
      ...usageExtensions[options.usage],
      ...(altNames.length > 0 ? [`subjectAltName = ${altNames.join(', ')}`] : []),
      ...(options.extraExtensions ?? []),
      '',
    ].join('\n'),
  );
  await openssl(['req', '-new', ...ecKey, '-keyout', keyFile, '-out', csrFile, '-subj', options.subject]);
  if (options.notBefore || options.notAfter) {
    await signWithDates(ca, dir, name, csrFile, extFile, certFile, options);
    return { certFile, keyFile, certPem: await readFile(certFile, 'utf8') };
  }
  await openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    // A random serial per certificate: -CAcreateserial shares one serial file per CA, which races when
    // several certificates are issued at once (an empty certificate came out of it).
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-out',
    certFile,
    '-days',
    String(options.days ?? 2),
    '-extfile',
    extFile,
  ]);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8') };
};

const asn1Time = (date: Date): string => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

// `openssl x509 -req` (OpenSSL 3.0) only knows -days; `openssl ca` takes exact start and end dates.
const signWithDates = async (
  ca: KeyPair,
  dir: string,
  name: string,
  csrFile: string,
  extFile: string,
  certFile: string,
  options: LeafOptions,
): Promise<void> => {
  const caDir = join(dir, `${name}.ca`);
  await mkdir(caDir, { recursive: true });
  await writeFile(join(caDir, 'index.txt'), '');
  await writeFile(join(caDir, 'serial'), `${randomBytes(8).toString('hex')}\n`);
  const config = join(caDir, 'ca.cnf');
  await writeFile(
    config,
    [
      '[ca]',
      'default_ca = tagguard_test',
      '[tagguard_test]',
      `database = ${join(caDir, 'index.txt')}`,
      `new_certs_dir = ${caDir}`,
      `serial = ${join(caDir, 'serial')}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 2) * 86_400_000);
  await openssl([
    'ca',
    '-batch',
    '-notext',
    '-preserveDN',
    '-config',
    config,
    '-in',
    csrFile,
    '-out',
    certFile,
    '-cert',
    ca.certFile,
    '-keyfile',
    ca.keyFile,
    '-startdate',
    asn1Time(notBefore),
    '-enddate',
    asn1Time(notAfter),
    '-extfile',
    extFile,
  ]);
};

export interface TimestampAuthority {
  root: KeyPair;
  tsa: KeyPair;
  dir: string;
}

/** An RFC 3161 time-stamping authority made of openssl (`openssl ts -reply`), with its own root CA. */
export const createTimestampAuthority = async (dir: string, name = 'tsa'): Promise<TimestampAuthority> => {
  const tsaDir = join(dir, `${name}-authority`);
  await mkdir(tsaDir, { recursive: true });
  const root = await createCA(tsaDir, `${name}-root`, 30);
  const tsa = await issueCertificate(root, tsaDir, name, {
    subject: `/C=US/O=tagguard test/CN=${name}`,
    usage: 'timestamping',
    days: 20,
  });
  await writeFile(join(tsaDir, 'serial'), '01\n');
  await writeFile(
    join(tsaDir, 'tsa.cnf'),
    [
      '[tsa]',
      'default_tsa = tagguard_tsa',
      '[tagguard_tsa]',
      `serial = ${join(tsaDir, 'serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${tsa.certFile}`,
      `signer_key = ${tsa.keyFile}`,
      `certs = ${root.certFile}`,
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.57264.99.1',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = no',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  return { root, tsa, dir: tsaDir };
};

/** Answers a TimeStampReq (DER) with a TimeStampResp, or with the bare TimeStampToken. */
export const timestampReply = async (
  authority: TimestampAuthority,
  query: Buffer,
  tokenOnly = false,
): Promise<Buffer> => {
  const id = randomBytes(6).toString('hex');
  const queryFile = join(authority.dir, `${id}.tsq`);
  const replyFile = join(authority.dir, `${id}.tsr`);
  await writeFile(queryFile, query);
  await openssl([
    'ts',
    '-reply',
    '-config',
    join(authority.dir, 'tsa.cnf'),
    '-queryfile',
    queryFile,
    '-out',
    replyFile,
    ...(tokenOnly ? ['-token_out'] : []),
  ]);
  return readFile(replyFile);
};

/** A TimeStampToken over `data` (hashed with `digest`), with the TSA certificate included. */
export const timestampToken = async (
  authority: TimestampAuthority,
  data: Buffer,
  digest: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): Promise<Buffer> => {
  const id = randomBytes(6).toString('hex');
  const dataFile = join(authority.dir, `${id}.data`);
  const queryFile = join(authority.dir, `${id}.query.tsq`);
  await writeFile(dataFile, data);
  await openssl(['ts', '-query', '-data', dataFile, `-${digest}`, '-cert', '-out', queryFile]);
  return timestampReply(authority, await readFile(queryFile), true);
};

/** An RSA key pair for the API server's service-account token signing. */
export const createRsaKey = async (
  dir: string,
  name: string,
): Promise<{ keyFile: string; pubFile: string }> => {
  const keyFile = join(dir, `${name}.key`);
  const pubFile = join(dir, `${name}.pub`);
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
  await openssl(['pkey', '-in', keyFile, '-pubout', '-out', pubFile]);
  return { keyFile, pubFile };
};

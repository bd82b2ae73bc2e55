// A small CA run with the openssl CLI (`openssl ca` keeps its index.txt): certificates with OCSP and CRL
// locations, subordinate CAs, revocations with a reason or invalidity date, CRLs (`openssl ca -gencrl`)
// and OCSP answers by `openssl ocsp`: one-shot (`-reqin`/`-respout`) for unit tests, or a responder
// process for integration tests. Every key and certificate is made at run time.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseCertificate, type SigningCertificate } from '../../src/verify/notation/certificate.ts';

const exec = promisify(execFile);

export const openssl = async (args: readonly string[], cwd?: string): Promise<string> => {
  try {
    const { stdout } = await exec('openssl', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr.trim()}`, { cause: error });
  }
};

export interface Issued {
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: SigningCertificate;
}

export type KeyType = 'ec' | 'rsa';

export interface IssueOptions {
  /** AIA OCSP responder URIs. */
  readonly ocspUrls?: readonly string[];
  /** CRL distribution point URIs. */
  readonly crlUrls?: readonly string[];
  /** openssl -subj form; default "/O=tagguard test/CN=<name>". */
  readonly subject?: string;
  /** Extended key usages (openssl names). Default: codeSigning. */
  readonly extKeyUsage?: readonly string[];
  /** Hex serial (without 0x), else the CA's next serial. */
  readonly serialHex?: string;
}

export interface RespondOptions {
  /** Who signs: the CA itself or a responder certificate (with its key). */
  readonly signer: Issued;
  /** nextUpdate = thisUpdate + this many days; omitted: no nextUpdate at all. */
  readonly days?: number;
  /** responderID byKey instead of byName. */
  readonly byKey?: boolean;
  /** Leave the signer's certificate out of `certs`. */
  readonly noCerts?: boolean;
  /** A PEM file of further certificates for `certs` (-rother). */
  readonly otherCertsFile?: string;
  /** Signature digest (-rmd), else openssl's default (SHA-256). */
  readonly digest?: string;
}

const keyArgs = (type: KeyType): string[] =>
  type === 'ec'
    ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    : ['-newkey', 'rsa:2048', '-nodes'];

const load = async (name: string, certFile: string, keyFile: string): Promise<Issued> => {
  const pem = await readFile(certFile, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return { name, certFile, keyFile, cert: parseCertificate(der) };
};

export type CrlReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'CACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold';

/** Validity, subject and CA extensions of a self-signed CA certificate (`openssl req -x509`). */
const selfSignedCa = (name: string): string[] => [
  '-days',
  '3',
  '-subj',
  `/O=tagguard test/CN=${name}`,
  '-addext',
  'basicConstraints=critical,CA:TRUE',
  '-addext',
  'keyUsage=critical,keyCertSign,cRLSign',
];

const locationExtensions = (options: IssueOptions): string[] => [
  ...(options.ocspUrls && options.ocspUrls.length > 0
    ? [`authorityInfoAccess = ${options.ocspUrls.map((u) => `OCSP;URI:${u}`).join(', ')}`]
    : []),
  ...(options.crlUrls && options.crlUrls.length > 0
    ? [`crlDistributionPoints = ${options.crlUrls.map((u) => `URI:${u}`).join(', ')}`]
    : []),
];

const caConfig = (dir: string, certFile: string, keyFile: string): string =>
  [
    '[ca]',
    'default_ca = test_ca',
    '[test_ca]',
    `database = ${join(dir, 'index.txt')}`,
    `new_certs_dir = ${join(dir, 'issued')}`,
    `serial = ${join(dir, 'serial')}`,
    `crlnumber = ${join(dir, 'crlnumber')}`,
    `certificate = ${certFile}`,
    `private_key = ${keyFile}`,
    'default_md = sha256',
    'default_days = 2',
    'default_crl_days = 1',
    'policy = any',
    'unique_subject = no',
    '[any]',
    'commonName = supplied',
    '',
  ].join('\n');

/** A new P-256 key and a certificate request for `subject`. */
const newRequest = (keyFile: string, csrFile: string, subject: string): Promise<string> =>
  openssl(['req', '-new', ...keyArgs('ec'), '-keyout', keyFile, '-out', csrFile, '-subj', subject]);

const initDatabase = async (dir: string): Promise<void> => {
  await mkdir(join(dir, 'issued'), { recursive: true });
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  await writeFile(join(dir, 'crlnumber'), '1000\n');
};

export class OpensslCa {
  readonly dir: string;
  readonly ca: Issued;
  private readonly config: string;
  private sequence = 0;

  private constructor(dir: string, ca: Issued, config: string) {
    this.dir = dir;
    this.ca = ca;
    this.config = config;
  }

  static async create(dir: string, name: string, keyType: KeyType = 'ec'): Promise<OpensslCa> {
    const certFile = join(dir, 'ca.crt');
    const keyFile = join(dir, 'ca.key');
    await initDatabase(dir);
    const config = join(dir, 'ca.cnf');
    await writeFile(config, caConfig(dir, certFile, keyFile));
    await openssl([
      'req',
      '-x509',
      ...keyArgs(keyType),
      '-keyout',
      keyFile,
      '-out',
      certFile,
      ...selfSignedCa(name),
    ]);
    return new OpensslCa(dir, await load(name, certFile, keyFile), config);
  }

  /** Issues a certificate with `openssl ca` (so that it enters index.txt). */
  async issue(name: string, options: IssueOptions = {}): Promise<Issued> {
    const base = join(this.dir, `${name}-${++this.sequence}`);
    const ext = [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      `extendedKeyUsage = ${(options.extKeyUsage ?? ['codeSigning']).join(', ')}`,
      ...locationExtensions(options),
      '',
    ];
    await writeFile(`${base}.ext`, ['[ext]', ...ext].join('\n'));
    await newRequest(`${base}.key`, `${base}.csr`, options.subject ?? `/O=tagguard test/CN=${name}`);
    // openssl writes a long next serial back with line continuations it cannot read: restore ours after.
    const serialFile = join(this.dir, 'serial');
    const nextSerial = await readFile(serialFile, 'utf8');
    if (options.serialHex) await writeFile(serialFile, `${options.serialHex}\n`);
    await this.sign(`${base}.csr`, `${base}.crt`, `${base}.ext`);
    if (options.serialHex) await writeFile(serialFile, nextSerial);
    return load(name, `${base}.crt`, `${base}.key`);
  }

  /**
   * A certificate signed with this CA's key by `openssl x509 -req`: not in index.txt, so unknown to the
   * responder. `issuerCertFile` names another issuer certificate (e.g. an alias) for the issuer name.
   */
  async issueUnrecorded(
    name: string,
    serialHex: string,
    ocspUrls: readonly string[],
    options: { extKeyUsage?: readonly string[]; issuerCertFile?: string } = {},
  ): Promise<Issued> {
    const base = join(this.dir, `${name}-${++this.sequence}`);
    await writeFile(
      `${base}.ext`,
      [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        ...(options.extKeyUsage ? [`extendedKeyUsage = ${options.extKeyUsage.join(', ')}`] : []),
        ...locationExtensions({ ocspUrls }),
        '',
      ].join('\n'),
    );
    await newRequest(`${base}.key`, `${base}.csr`, `/CN=${name}`);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      options.issuerCertFile ?? this.ca.certFile,
      '-CAkey',
      this.ca.keyFile,
      '-set_serial',
      `0x${serialHex}`,
      '-days',
      '2',
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.crt`,
    ]);
    return load(name, `${base}.crt`, `${base}.key`);
  }

  /** A self-signed CA certificate with this CA's key under another name. */
  async alias(name: string): Promise<Issued> {
    const certFile = join(this.dir, `${name}-${++this.sequence}.crt`);
    await openssl(['req', '-x509', '-key', this.ca.keyFile, '-out', certFile, ...selfSignedCa(name)]);
    return load(name, certFile, this.ca.keyFile);
  }

  /**
   * A CA certificate issued by this one (keyCertSign, cRLSign) with its own database: an intermediate.
   * `options.ocspUrls` / `crlUrls` are where this CA publishes the intermediate's status.
   */
  async subordinate(name: string, options: IssueOptions = {}): Promise<OpensslCa> {
    const dir = join(this.dir, `${name}-${++this.sequence}.ca`);
    await initDatabase(dir);
    const certFile = join(dir, 'ca.crt');
    const keyFile = join(dir, 'ca.key');
    await writeFile(
      join(dir, 'ca.ext'),
      [
        '[ext]',
        'basicConstraints = critical, CA:TRUE, pathlen:0',
        'keyUsage = critical, keyCertSign, cRLSign',
        ...locationExtensions(options),
        '',
      ].join('\n'),
    );
    await newRequest(keyFile, join(dir, 'ca.csr'), options.subject ?? `/O=tagguard test/CN=${name}`);
    await this.sign(join(dir, 'ca.csr'), certFile, join(dir, 'ca.ext'));
    const config = join(dir, 'ca.cnf');
    await writeFile(config, caConfig(dir, certFile, keyFile));
    return new OpensslCa(dir, await load(name, certFile, keyFile), config);
  }

  /** `openssl ca` signs a request with the `[ext]` section of `extFile`, recording it in index.txt. */
  private async sign(csrFile: string, certFile: string, extFile: string): Promise<void> {
    await openssl([
      'ca',
      '-batch',
      '-notext',
      '-preserveDN',
      '-config',
      this.config,
      '-in',
      csrFile,
      '-out',
      certFile,
      '-extfile',
      extFile,
      '-extensions',
      'ext',
    ]);
  }

  /** `openssl ca -revoke` with a reason (default unspecified), or key compromise at an invalidity date. */
  async revoke(issued: Issued, options: { invalidityDate?: Date; reason?: CrlReason } = {}): Promise<void> {
    await openssl([
      'ca',
      '-config',
      this.config,
      '-revoke',
      issued.certFile,
      ...(options.invalidityDate ? ['-crl_compromise', generalizedTime(options.invalidityDate)] : []),
      ...(options.reason ? ['-crl_reason', options.reason] : []),
    ]);
  }

  /** A CRL (DER) of this CA's index, valid for `hours`. */
  async crl(hours = 24): Promise<Buffer> {
    const base = join(this.dir, `crl-${++this.sequence}`);
    await openssl([
      'ca',
      '-config',
      this.config,
      '-gencrl',
      '-crlhours',
      String(hours),
      '-out',
      `${base}.pem`,
    ]);
    await openssl(['crl', '-in', `${base}.pem`, '-outform', 'DER', '-out', `${base}.der`]);
    return readFile(`${base}.der`);
  }

  /** The `openssl ocsp` arguments that answer from this CA's index. */
  responderArgs(options: RespondOptions): string[] {
    return [
      'ocsp',
      '-index',
      join(this.dir, 'index.txt'),
      '-CA',
      this.ca.certFile,
      '-rsigner',
      options.signer.certFile,
      '-rkey',
      options.signer.keyFile,
      ...(options.days === undefined ? [] : ['-ndays', String(options.days)]),
      ...(options.byKey ? ['-resp_key_id'] : []),
      ...(options.noCerts ? ['-resp_no_certs'] : []),
      ...(options.otherCertsFile ? ['-rother', options.otherCertsFile] : []),
      ...(options.digest ? ['-rmd', options.digest] : []),
    ];
  }

  /** One OCSP answer to `request` (DER OCSPRequest) by `openssl ocsp -reqin … -respout …`. */
  async respond(request: Buffer, options: RespondOptions): Promise<Buffer> {
    const base = join(this.dir, `exchange-${++this.sequence}`);
    await writeFile(`${base}.req`, request);
    await openssl([...this.responderArgs(options), '-reqin', `${base}.req`, '-respout', `${base}.resp`]);
    return readFile(`${base}.resp`);
  }
}

/** YYYYMMDDHHMMSSZ */
export const generalizedTime = (date: Date): string =>
  `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

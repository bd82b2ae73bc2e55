// Certificate revocation lists made by `openssl ca` for a CA from pki.ts: an openssl CA database per
// authority, certificates revoked with a reason, CRLs generated in DER. Nothing here is committed.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KeyPair } from './pki.ts';

const exec = promisify(execFile);

export interface CrlAuthority {
  readonly ca: KeyPair;
  readonly dir: string;
  readonly config: string;
}

export type CrlReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'CACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold';

const openssl = async (args: readonly string[]): Promise<void> => {
  try {
    await exec('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} ${args[1] ?? ''} failed: ${stderr.trim()}`, { cause: error });
  }
};

/** An openssl CA database for `ca` (index, CRL number) in `dir`/`name`.crl-db. */
export const createCrlAuthority = async (ca: KeyPair, dir: string, name: string): Promise<CrlAuthority> => {
  const db = join(dir, `${name}.crl-db`);
  await mkdir(db, { recursive: true });
  await writeFile(join(db, 'index.txt'), '');
  await writeFile(join(db, 'crlnumber'), '1000\n');
  const config = join(db, 'ca.cnf');
  await writeFile(
    config,
    [
      '[ca]',
      'default_ca = crl_ca',
      '[crl_ca]',
      `database = ${join(db, 'index.txt')}`,
      `crlnumber = ${join(db, 'crlnumber')}`,
      'default_md = sha256',
      'default_crl_days = 1',
      '',
    ].join('\n'),
  );
  return { ca, dir: db, config };
};

const caArgs = (authority: CrlAuthority): string[] => [
  '-config',
  authority.config,
  '-cert',
  authority.ca.certFile,
  '-keyfile',
  authority.ca.keyFile,
];

/** Marks the certificate revoked in the authority's database (it need not have been issued through it). */
export const revokeCertificate = async (
  authority: CrlAuthority,
  certFile: string,
  reason: CrlReason = 'keyCompromise',
): Promise<void> => openssl(['ca', ...caArgs(authority), '-revoke', certFile, '-crl_reason', reason]);

/** A CRL (DER) of the authority's database, valid for `hours`. */
export const generateCrl = async (authority: CrlAuthority, hours = 24): Promise<Buffer> => {
  const pem = join(authority.dir, 'crl.pem');
  const der = join(authority.dir, 'crl.der');
  await openssl(['ca', ...caArgs(authority), '-gencrl', '-crlhours', String(hours), '-out', pem]);
  await openssl(['crl', '-in', pem, '-outform', 'DER', '-out', der]);
  return readFile(der);
};

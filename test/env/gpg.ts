// GnuPG from the Debian packages (/usr/bin/gpg) in a throw-away home: unprotected RSA keys generated in
// batch mode (helm v3's x/crypto reads RSA, not EdDSA), optionally at a faked past time, revoked with the
// revocation certificate gpg writes at generation, and exported as the legacy keyrings helm reads.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GPG = '/usr/bin/gpg';

export interface GpgHome {
  readonly dir: string;
  run(args: readonly string[], input?: string | Uint8Array): Promise<Buffer>;
  /** Generates an unprotected signing key; `createdAt` fakes gpg's clock (a key made in the past). */
  generateKey(userId: string, options?: { expire?: string; createdAt?: Date }): Promise<string>;
  /** Adds a signing subkey (gpg then signs with it); `createdAt` as for generateKey. */
  addSigningSubkey(fingerprint: string, options?: { expire?: string; createdAt?: Date }): Promise<void>;
  /** Imports the revocation certificate gpg stored for the key: the key is revoked from then on. */
  revoke(fingerprint: string): Promise<void>;
  /** Binary public keys of the given user ids (gpg --export), the keyring helm verify reads. */
  exportPublic(...userIds: string[]): Promise<Buffer>;
  /** The legacy secret keyring (gpg --export-secret-keys) helm package --sign reads. */
  exportSecret(): Promise<Buffer>;
  remove(): Promise<void>;
}

/** gpg's --faked-system-time form: 20260101T000000! (the ! stops the clock from running on). */
export const gpgTime = (date: Date): string => `${date.toISOString().replace(/[-:]/g, '').slice(0, 15)}!`;

const exec = (args: readonly string[], input?: string | Uint8Array): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const child = execFile(
      GPG,
      args,
      { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`gpg ${args.join(' ')} failed: ${stderr.toString()}`));
        else resolve(stdout);
      },
    );
    // gpg may exit before it reads its input (most commands read none): its exit code tells, not EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });

export const createGpgHome = async (): Promise<GpgHome> => {
  if (!existsSync(GPG)) throw new Error(`${GPG} is missing: apt-get install gnupg`);
  // Short path: gpg-agent's socket lives in the home and socket paths are limited to ~100 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'tg-gpg-'));
  await chmod(dir, 0o700);
  const base = ['--homedir', dir, '--batch', '--yes', '--no-tty', '--pinentry-mode', 'loopback'];
  const run = (args: readonly string[], input?: string | Uint8Array): Promise<Buffer> =>
    exec([...base, ...args], input);
  return {
    dir,
    run,
    generateKey: async (userId, options = {}) => {
      const faked = options.createdAt ? ['--faked-system-time', gpgTime(options.createdAt)] : [];
      await run([
        ...faked,
        '--passphrase',
        '',
        '--quick-gen-key',
        userId,
        'rsa2048',
        'sign',
        options.expire ?? 'never',
      ]);
      const listing = (await run(['--with-colons', '--list-keys', userId])).toString();
      const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
      if (fingerprint === undefined) throw new Error(`gpg made no key for ${userId}`);
      return fingerprint;
    },
    addSigningSubkey: async (fingerprint, options = {}) => {
      const faked = options.createdAt ? ['--faked-system-time', gpgTime(options.createdAt)] : [];
      await run([
        ...faked,
        '--passphrase',
        '',
        '--quick-add-key',
        fingerprint,
        'rsa2048',
        'sign',
        options.expire ?? 'never',
      ]);
    },
    revoke: async (fingerprint) => {
      const stored = await readFile(join(dir, 'openpgp-revocs.d', `${fingerprint}.rev`), 'utf8');
      // gpg prefixes the armor line with ':' so that the certificate is not imported by accident.
      const certificate = stored.replace(
        ':-----BEGIN PGP PUBLIC KEY BLOCK-----',
        '-----BEGIN PGP PUBLIC KEY BLOCK-----',
      );
      const file = join(dir, 'revocation.asc');
      await writeFile(file, certificate);
      await run(['--import', file]);
    },
    exportPublic: (...userIds) => run(['--export', ...userIds]),
    exportSecret: () => run(['--passphrase', '', '--export-secret-keys']),
    remove: async () => {
      // The agent this home started (by its home, never by name): it would outlive the test otherwise.
      await new Promise<void>((resolve) => {
        execFile('/usr/bin/gpgconf', ['--homedir', dir, '--kill', 'gpg-agent'], () => resolve());
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
};

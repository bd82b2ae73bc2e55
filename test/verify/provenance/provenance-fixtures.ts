// Provenance files made at run time with openpgp.js (the real library, no stand-in): keys generated per test
// file, messages laid out as helm's messageBlock writes them (Chart.yaml metadata, `...`, one files entry).
import { createHash } from 'node:crypto';
import {
  createMessage,
  generateKey,
  sign,
  type PrivateKey,
  type PublicKey,
  type SubkeyOptions,
} from 'openpgp';

export interface TestKey {
  readonly privateKey: PrivateKey;
  readonly publicKey: PublicKey;
  readonly armored: string;
  readonly revocationCertificate: string;
}

export const makeKey = async (
  name: string,
  options: { date?: Date; keyExpirationTime?: number; subkeys?: SubkeyOptions[] } = {},
): Promise<TestKey> => {
  const { privateKey, publicKey, revocationCertificate } = await generateKey({
    userIDs: [{ name, email: `${name}@example.com` }],
    format: 'object',
    ...options,
  });
  return { privateKey, publicKey, armored: publicKey.armor(), revocationCertificate };
};

export const ARCHIVE = new TextEncoder().encode('the bytes of payment-0.1.0.tgz');

export const sha256 = (bytes: Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface MessageOptions {
  readonly name?: string;
  readonly version?: string;
  readonly digest?: string;
  readonly archiveName?: string;
  /** Chart.yaml lines placed before name/version. */
  readonly metadata?: string;
  /** Replaces the whole sums part (after `...`). */
  readonly sums?: string;
}

/** helm's messageBlock: yaml.Marshal(metadata) + "\n...\n" + yaml.Marshal(sums). */
export const helmMessage = (options: MessageOptions = {}): string => {
  const name = options.name ?? 'payment';
  const version = options.version ?? '0.1.0';
  const archiveName = options.archiveName ?? `${name}-${version}.tgz`;
  const sums = options.sums ?? `files:\n  ${archiveName}: ${options.digest ?? sha256(ARCHIVE)}\n`;
  const metadata =
    options.metadata ?? 'apiVersion: v2\ndescription: A payment service\nkeywords:\n- payment\n- demo\n';
  return `${metadata}name: ${name}\nversion: ${version}\n\n...\n${sums}`;
};

/**
 * The clear-signed file as helm's x/crypto clearsign writes it: LF line ends, dash-escaping, `Hash: SHA512`,
 * the signed text without its last line break, then the armored signature. openpgp.js makes the signature
 * (a detached text signature over the same canonical text); the layout is helm's, not openpgp.js's.
 */
export const clearSign = async (text: string, keys: readonly TestKey[], date?: Date): Promise<string> => {
  const signed = text.endsWith('\n') ? text.slice(0, -1) : text;
  // openpgp.js types the armored result through web-stream conditionals that do not resolve here.
  const signature = (await sign({
    message: await createMessage({ text: signed }),
    signingKeys: keys.map((k) => k.privateKey),
    detached: true,
    format: 'armored',
    date: date ?? new Date(),
  })) as string;
  const escaped = signed
    .split('\n')
    .map((line) => (line.startsWith('-') ? `- ${line}` : line))
    .join('\n');
  return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${escaped}\n${signature}`;
};

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

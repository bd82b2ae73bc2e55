// Signing test artifacts with the real signers, offline (no Rekor, Fulcio or TUF): cosign v2 (legacy
// `.sig` tag), cosign v3 (Sigstore bundle as a referrer) and notation (JWS or COSE, referrers or tag schema).
import { join } from 'node:path';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { runTool, ToolError } from './run-tool.ts';
import type { RegistryEndpoint } from './registries.ts';
import type { PushedArtifact } from './oci.ts';
import type { ToolHome } from './tool-home.ts';

export interface CosignKeyPair {
  privateKeyFile: string;
  publicKeyFile: string;
  publicKeyPem: string;
  password: string;
}

/** `cosign generate-key-pair` (an encrypted ECDSA P-256 key, as users make them). */
export const generateCosignKeyPair = async (home: ToolHome, name: string): Promise<CosignKeyPair> => {
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const prefix = join(home.dir, name);
  await runTool('cosign', ['generate-key-pair', '--output-key-prefix', prefix], {
    env: { ...home.env, COSIGN_PASSWORD: password },
  });
  const publicKeyFile = `${prefix}.pub`;
  return {
    privateKeyFile: `${prefix}.key`,
    publicKeyFile,
    publicKeyPem: await readFile(publicKeyFile, 'utf8'),
    password,
  };
};

const cosignRegistryFlags = (registry: RegistryEndpoint): string[] =>
  registry.plainHttp ? ['--allow-http-registry'] : [];

const cosignSign = async (
  tool: 'cosign' | 'cosign2',
  offlineFlags: readonly string[],
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  key: CosignKeyPair,
): Promise<void> => {
  const flags = ['--key', key.privateKeyFile, ...offlineFlags, '--yes', ...cosignRegistryFlags(registry)];
  await runTool(tool, ['sign', ...flags, artifact.byDigest], {
    env: { ...home.env, COSIGN_PASSWORD: key.password },
  });
};

/** cosign v2: a legacy signature stored under the `sha256-<hex>.sig` tag. */
export const signCosignLegacy = (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  key: CosignKeyPair,
): Promise<void> => cosignSign('cosign2', ['--tlog-upload=false'], home, registry, artifact, key);

/** cosign v3: a Sigstore bundle (v0.3, DSSE) attached as an OCI referrer (tag schema where unsupported). */
export const signCosignBundle = (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  key: CosignKeyPair,
): Promise<void> =>
  cosignSign('cosign', ['--use-signing-config=false', '--tlog-upload=false'], home, registry, artifact, key);

/** Creates notation's self-signed test key and certificate in this tool home and makes it the default. */
export const createNotationTestSigner = async (
  home: ToolHome,
  name: string,
): Promise<{ certPem: string }> => {
  await runTool('notation', ['cert', 'generate-test', '--default', name], { env: home.env });
  const certFile = join(home.env.XDG_CONFIG_HOME ?? '', 'notation', 'localkeys', `${name}.crt`);
  return { certPem: await readFile(certFile, 'utf8') };
};

export type NotationFormat = 'jws' | 'cose';

export interface NotationSignOptions {
  /** A key name from signingkeys.json (default: the default key). */
  key?: string;
  /** notation's --expiry, e.g. "2s" or "24h": the signature's io.cncf.notary.expiry. */
  expiry?: string;
  /** An RFC 3161 TSA (--timestamp-url) and the root certificate file notation checks its answers with. */
  timestamp?: { url: string; rootCertFile: string };
  /**
   * Store the signature through the OCI 1.1 referrers API (--force-referrers-tag=false). notation
   * defaults to the tag schema, which `notation verify` then does not see on a registry that has the
   * referrers API (olareg).
   */
  referrersApi?: boolean;
}

export const signNotation = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  format: NotationFormat = 'jws',
  options: NotationSignOptions = {},
): Promise<void> => {
  const auth =
    registry.username && registry.password
      ? ['--username', registry.username, '--password', registry.password]
      : [];
  await runTool(
    'notation',
    [
      'sign',
      '--signature-format',
      format,
      ...(registry.plainHttp ? ['--insecure-registry'] : []),
      ...auth,
      ...(options.key ? ['--key', options.key] : []),
      ...(options.expiry ? ['--expiry', options.expiry] : []),
      ...(options.referrersApi ? ['--force-referrers-tag=false'] : []),
      ...(options.timestamp
        ? ['--timestamp-url', options.timestamp.url, '--timestamp-root-cert', options.timestamp.rootCertFile]
        : []),
      artifact.byDigest,
    ],
    { env: home.env },
  );
};

const notationConfigDir = (home: ToolHome): string => join(home.env.XDG_CONFIG_HOME ?? '', 'notation');

/**
 * Makes a key and certificate chain made elsewhere (e.g. by openssl, test/env/pki.ts) a notation
 * signing key: notation reads local keys from signingkeys.json ({default, keys: [{name, keyPath,
 * certPath}]}); `notation key add` only registers plugin keys. certPath holds the chain, leaf first.
 */
export const addNotationSigningKey = async (
  home: ToolHome,
  name: string,
  keyFile: string,
  chainPem: string,
): Promise<void> => {
  const dir = notationConfigDir(home);
  await mkdir(dir, { recursive: true });
  const certPath = join(dir, `${name}.chain.crt`);
  await writeFile(certPath, chainPem);
  const file = join(dir, 'signingkeys.json');
  const existing = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as { keys?: { name: string }[] },
    () => ({ keys: [] }),
  );
  const keys = [
    ...(existing.keys ?? []).filter((k) => k.name !== name),
    { name, keyPath: keyFile, certPath },
  ];
  await writeFile(file, JSON.stringify({ ...existing, keys }, null, 2));
};

export interface NotationVerifyPolicy {
  /** PEM certificates of the trust store (type ca). */
  caCertificates: readonly string[];
  trustedIdentities: readonly string[];
  level: 'strict' | 'permissive' | 'audit';
  /** TSA root certificates (PEM): a `tsa:tagguard-tsa` trust store. */
  tsaCertificates?: readonly string[];
  /** notation's signatureVerification.verifyTimestamp (default "always"). */
  verifyTimestamp?: 'always' | 'afterCertExpiry';
}

/**
 * Replaces this home's notation trust policy (every registry scope) and its
 * `ca:tagguard` trust store with `policy`.
 */
export const configureNotationVerification = async (
  home: ToolHome,
  policy: NotationVerifyPolicy,
): Promise<void> => {
  const dir = notationConfigDir(home);
  const store = join(dir, 'truststore', 'x509', 'ca', 'tagguard');
  await rm(store, { recursive: true, force: true });
  await mkdir(store, { recursive: true });
  await Promise.all(policy.caCertificates.map((pem, i) => writeFile(join(store, `cert-${i}.crt`), pem)));
  const tsaStore = join(dir, 'truststore', 'x509', 'tsa', 'tagguard-tsa');
  await rm(tsaStore, { recursive: true, force: true });
  const tsaCertificates = policy.tsaCertificates ?? [];
  if (tsaCertificates.length > 0) {
    await mkdir(tsaStore, { recursive: true });
    await Promise.all(tsaCertificates.map((pem, i) => writeFile(join(tsaStore, `tsa-${i}.crt`), pem)));
  }
  const document = JSON.stringify({
    version: '1.0',
    trustPolicies: [
      {
        name: 'tagguard',
        registryScopes: ['*'],
        signatureVerification: {
          level: policy.level,
          ...(policy.verifyTimestamp ? { verifyTimestamp: policy.verifyTimestamp } : {}),
        },
        trustStores: ['ca:tagguard', ...(tsaCertificates.length > 0 ? ['tsa:tagguard-tsa'] : [])],
        trustedIdentities: policy.trustedIdentities,
      },
    ],
  });
  // The pinned notation CLI reads trustpolicy.json; newer notation-go prefers trustpolicy.oci.json.
  await writeFile(join(dir, 'trustpolicy.json'), document);
  await writeFile(join(dir, 'trustpolicy.oci.json'), document);
};

/** `notation verify` of the artifact with this home's trust policy: its verdict and output. */
export const verifyWithNotation = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
): Promise<{ verified: boolean; output: string }> => {
  const auth =
    registry.username && registry.password
      ? ['--username', registry.username, '--password', registry.password]
      : [];
  try {
    const { stdout, stderr } = await runTool(
      'notation',
      ['verify', ...(registry.plainHttp ? ['--insecure-registry'] : []), ...auth, artifact.byDigest],
      { env: home.env },
    );
    return { verified: true, output: `${stdout}${stderr}` };
  } catch (error) {
    if (error instanceof ToolError && error.exitCode !== null)
      return { verified: false, output: `${error.stderr}${error.stdout}` };
    throw error;
  }
};

/** openssl extension lines for a Fulcio-style OIDC issuer: v1 (raw string) and v2 (DER UTF8String) OIDs. */
export const fulcioIssuerExtensions = (issuer: string, oids: 'v1' | 'v2' | 'both' = 'both'): string[] => [
  ...(oids !== 'v2' ? [`1.3.6.1.4.1.57264.1.1 = DER:${Buffer.from(issuer, 'utf8').toString('hex')}`] : []),
  ...(oids !== 'v1' ? [`1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:${issuer}`] : []),
];

/** Imports a PEM private key made elsewhere (openssl) as an encrypted cosign key pair. */
export const importCosignKey = async (
  home: ToolHome,
  name: string,
  pemKeyFile: string,
): Promise<CosignKeyPair> => {
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const prefix = join(home.dir, name);
  await runTool('cosign', ['import-key-pair', '--key', pemKeyFile, '--output-key-prefix', prefix], {
    env: { ...home.env, COSIGN_PASSWORD: password },
  });
  return {
    privateKeyFile: `${prefix}.key`,
    publicKeyFile: `${prefix}.pub`,
    publicKeyPem: await readFile(`${prefix}.pub`, 'utf8'),
    password,
  };
};

export interface CosignCertificate {
  /** The cosign key pair whose key the certificate certifies. */
  key: CosignKeyPair;
  certFile: string;
  /** Intermediates and root, PEM. */
  chainFile: string;
}

/** cosign v2 (legacy `.sig`) or v3 (bundle) signature with a certificate and chain, no transparency log. */
export const signCosignWithCertificate = async (
  generation: 'legacy' | 'bundle',
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  cert: CosignCertificate,
): Promise<void> => {
  const tool = generation === 'legacy' ? 'cosign2' : 'cosign';
  const offline =
    generation === 'legacy' ? ['--tlog-upload=false'] : ['--use-signing-config=false', '--tlog-upload=false'];
  await runTool(
    tool,
    [
      'sign',
      '--key',
      cert.key.privateKeyFile,
      '--certificate',
      cert.certFile,
      '--certificate-chain',
      cert.chainFile,
      ...offline,
      '--yes',
      ...cosignRegistryFlags(registry),
      artifact.byDigest,
    ],
    { env: { ...home.env, COSIGN_PASSWORD: cert.key.password } },
  );
};

/** A Sigstore trusted_root.json whose only certificate authority is the given CA (no logs, no TSA). */
export const privateTrustedRoot = (caPem: string): unknown => ({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  timestampAuthorities: [],
  certificateAuthorities: [
    {
      subject: { organization: 'tagguard-test', commonName: 'test-ca' },
      uri: 'https://ca.tagguard.test',
      certChain: {
        certificates: [
          {
            rawBytes: Buffer.from(
              caPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''),
              'base64',
            ).toString('base64'),
          },
        ],
      },
      validFor: { start: '2000-01-01T00:00:00Z' },
    },
  ],
});

/** `cosign verify` (v2 `cosign2` or v3 `cosign`) with the given trust flags: its verdict and output. */
export const verifyWithCosign = async (
  tool: 'cosign' | 'cosign2',
  home: ToolHome,
  registry: RegistryEndpoint,
  reference: string,
  trustFlags: readonly string[],
): Promise<{ verified: boolean; output: string }> => {
  try {
    const { stdout, stderr } = await runTool(
      tool,
      ['verify', ...trustFlags, ...cosignRegistryFlags(registry), reference],
      { env: home.env },
    );
    return { verified: true, output: `${stdout}${stderr}` };
  } catch (error) {
    if (error instanceof ToolError && error.exitCode !== null)
      return { verified: false, output: `${error.stderr}${error.stdout}` };
    throw error;
  }
};

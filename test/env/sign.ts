// Signing test artifacts with the real signers, offline (no Rekor, Fulcio or TUF): cosign v2 (legacy
// `.sig` tag), cosign v3 (Sigstore bundle as a referrer) and notation (JWS or COSE, referrers or tag schema).
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { runTool } from './run-tool.ts';
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

export const signNotation = async (
  home: ToolHome,
  registry: RegistryEndpoint,
  artifact: PushedArtifact,
  format: NotationFormat = 'jws',
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
      artifact.byDigest,
    ],
    { env: home.env },
  );
};

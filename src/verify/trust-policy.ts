// Turns the `spec.verify` of an ArtifactVerification into a TrustPolicy: trust material as plain data. The
// operator passes the Secrets and ConfigMaps it read (data decoded to strings; the raw bytes of provenance
// keyrings, which may be binary OpenPGP); the CLI passes only what the policy file carries inline or names.
// A reference to material that was not given is a coded (stalling) error.
import { parsePublicKeys } from './cosign/public-keys.ts';
import { parseTrustStore } from './notation/trust-store.ts';
import type { VerifySpec } from '../api/artifact-verification.ts';
import { compileRe2, Re2PatternError } from '../re2-pattern.ts';
import { TrustPolicyError } from './errors.ts';
import { readProvenanceKeyring } from './provenance/provenance-keyring.ts';
import type { CosignTrust, NotationTrust, ProvenanceTrust, TrustPolicy } from './types.ts';

/** Data of Secrets or ConfigMaps by object name: key → decoded value. */
export type ObjectData = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Data of Secrets by object name, undecoded: key → bytes (provenance keyrings may be binary). */
export type BinaryObjectData = Readonly<Record<string, Readonly<Record<string, Uint8Array>>>>;

export interface TrustMaterialSources {
  readonly secrets?: ObjectData;
  readonly configMaps?: ObjectData;
  /** The Secrets of `verify.provenance[].keyring.secretRef`, as bytes. */
  readonly keyringSecrets?: BinaryObjectData;
}

/** The ConfigMap key a private Sigstore trusted root is read from. */
export const TRUSTED_ROOT_KEY = 'trusted_root.json';

/** Secret keys of a notation trust store that hold timestamping-authority roots (Secret keys cannot contain "/"). */
const isTsaKey = (key: string): boolean => /^tsa[/._-]/.test(key);

const lookup = (
  objects: ObjectData | undefined,
  kind: 'Secret' | 'ConfigMap',
  name: string,
  signer: string,
): Readonly<Record<string, string>> => {
  const data = objects?.[name];
  if (data === undefined)
    throw new TrustPolicyError('MaterialMissing', `${kind} "${name}" was not provided`, signer);
  return data;
};

/** A subjectRegex RE2 (cosign's engine) refuses stalls the policy here rather than matching nothing later. */
const checkSubjectRegex = (signer: NonNullable<VerifySpec['cosign']>[number]): void => {
  const pattern = signer.keyless?.subjectRegex;
  if (pattern === undefined) return;
  try {
    compileRe2(pattern);
  } catch (cause) {
    if (!(cause instanceof Re2PatternError)) throw cause;
    throw new TrustPolicyError(
      'InvalidIdentityPattern',
      `keyless.subjectRegex: ${cause.message}`,
      signer.name,
      {
        cause,
      },
    );
  }
};

const cosignTrust = (
  signer: NonNullable<VerifySpec['cosign']>[number],
  sources: TrustMaterialSources,
): CosignTrust => {
  checkSubjectRegex(signer);
  const publicKeys: string[] = [];
  if (signer.publicKey !== undefined) publicKeys.push(signer.publicKey);
  if (signer.secretRef !== undefined) {
    const data = lookup(sources.secrets, 'Secret', signer.secretRef.name, signer.name);
    const keys = Object.entries(data).filter(([key]) => key.endsWith('.pub'));
    if (keys.length === 0)
      throw new TrustPolicyError(
        'MaterialMissing',
        `Secret "${signer.secretRef.name}" has no *.pub key`,
        signer.name,
      );
    publicKeys.push(...keys.map(([, value]) => value));
  }
  // Refused when the policy is read, not when the first signature turns up (or never, if none does).
  parsePublicKeys(publicKeys, signer.name);
  let trustedRoot: unknown;
  if (signer.trustedRoot !== undefined) {
    const name = signer.trustedRoot.configMapRef.name;
    const text = lookup(sources.configMaps, 'ConfigMap', name, signer.name)[TRUSTED_ROOT_KEY];
    if (text === undefined)
      throw new TrustPolicyError(
        'MaterialMissing',
        `ConfigMap "${name}" has no ${TRUSTED_ROOT_KEY}`,
        signer.name,
      );
    try {
      trustedRoot = JSON.parse(text);
    } catch (cause) {
      throw new TrustPolicyError(
        'InvalidTrustedRoot',
        `ConfigMap "${name}" ${TRUSTED_ROOT_KEY} is not JSON`,
        signer.name,
        {
          cause,
        },
      );
    }
  }
  if (publicKeys.length === 0 && signer.keyless === undefined)
    throw new TrustPolicyError('MaterialMissing', 'needs a publicKey, a secretRef or keyless', signer.name);
  return {
    name: signer.name,
    publicKeys,
    ...(signer.keyless !== undefined ? { keyless: signer.keyless } : {}),
    ...(trustedRoot !== undefined ? { trustedRoot } : {}),
    requireTransparencyLog: signer.requireTransparencyLog ?? signer.keyless !== undefined,
  };
};

const notationTrust = (
  signer: NonNullable<VerifySpec['notation']>[number],
  sources: TrustMaterialSources,
): NotationTrust => {
  const caCertificates: string[] = [];
  const tsaCertificates: string[] = [];
  if (signer.trustStore.pem !== undefined) caCertificates.push(signer.trustStore.pem);
  if (signer.trustStore.secretRef !== undefined) {
    const data = lookup(sources.secrets, 'Secret', signer.trustStore.secretRef.name, signer.name);
    for (const [key, value] of Object.entries(data))
      (isTsaKey(key) ? tsaCertificates : caCertificates).push(value);
  }
  if (caCertificates.length === 0)
    throw new TrustPolicyError('MaterialMissing', 'the trust store holds no CA certificate', signer.name);
  // Refused when the policy is read: a trust store that does not parse is the spec's or Secret's fault.
  for (const pems of [caCertificates, tsaCertificates]) {
    try {
      parseTrustStore(pems);
    } catch (cause) {
      throw new TrustPolicyError(
        'InvalidCertificate',
        `the trust store does not parse: ${cause instanceof Error ? cause.message : String(cause)}`,
        signer.name,
        { cause },
      );
    }
  }
  return {
    name: signer.name,
    caCertificates,
    tsaCertificates,
    trustedIdentities: signer.trustedIdentities,
    level: signer.level ?? 'strict',
    ...(signer.revocation ? { revocation: signer.revocation } : {}),
  };
};

/** Every value of the keyring Secret (any key name: helm keyrings are often `pubring.gpg`), or the inline key. */
const provenanceTrust = async (
  signer: NonNullable<VerifySpec['provenance']>[number],
  sources: TrustMaterialSources,
): Promise<ProvenanceTrust> => {
  const values: (string | Uint8Array)[] = [];
  if (signer.publicKey !== undefined) values.push(signer.publicKey);
  if (signer.keyring !== undefined) {
    const name = signer.keyring.secretRef.name;
    const data = sources.keyringSecrets?.[name];
    if (data === undefined)
      throw new TrustPolicyError('MaterialMissing', `Secret "${name}" was not provided`, signer.name);
    // Sorted by key: the keyring's digest (its cache identity) does not depend on the API's map order.
    values.push(
      ...Object.entries(data)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, value]) => value),
    );
  }
  if (values.length === 0)
    throw new TrustPolicyError('MaterialMissing', 'needs a keyring.secretRef or a publicKey', signer.name);
  return { name: signer.name, keyring: await readProvenanceKeyring(values, signer.name) };
};

/** Async because OpenPGP keys are parsed here (openpgp.js reads keys asynchronously). */
export const trustPolicyFromSpec = async (
  spec: VerifySpec,
  material: TrustMaterialSources,
): Promise<TrustPolicy> => {
  const cosign = (spec.cosign ?? []).map((s) => cosignTrust(s, material));
  const notation = (spec.notation ?? []).map((s) => notationTrust(s, material));
  const provenance: ProvenanceTrust[] = [];
  for (const s of spec.provenance ?? []) provenance.push(await provenanceTrust(s, material));
  const signers = cosign.length + notation.length + provenance.length;
  return {
    minSignatures: spec.minSignatures ?? (signers > 0 ? 1 : 0),
    cosign,
    notation,
    ...(provenance.length > 0 ? { provenance } : {}),
  };
};

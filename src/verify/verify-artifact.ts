// Verification of one digest against a TrustPolicy: fetch every signature the policy could use through
// the registry client (legacy `.sig` tag, referrers or their tag-schema index; manifests and blobs by
// digest, re-hashed), hand them to one Verifier per signer entry and evaluate minSignatures. Registry
// failures give the verdict Error (reason RegistryError); a policy whose trust material is unusable throws
// TrustPolicyError (the caller's stalling error). Signature bytes never throw from here: each verifier
// judges each signature on its own (a malformed one is SignatureInvalid), and blobs larger than any real
// signature are not fetched.
import type { RegistryClient } from '../registry/client.ts';
import type { Descriptor, ImageManifest } from '../registry/manifest.ts';
import type { OciReference } from '../registry/reference.ts';
import { COSIGN_BUNDLE_ARTIFACT_TYPE, NOTATION_SIGNATURE_ARTIFACT_TYPE } from '../registry/media-types.ts';
import { isRegistryError } from '../registry/errors.ts';
import { CosignVerifier } from './cosign/cosign-verifier.ts';
import { NotationSignerVerifier } from './notation-signer.ts';
import { evaluatePolicy } from './evaluate-policy.ts';
import type { Verifier, VerifierIo } from './verifier.ts';
import type { ChainRevocation } from './notation/revocation/revocation.ts';
import { MAX_ENVELOPE_BYTES } from './notation/envelope.ts';
import type {
  SignerResult,
  CosignBundleSignature,
  CosignLegacySignature,
  NotationEnvelope,
  SignatureMaterial,
  TrustPolicy,
  VerificationResult,
  VerificationTarget,
} from './types.ts';

const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
const NOTATION_ENVELOPE_TYPES: ReadonlySet<string> = new Set(['application/jose+json', 'application/cose']);
const ANNOTATION = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
} as const;

type Repository = Pick<OciReference, 'registry' | 'repository'>;

/** Signatures of one format read per digest: a registry cannot make tagguard fetch without end. */
export const MAX_SIGNATURES_PER_FORMAT = 50;

/**
 * Real signature blobs are a few KiB (a payload, a bundle, an envelope with its chain): a larger one is
 * not read (the registry client would take up to its blob cap, 64 MiB, times MAX_SIGNATURES_PER_FORMAT)
 * and is judged an invalid signature. Notation's own envelope cap is the same.
 */
export const MAX_SIGNATURE_BLOB_BYTES = MAX_ENVELOPE_BYTES;

const readSignatureBlob = async (
  client: RegistryClient,
  repo: Repository,
  layer: Descriptor,
): Promise<{ bytes: Buffer; tooLarge?: number }> =>
  layer.size > MAX_SIGNATURE_BLOB_BYTES
    ? { bytes: Buffer.alloc(0), tooLarge: layer.size }
    : { bytes: await client.getBlob(repo, layer) };

const verifiersCache = new WeakMap<TrustPolicy, readonly Verifier[]>();

/** One Verifier per signer entry, built (and its trust material parsed) once per policy object. */
const verifiersFor = (policy: TrustPolicy): readonly Verifier[] => {
  const cached = verifiersCache.get(policy);
  if (cached) return cached;
  const verifiers: Verifier[] = [
    ...policy.cosign.map((trust) => new CosignVerifier(trust)),
    ...policy.notation.map((trust) => new NotationSignerVerifier(trust)),
  ];
  verifiersCache.set(policy, verifiers);
  return verifiers;
};

const legacySignatures = async (
  client: RegistryClient,
  repo: Repository,
  digest: string,
): Promise<CosignLegacySignature[]> => {
  const tag = `${digest.replace(':', '-')}.sig`;
  const fetched = await client.getManifest({ ...repo, tag }).catch((error: unknown) => {
    if (isRegistryError(error, 'NotFound')) return undefined;
    throw error;
  });
  if (fetched?.manifest.kind !== 'manifest') return [];
  const layers = fetched.manifest.layers
    .filter(
      (l) => l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && l.annotations?.[ANNOTATION.signature] !== undefined,
    )
    .slice(0, MAX_SIGNATURES_PER_FORMAT);
  return Promise.all(
    layers.map(async (layer): Promise<CosignLegacySignature> => {
      const a = layer.annotations ?? {};
      const optional = {
        certificate: a[ANNOTATION.certificate],
        chain: a[ANNOTATION.chain],
        rekorBundle: a[ANNOTATION.bundle],
      };
      const { bytes, tooLarge } = await readSignatureBlob(client, repo, layer);
      return {
        payload: bytes,
        ...(tooLarge !== undefined ? { tooLarge } : {}),
        signature: a[ANNOTATION.signature] ?? '',
        ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined && v !== '')),
        signatureManifestDigest: fetched.digest,
      };
    }),
  );
};

/** A referrer's manifest, only if it really names the digest as its subject. */
const referrerManifest = async (
  client: RegistryClient,
  repo: Repository,
  descriptor: Descriptor,
  digest: string,
): Promise<ImageManifest | undefined> => {
  const fetched = await client.getManifest(repo, descriptor.digest);
  if (fetched.manifest.kind !== 'manifest' || fetched.manifest.subject?.digest !== digest) return undefined;
  return fetched.manifest;
};

const referrerSignatures = async (
  client: RegistryClient,
  repo: Repository,
  digest: string,
  want: { bundles: boolean; notation: boolean },
): Promise<{ bundles: CosignBundleSignature[]; notation: NotationEnvelope[] }> => {
  const { manifests } = await client.listReferrers(repo, digest);
  const ofType = (wanted: boolean, type: string): Descriptor[] =>
    wanted ? manifests.filter((d) => d.artifactType === type).slice(0, MAX_SIGNATURES_PER_FORMAT) : [];
  const selected = [
    ...ofType(want.bundles, COSIGN_BUNDLE_ARTIFACT_TYPE),
    ...ofType(want.notation, NOTATION_SIGNATURE_ARTIFACT_TYPE),
  ];
  const bundles: CosignBundleSignature[] = [];
  const notation: NotationEnvelope[] = [];
  await Promise.all(
    selected.map(async (descriptor) => {
      const isBundle = descriptor.artifactType === COSIGN_BUNDLE_ARTIFACT_TYPE;
      const manifest = await referrerManifest(client, repo, descriptor, digest);
      if (!manifest) return;
      if (isBundle) {
        const layer = manifest.layers.find((l) => l.mediaType === COSIGN_BUNDLE_ARTIFACT_TYPE);
        if (layer)
          bundles.push({
            ...(await readSignatureBlob(client, repo, layer)),
            signatureManifestDigest: descriptor.digest,
          });
        return;
      }
      const [layer, ...extra] = manifest.layers;
      if (layer && extra.length === 0 && NOTATION_ENVELOPE_TYPES.has(layer.mediaType)) {
        notation.push({
          mediaType: layer.mediaType,
          ...(await readSignatureBlob(client, repo, layer)),
          signatureManifestDigest: descriptor.digest,
        });
      }
    }),
  );
  return { bundles, notation };
};

/**
 * Referrers first (cosign v3 bundles, notation), then — only for cosign entries the bundles did not
 * satisfy — the legacy `.sig` tag: the common case costs one request less, a legacy-only artifact one
 * round trip more.
 */
const verifyFetched = async (
  client: RegistryClient,
  reference: OciReference,
  digest: string,
  policy: TrustPolicy,
  verifiers: readonly Verifier[],
  now: Date,
  io: VerifierIo,
): Promise<SignerResult[]> => {
  const repo: Repository = { registry: reference.registry, repository: reference.repository };
  const wantCosign = policy.cosign.length > 0;
  const wantNotation = policy.notation.length > 0;
  // Notation signs the target's media type and size: read (and re-hash) the manifest only for it.
  // Each fetch phase is one registry operation under one deadline (verification itself is not).
  const where = `${repo.registry}/${repo.repository}@${digest}`;
  const [manifest, referrers] = await client.operation(repo.registry, `signature lookup of ${where}`, () =>
    Promise.all([
      wantNotation ? client.getManifest(repo, digest) : undefined,
      referrerSignatures(client, repo, digest, { bundles: wantCosign, notation: wantNotation }),
    ]),
  );
  const target: VerificationTarget = {
    repository: `${repo.registry}/${repo.repository}`,
    digest,
    ...(manifest ? { mediaType: manifest.mediaType, size: manifest.bytes.length } : {}),
  };
  const first: SignatureMaterial = {
    cosignLegacy: [],
    cosignBundles: referrers.bundles,
    notation: referrers.notation,
  };
  const results = await Promise.all(verifiers.map(async (v) => v.verify(target, first, now, io)));
  if (!results.some((r, i) => verifiers[i]?.type === 'cosign' && !r.verified)) return results;
  const cosignLegacy = await client.operation(repo.registry, `legacy signatures of ${where}`, () =>
    legacySignatures(client, repo, digest),
  );
  const full: SignatureMaterial = { ...first, cosignLegacy };
  return Promise.all(
    verifiers.map(async (v, i) =>
      v.type === 'cosign' && !results[i]?.verified
        ? v.verify(target, full, now, io)
        : (results[i] as SignerResult),
    ),
  );
};

export const verifyArtifact = async (
  client: RegistryClient,
  reference: OciReference,
  digest: string,
  policy: TrustPolicy,
  options: { now: () => Date; revocation?: ChainRevocation },
): Promise<VerificationResult> => {
  const verifiers = verifiersFor(policy);
  if (verifiers.length === 0) return evaluatePolicy(digest, [], policy.minSignatures);
  try {
    const io = options.revocation ? { revocation: options.revocation } : {};
    const signers = await verifyFetched(client, reference, digest, policy, verifiers, options.now(), io);
    return evaluatePolicy(digest, signers, policy.minSignatures);
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    const message = `${error.code}: ${error.message}`;
    return {
      digest,
      verdict: 'Error',
      reasons: ['RegistryError'],
      signers: verifiers.map((v) => ({
        name: v.name,
        type: v.type,
        verified: false,
        reason: 'RegistryError',
        message,
      })),
    };
  }
};

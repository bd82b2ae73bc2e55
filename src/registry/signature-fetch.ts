// Reads the signatures stored for one digest (stored-signatures.ts says where): the referrers (OCI 1.1 API
// or tag-schema index) first, the legacy `.sig` tag on request; manifests and blobs by digest through the
// client, re-hashed and size-capped, at most MAX_SIGNATURES_PER_FORMAT per format, no blob larger than
// MAX_SIGNATURE_BLOB_BYTES. Each read is one registry operation under one deadline. It judges nothing.
import type { RegistryClient } from './client.ts';
import { isRegistryError } from './errors.ts';
import type { Descriptor, ImageManifest } from './manifest.ts';
import { COSIGN_BUNDLE_ARTIFACT_TYPE, NOTATION_SIGNATURE_ARTIFACT_TYPE } from './media-types.ts';
import type { DigestReference, OciReference } from './reference.ts';
import {
  COSIGN_ANNOTATIONS,
  MAX_SIGNATURE_BLOB_BYTES,
  MAX_SIGNATURES_PER_FORMAT,
  NOTATION_ENVELOPE_MEDIA_TYPES,
  SIMPLE_SIGNING_MEDIA_TYPE,
  type LegacySignatureLayer,
  type NotationSignatureLayer,
  type ReferrerSignatures,
  type StoredSignatureBlob,
} from './stored-signatures.ts';

type Repository = Pick<OciReference, 'registry' | 'repository'>;

/** The signatures of one digest; throws RegistryError when the registry fails. */
export interface SignatureFetcher {
  /** The referrer signatures of the wanted formats, and the target manifest when `target` is asked for. */
  referrers(want: {
    readonly target: boolean;
    readonly bundles: boolean;
    readonly notation: boolean;
  }): Promise<ReferrerSignatures>;
  /** The signature layers of the legacy `sha256-<hex>.sig` tag (none when the tag does not exist). */
  legacy(): Promise<readonly LegacySignatureLayer[]>;
}

const readSignatureBlob = async (
  client: RegistryClient,
  repo: Repository,
  layer: Descriptor,
  manifestDigest: string,
): Promise<StoredSignatureBlob> =>
  layer.size > MAX_SIGNATURE_BLOB_BYTES
    ? { bytes: Buffer.alloc(0), tooLarge: layer.size, manifestDigest }
    : { bytes: await client.getBlob(repo, layer), manifestDigest };

const legacySignatures = async (
  client: RegistryClient,
  repo: Repository,
  digest: string,
): Promise<LegacySignatureLayer[]> => {
  const tag = `${digest.replace(':', '-')}.sig`;
  const fetched = await client.getManifest({ ...repo, tag }).catch((error: unknown) => {
    if (isRegistryError(error, 'NotFound')) return undefined;
    throw error;
  });
  if (fetched?.manifest.kind !== 'manifest') return [];
  const layers = fetched.manifest.layers
    .filter(
      (l) =>
        l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE &&
        l.annotations?.[COSIGN_ANNOTATIONS.signature] !== undefined,
    )
    .slice(0, MAX_SIGNATURES_PER_FORMAT);
  return Promise.all(
    layers.map(async (layer) => ({
      ...(await readSignatureBlob(client, repo, layer, fetched.digest)),
      annotations: layer.annotations ?? {},
    })),
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

/** The Sigstore bundle layer of a bundle referrer. */
const bundleOf = async (
  client: RegistryClient,
  repo: Repository,
  manifest: ImageManifest,
  manifestDigest: string,
): Promise<StoredSignatureBlob | undefined> => {
  const layer = manifest.layers.find((l) => l.mediaType === COSIGN_BUNDLE_ARTIFACT_TYPE);
  return layer ? readSignatureBlob(client, repo, layer, manifestDigest) : undefined;
};

/** The envelope of a notation referrer: its single layer, of an envelope media type. */
const envelopeOf = async (
  client: RegistryClient,
  repo: Repository,
  manifest: ImageManifest,
  manifestDigest: string,
): Promise<NotationSignatureLayer | undefined> => {
  const [layer, ...extra] = manifest.layers;
  if (!layer || extra.length > 0 || !NOTATION_ENVELOPE_MEDIA_TYPES.has(layer.mediaType)) return undefined;
  return { mediaType: layer.mediaType, ...(await readSignatureBlob(client, repo, layer, manifestDigest)) };
};

const referrerSignatures = async (
  client: RegistryClient,
  repo: Repository,
  digest: string,
  want: { bundles: boolean; notation: boolean },
): Promise<Pick<ReferrerSignatures, 'bundles' | 'notation'>> => {
  const { manifests } = await client.listReferrers(repo, digest);
  const ofType = (wanted: boolean, type: string): Descriptor[] =>
    wanted ? manifests.filter((d) => d.artifactType === type).slice(0, MAX_SIGNATURES_PER_FORMAT) : [];
  const read = async <T>(
    descriptors: readonly Descriptor[],
    layerOf: (manifest: ImageManifest, manifestDigest: string) => Promise<T | undefined>,
  ): Promise<T[]> => {
    const found = await Promise.all(
      descriptors.map(async (d) => {
        const manifest = await referrerManifest(client, repo, d, digest);
        return manifest ? layerOf(manifest, d.digest) : undefined;
      }),
    );
    return found.filter((f): f is Awaited<T> => f !== undefined);
  };
  const [bundles, notation] = await Promise.all([
    read(ofType(want.bundles, COSIGN_BUNDLE_ARTIFACT_TYPE), (m, d) => bundleOf(client, repo, m, d)),
    read(ofType(want.notation, NOTATION_SIGNATURE_ARTIFACT_TYPE), (m, d) => envelopeOf(client, repo, m, d)),
  ]);
  return { bundles, notation };
};

/** The signatures of the digest `repo` names, in its repository, read through `client`. */
export const registrySignatures = (client: RegistryClient, repo: DigestReference): SignatureFetcher => {
  const { digest } = repo;
  const where = `${repo.registry}/${repo.repository}@${digest}`;
  const at: Repository = { registry: repo.registry, repository: repo.repository };
  return {
    referrers: async (want) => {
      const [manifest, referrers] = await client.operation(at.registry, `signature lookup of ${where}`, () =>
        Promise.all([
          want.target ? client.getManifest(at, digest) : undefined,
          referrerSignatures(client, at, digest, want),
        ]),
      );
      return {
        ...(manifest ? { target: { mediaType: manifest.mediaType, size: manifest.bytes.length } } : {}),
        ...referrers,
      };
    },
    legacy: () =>
      client.operation(at.registry, `legacy signatures of ${where}`, () =>
        legacySignatures(client, at, digest),
      ),
  };
};

// Reads the signatures stored for one digest (stored-signatures.ts says where): the referrers (OCI 1.1 API
// or tag-schema index) first, the legacy `.sig` tag on request; manifests and blobs by digest through the
// client, re-hashed and size-capped, at most MAX_SIGNATURES_PER_FORMAT per format, no blob larger than
// MAX_SIGNATURE_BLOB_BYTES. Each read is one registry operation under one deadline. It judges nothing.
// For Helm provenance, the chart manifest's config and `.prov` layer (stored-chart.ts), on request.
import type { RegistryClient } from './client.ts';
import { isRegistryError } from './errors.ts';
import type { Descriptor, ImageManifest } from './manifest.ts';
import { COSIGN_BUNDLE_ARTIFACT_TYPE, NOTATION_SIGNATURE_ARTIFACT_TYPE } from './media-types.ts';
import type { DigestReference, OciReference } from './reference.ts';
import {
  HELM_CHART_LAYER_MEDIA_TYPES,
  HELM_CONFIG_MEDIA_TYPE,
  HELM_PROVENANCE_LAYER_MEDIA_TYPE,
  MAX_CHART_CONFIG_BYTES,
  MAX_STORED_PROVENANCE_BYTES,
  type StoredChart,
} from './stored-chart.ts';
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
  /** The digest's manifest read as a Helm chart: its config, chart layers and `.prov` layer. */
  chart(): Promise<StoredChart>;
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

/**
 * The chart facts of one manifest. Only what the judgement needs is read: the config when it is a Helm
 * config, the `.prov` when there is exactly one (several are refused by verify/ unread), each size-capped.
 */
const storedChart = async (
  client: RegistryClient,
  repo: Repository,
  digest: string,
): Promise<StoredChart> => {
  const { manifest } = await client.getManifest(repo, digest);
  if (manifest.kind !== 'manifest') return { kind: 'index', chartLayers: [], provenanceLayers: 0 };
  const chartLayers = manifest.layers
    .filter((l) => HELM_CHART_LAYER_MEDIA_TYPES.has(l.mediaType))
    .map(({ mediaType, digest: d, size }) => ({ mediaType, digest: d, size }));
  const provenance = manifest.layers.filter((l) => l.mediaType === HELM_PROVENANCE_LAYER_MEDIA_TYPE);
  const { config } = manifest;
  const isHelmConfig = config.mediaType === HELM_CONFIG_MEDIA_TYPE;
  const [configBytes, provenanceBytes] = await Promise.all([
    isHelmConfig && config.size <= MAX_CHART_CONFIG_BYTES ? client.getBlob(repo, config) : undefined,
    provenance.length === 1 && provenance[0] && provenance[0].size <= MAX_STORED_PROVENANCE_BYTES
      ? client.getBlob(repo, provenance[0])
      : undefined,
  ]);
  const provenanceTooLarge = provenance.length === 1 && provenanceBytes === undefined;
  return {
    kind: 'manifest',
    configMediaType: config.mediaType,
    ...(configBytes ? { config: configBytes } : {}),
    ...(isHelmConfig && configBytes === undefined ? { configTooLarge: config.size } : {}),
    chartLayers,
    provenanceLayers: provenance.length,
    ...(provenanceBytes ? { provenance: provenanceBytes } : {}),
    ...(provenanceTooLarge ? { provenanceTooLarge: provenance[0]?.size ?? 0 } : {}),
  };
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
    chart: () =>
      client.operation(at.registry, `chart provenance of ${where}`, () => storedChart(client, at, digest)),
  };
};

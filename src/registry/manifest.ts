// Narrow parsing of manifests and indexes at the edge: only the fields tagguard uses, each checked.
import { RegistryError } from './errors.ts';
import { isDigest } from './reference.ts';
import { DOCKER_MANIFEST_LIST, OCI_INDEX } from './media-types.ts';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageManifest {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export type Manifest = ImageManifest | ImageIndex;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (where: string, why: string): RegistryError =>
  new RegistryError('InvalidResponse', `${where}: ${why}`);

const parseAnnotations = (value: unknown, where: string): Record<string, string> | undefined => {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw invalid(where, 'annotations must be a map of strings');
  }
  return value as Record<string, string>;
};

const parseDescriptor = (value: unknown, where: string): Descriptor => {
  if (!isRecord(value)) throw invalid(where, 'descriptor is not an object');
  const { mediaType, digest, size, artifactType } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(where, 'descriptor has no mediaType');
  if (typeof digest !== 'string' || !isDigest(digest))
    throw invalid(where, `descriptor digest ${JSON.stringify(digest)} is invalid`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw invalid(where, 'descriptor size is invalid');
  const annotations = parseAnnotations(value.annotations, where);
  return {
    mediaType,
    digest,
    size,
    ...(typeof artifactType === 'string' && artifactType !== '' ? { artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
};

/** Parses manifest bytes; `contentType` is the registry's Content-Type, used when mediaType is absent. */
export const parseManifest = (
  bytes: Uint8Array,
  contentType: string | undefined,
  where: string,
): Manifest => {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new RegistryError('InvalidResponse', `${where}: manifest is not valid JSON`, { cause });
  }
  if (!isRecord(doc)) throw invalid(where, 'manifest is not a JSON object');
  const mediaType =
    typeof doc.mediaType === 'string' ? doc.mediaType : (contentType?.split(';')[0]?.trim() ?? '');
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, `${where} subject`);
  const annotations = parseAnnotations(doc.annotations, where);
  const common = { mediaType, ...(subject ? { subject } : {}), ...(annotations ? { annotations } : {}) };
  const isIndexType = mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
  if (
    Array.isArray(doc.manifests) ||
    (isIndexType && (doc.manifests === undefined || doc.manifests === null))
  ) {
    // An empty index may omit "manifests" or send null (some registries' empty referrers answer).
    const list: unknown[] = Array.isArray(doc.manifests) ? doc.manifests : [];
    return {
      kind: 'index',
      ...common,
      manifests: list.map((m, i) => parseDescriptor(m, `${where} manifests[${i}]`)),
    };
  }
  if (!Array.isArray(doc.layers) && doc.config === undefined)
    throw invalid(where, 'neither a manifest nor an index');
  const layers = Array.isArray(doc.layers)
    ? doc.layers.map((l, i) => parseDescriptor(l, `${where} layers[${i}]`))
    : [];
  return {
    kind: 'manifest',
    ...common,
    ...(typeof doc.artifactType === 'string' && doc.artifactType !== ''
      ? { artifactType: doc.artifactType }
      : {}),
    config: parseDescriptor(doc.config, `${where} config`),
    layers,
  };
};

// Looks for an SBOM bound to a digest: an SPDX or CycloneDX referrer whose manifest names the digest as
// its subject and whose document parses as that format. Everything is read by digest, re-hashed by the
// registry client.
import type { RegistryClient } from '../../registry/client.ts';
import type { Descriptor } from '../../registry/manifest.ts';
import type { OciReference } from '../../registry/reference.ts';

export type SbomFormat = 'spdx' | 'cyclonedx';

export const SBOM_ARTIFACT_TYPES: Readonly<Record<string, SbomFormat>> = {
  'application/spdx+json': 'spdx',
  'application/vnd.cyclonedx+json': 'cyclonedx',
};

export interface SbomResult {
  readonly found: boolean;
  readonly format?: SbomFormat;
  /** The referrer manifest that carries the SBOM. */
  readonly referrer?: string;
  /** Why nothing was accepted (no referrer, or what was wrong with each). */
  readonly reason?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when the JSON document is of the claimed format. */
export const isSbomDocument = (bytes: Buffer, format: SbomFormat): boolean => {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return false;
  }
  if (!isRecord(doc)) return false;
  return format === 'spdx'
    ? typeof doc.spdxVersion === 'string' && doc.spdxVersion.startsWith('SPDX-')
    : doc.bomFormat === 'CycloneDX' && typeof doc.specVersion === 'string';
};

const formatOf = (descriptor: Descriptor): SbomFormat | undefined =>
  descriptor.artifactType === undefined ? undefined : SBOM_ARTIFACT_TYPES[descriptor.artifactType];

/** Checks one referrer; returns why it is refused, or undefined when it is a good SBOM. */
const checkReferrer = async (
  client: RegistryClient,
  ref: Pick<OciReference, 'registry' | 'repository'>,
  digest: string,
  candidate: Descriptor,
  format: SbomFormat,
): Promise<string | undefined> => {
  const fetched = await client.getManifest(ref, candidate.digest);
  const { manifest } = fetched;
  if (manifest.kind !== 'manifest') return `${candidate.digest} is not an image manifest`;
  if (manifest.subject?.digest !== digest)
    return `${candidate.digest} has subject ${manifest.subject?.digest ?? 'none'}, not ${digest}`;
  const layer =
    manifest.layers.find((l) => SBOM_ARTIFACT_TYPES[l.mediaType] === format) ?? manifest.layers[0];
  if (layer === undefined) return `${candidate.digest} has no layer`;
  const document = await client.getBlob(ref, layer);
  return isSbomDocument(document, format)
    ? undefined
    : `${candidate.digest}: the document is not valid ${format} JSON`;
};

export const checkSbom = async (
  client: RegistryClient,
  ref: Pick<OciReference, 'registry' | 'repository'>,
  digest: string,
): Promise<SbomResult> => {
  const { manifests } = await client.listReferrers(ref, digest);
  const candidates = manifests.filter((d) => formatOf(d) !== undefined);
  if (candidates.length === 0) return { found: false, reason: 'no SPDX or CycloneDX referrer of the digest' };
  const refused: string[] = [];
  for (const candidate of candidates) {
    const format = formatOf(candidate);
    if (format === undefined) continue;
    const why = await checkReferrer(client, ref, digest, candidate, format);
    if (why === undefined) return { found: true, format, referrer: candidate.digest };
    refused.push(why);
  }
  return { found: false, reason: refused.join('; ') };
};

// An OCI Helm chart manifest's facts (src/registry/stored-chart.ts) → the chart and provenance to judge:
// the archive is the one chart layer (its digest is what helm and Flux unpack), the chart is the
// repository's last path segment at the tag's version, and the config must say the same. Pure.
import type { StoredChart } from '../../registry/stored-chart.ts';
import type { ChartProvenance } from '../types.ts';

const refused = (
  reason: 'SignatureMissing' | 'ProvenanceMalformed' | 'ProvenanceChartMismatch',
  why: string,
) => ({ kind: 'refused', reason, why }) as const;

/**
 * SemVer 2.0.0 as Masterminds/semver's StrictNewVersion reads it, which helm applies to tags (with `_` read
 * as `+`, `pkg/registry` Tags): a tag that is a version claims one; any other tag (`latest`, `stable`) names
 * no version, and the config's is taken.
 */
const STRICT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** The version a tag claims (helm writes `+` as `_` in tags), or undefined for a tag that is no version. */
export const tagVersion = (tag: string): string | undefined => {
  const version = tag.replaceAll('_', '+');
  return STRICT_SEMVER.test(version) ? version : undefined;
};

/** encoding/json matches keys case-insensitively: `Name` would be helm's `name`. */
const fold = (key: string): string => key.replaceAll('\u212a', 'k').replaceAll('\u017f', 's').toLowerCase();

/** The config's name and version as helm's json.Unmarshal into chart.Metadata reads them, or a refusal. */
const configChart = (config: Buffer): { name: string; version: string } | string => {
  let value: unknown;
  try {
    value = JSON.parse(config.toString('utf8'));
  } catch {
    return 'the chart config is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'the chart config is not a JSON object';
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record))
    if ((fold(key) === 'name' || fold(key) === 'version') && key !== fold(key))
      // Two spellings of one field leave it to Go's key order which one helm keeps.
      return `the chart config spells a field as ${JSON.stringify(key.slice(0, 40))}`;
  const { name, version } = record;
  if (typeof name !== 'string' || typeof version !== 'string' || name === '' || version === '')
    return 'the chart config has no name or version';
  return { name, version };
};

/**
 * `repository` is the path (`charts/payment`); `tag` the tag the consumer follows, when known: a tag that
 * is a version must be the chart's (a re-pushed or re-pointed version tag), another tag claims none. Refusals: an index or a non-Helm config is no chart (SignatureMissing);
 * several chart or provenance layers are refused because helm keeps whichever its concurrent copy lists
 * last (helm v3.19 pkg/registry Pull), so tagguard could judge another layer than the one installed.
 */
export const ociChartProvenance = (
  stored: StoredChart,
  repository: string,
  tag?: string,
): ChartProvenance => {
  if (stored.kind === 'index')
    return refused('SignatureMissing', 'the artifact is an index, not a Helm chart');
  if (stored.configTooLarge !== undefined)
    return refused('ProvenanceMalformed', `the chart config has ${stored.configTooLarge} bytes`);
  if (stored.config === undefined)
    return refused(
      'SignatureMissing',
      `the artifact is not a Helm chart (config ${(stored.configMediaType ?? '').slice(0, 100)})`,
    );
  const [layer, ...more] = stored.chartLayers;
  if (layer === undefined) return refused('ProvenanceMalformed', 'the chart manifest has no chart layer');
  if (more.length > 0)
    return refused('ProvenanceMalformed', `the chart manifest has ${stored.chartLayers.length} chart layers`);
  if (stored.provenanceLayers > 1)
    return refused(
      'ProvenanceMalformed',
      `the chart manifest has ${stored.provenanceLayers} provenance layers`,
    );
  const config = configChart(stored.config);
  if (typeof config === 'string') return refused('ProvenanceMalformed', config);
  const name = repository.split('/').at(-1) ?? '';
  const claimed = tag === undefined ? undefined : tagVersion(tag);
  const version = claimed ?? config.version;
  // helm push (strict mode) stores a chart under <repository>/<name>:<version>; anything else was crafted.
  if (config.name !== name || config.version !== version)
    return refused(
      'ProvenanceChartMismatch',
      `the chart config is ${config.name.slice(0, 100)} ${config.version.slice(0, 100)}, the reference ${name} ${version}`,
    );
  return {
    kind: 'chart',
    archiveDigest: layer.digest,
    expected: { name, version },
    ...(stored.provenance ? { provenance: new Uint8Array(stored.provenance) } : {}),
    ...(stored.provenanceTooLarge !== undefined ? { tooLarge: stored.provenanceTooLarge } : {}),
  };
};

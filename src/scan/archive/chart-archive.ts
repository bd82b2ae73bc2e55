// Loads a packaged chart (.tgz) into memory as a checked file tree: one top-level directory holding
// Chart.yaml, packaged subcharts under charts/ expanded in place (same checks, one shared budget), so
// the tree handed to helm holds only entries this reader accepted.
import { ScanError } from '../errors.ts';
import { decodeUtf8, parseYaml } from '../../yaml/bounded-yaml.ts';
import type { ScanLimits } from '../limits.ts';
import { newArchiveBudget, type ArchiveBudget } from './archive-budget.ts';
import { gunzipCapped } from './gunzip-capped.ts';
import { createTarParser } from './tar-reader.ts';

/** A chart as a map of relative path ('Chart.yaml', 'templates/x.yaml', 'charts/sub/…') to content. */
export interface ChartFiles {
  readonly name: string;
  readonly version: string;
  /** The directory name the chart is packaged under (normally the chart name). */
  readonly directory: string;
  readonly files: ReadonlyMap<string, Buffer>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Name and version from Chart.yaml; throws InvalidArchive when it is missing or malformed. */
export const chartMetadata = (
  chartYaml: Buffer | undefined,
  where: string,
): { name: string; version: string } => {
  if (chartYaml === undefined) throw new ScanError('InvalidArchive', `${where}: no Chart.yaml`);
  let doc: unknown;
  try {
    doc = parseYaml(decodeUtf8(chartYaml));
  } catch (cause) {
    throw new ScanError('InvalidArchive', `${where}: Chart.yaml does not parse`, { cause });
  }
  if (!isRecord(doc) || typeof doc.name !== 'string' || doc.name === '') {
    throw new ScanError('InvalidArchive', `${where}: Chart.yaml has no name`);
  }
  const version =
    typeof doc.version === 'string' || typeof doc.version === 'number' ? String(doc.version) : '';
  return { name: doc.name, version };
};

/** Strips the single top-level directory every entry must share. */
const stripTopDirectory = (
  entries: readonly { path: string; data: Buffer }[],
  where: string,
): { directory: string; files: Map<string, Buffer> } => {
  const directory = entries[0]?.path.split('/')[0];
  if (directory === undefined) throw new ScanError('InvalidArchive', `${where}: empty archive`);
  const files = new Map<string, Buffer>();
  for (const entry of entries) {
    const slash = entry.path.indexOf('/');
    if (slash === -1 || entry.path.slice(0, slash) !== directory) {
      throw new ScanError(
        'InvalidArchive',
        `${where}: "${entry.path}" is outside the chart directory "${directory}"`,
      );
    }
    files.set(entry.path.slice(slash + 1), entry.data);
  }
  return { directory, files };
};

const unpack = async (
  archive: Buffer,
  limits: ScanLimits,
  budget: ArchiveBudget,
  where: string,
): Promise<{ directory: string; files: Map<string, Buffer> }> => {
  const parser = createTarParser(limits, budget);
  await gunzipCapped(archive, limits, budget, (chunk) => {
    parser.push(chunk);
    return !parser.finished;
  });
  return stripTopDirectory(parser.end(), where);
};

/**
 * Replaces every packaged subchart `charts/<x>.tgz` of the chart rooted at `prefix` with its unpacked
 * tree under `charts/<dir>/`, then does the same inside each subchart, packaged or vendored as a directory.
 */
const expandSubcharts = async (
  files: Map<string, Buffer>,
  prefix: string,
  depth: number,
  limits: ScanLimits,
  budget: ArchiveBudget,
): Promise<void> => {
  const chartsDir = `${prefix}charts/`;
  const direct = [...files.keys()].filter(
    (p) => p.startsWith(chartsDir) && !p.slice(chartsDir.length).includes('/'),
  );
  const packaged = direct.filter((p) => p.endsWith('.tgz') || p.endsWith('.tar.gz'));
  if (packaged.length > 0 && depth >= limits.maxChartNesting) {
    throw new ScanError('UnsafePath', `subcharts nested deeper than ${limits.maxChartNesting} levels`);
  }
  for (const path of packaged) {
    const archive = files.get(path) ?? Buffer.alloc(0);
    files.delete(path);
    const sub = await unpack(archive, limits, budget, path);
    for (const [subPath, data] of sub.files) {
      const target = `${chartsDir}${sub.directory}/${subPath}`;
      if (files.has(target))
        throw new ScanError('UnsafePath', `"${target}" exists twice (packaged and vendored)`);
      files.set(target, data);
    }
  }
  const subcharts = new Set<string>();
  for (const path of files.keys()) {
    if (!path.startsWith(chartsDir)) continue;
    const rest = path.slice(chartsDir.length).split('/');
    if (rest.length === 2 && rest[1] === 'Chart.yaml') subcharts.add(`${chartsDir}${rest[0]}/`);
  }
  for (const subPrefix of subcharts) {
    if (depth + 1 > limits.maxChartNesting) {
      throw new ScanError('UnsafePath', `subcharts nested deeper than ${limits.maxChartNesting} levels`);
    }
    await expandSubcharts(files, subPrefix, depth + 1, limits, budget);
  }
};

/** Reads a packaged chart under the limits; throws ScanError with the reason when it is refused. */
export const loadChartArchive = async (archive: Buffer, limits: ScanLimits): Promise<ChartFiles> => {
  const budget = newArchiveBudget();
  const { directory, files } = await unpack(archive, limits, budget, 'chart archive');
  return fromFiles(directory, files, limits, budget);
};

/** Completes a chart read from elsewhere (a directory): expands subcharts and reads Chart.yaml. */
export const fromFiles = async (
  directory: string,
  files: Map<string, Buffer>,
  limits: ScanLimits,
  budget: ArchiveBudget = newArchiveBudget(),
): Promise<ChartFiles> => {
  await expandSubcharts(files, '', 0, limits, budget);
  const { name, version } = chartMetadata(files.get('Chart.yaml'), directory);
  return { name, version, directory, files };
};

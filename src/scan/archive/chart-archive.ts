// Loads a packaged chart (.tgz) into memory as a checked file tree, reading each archive the way helm's
// loader (pkg/chart/loader LoadArchiveFiles, LoadFiles) does — or refusing it where helm would fail or
// could read it differently. Packaged subcharts under charts/ are expanded in place (same checks, one
// shared budget). The original bytes are kept: helm renders those, not a copy.
import { ScanError } from '../errors.ts';
import { decodeUtf8, parseYaml } from '../../yaml/bounded-yaml.ts';
import type { ScanLimits } from '../limits.ts';
import { newArchiveBudget, type ArchiveBudget } from './archive-budget.ts';
import { gunzipCapped } from './gunzip-capped.ts';
import { createTarParser, type TarContents } from './tar-reader.ts';

/** A chart as a map of relative path ('Chart.yaml', 'templates/x.yaml', 'charts/sub/…') to content. */
export interface ChartFiles {
  readonly name: string;
  readonly version: string;
  /** The directory name the chart is packaged under (normally the chart name). */
  readonly directory: string;
  readonly files: ReadonlyMap<string, Buffer>;
  /** The .tgz the tree was read from, byte for byte (absent for a chart directory). */
  readonly archive?: Buffer | undefined;
}

/** One archive as helm's LoadArchiveFiles sees it, and the packaged subcharts helm loads from it. */
export interface ChartArchiveLevel {
  /** The top directory every entry shares. */
  readonly directory: string;
  /** Path relative to the top directory → content with a leading UTF-8 BOM removed, as helm does. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** Path of each charts/…/<x>.tgz helm loads as a subchart → that archive. */
  readonly subcharts: ReadonlyMap<string, ChartArchiveLevel>;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

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

/**
 * LoadArchiveFiles: every entry under one top directory (helm drops the first segment, whatever it is);
 * names relative to it; directories skipped; a leading BOM trimmed. A path that is both a file and a
 * directory, or that helm would refuse (`..` prefix, drive letter, no directory), is refused here too.
 */
const helmArchiveFiles = (
  { files, directories }: TarContents,
  where: string,
): { directory: string; files: Map<string, Buffer> } => {
  const tops = new Set([...files, ...directories.map((path) => ({ path }))].map((e) => e.path.split('/')[0]));
  if (tops.size > 1) throw new ScanError('InvalidArchive', `${where}: entries under several top directories`);
  const [directory] = tops;
  if (directory === undefined || files.length === 0)
    throw new ScanError('InvalidArchive', `${where}: no files in the archive`);
  if (directory === 'Chart.yaml')
    throw new ScanError('InvalidArchive', `${where}: Chart.yaml is not in a directory`);
  const relative = new Map<string, Buffer>();
  for (const { path, data } of files) {
    const name = path.slice(directory.length + 1);
    if (name === '')
      throw new ScanError('InvalidArchive', `${where}: "${path}" is outside the chart directory`);
    if (name.startsWith('..') || /^[A-Za-z]:\//.test(name))
      throw new ScanError('UnsafePath', `${where}: helm refuses the entry "${path}"`);
    if (relative.has(name)) throw new ScanError('UnsafePath', `${where}: entry "${path}" appears twice`);
    relative.set(name, data.subarray(0, 3).equals(UTF8_BOM) ? data.subarray(3) : data);
  }
  const dirs = new Set(directories.map((d) => d.slice(directory.length + 1)));
  for (const name of relative.keys()) {
    const segments = name.split('/');
    for (let i = 1; i < segments.length; i++) {
      if (relative.has(segments.slice(0, i).join('/')))
        throw new ScanError('UnsafePath', `${where}: "${name}" is inside a file`);
    }
    if (dirs.has(name)) throw new ScanError('UnsafePath', `${where}: "${name}" is a file and a directory`);
  }
  return { directory, files: relative };
};

const unpack = async (
  archive: Buffer,
  limits: ScanLimits,
  budget: ArchiveBudget,
  where: string,
): Promise<{ directory: string; files: Map<string, Buffer> }> => {
  const parser = createTarParser(limits, budget);
  await gunzipCapped(archive, limits, budget, (chunk) => parser.push(chunk));
  return helmArchiveFiles(parser.end(), where);
};

/** Go's filepath.Ext: from the last dot of the last element. */
const goExt = (path: string): string => {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot === -1 ? '' : base.slice(dot);
};

/**
 * LoadFiles' view of charts/ in the chart rooted at `prefix`: `<x>.prov` files stay plain files, names
 * starting with "_" or "." are ignored, `charts/<x>.tgz` is a packaged subchart, `charts/<x>/` a vendored
 * one (which must have a Chart.yaml). Any other file directly in charts/ makes helm fail: refused.
 */
const subchartsOf = (
  files: ReadonlyMap<string, Buffer>,
  prefix: string,
): { packaged: string[]; vendored: string[] } => {
  const chartsDir = `${prefix}charts/`;
  const packaged: string[] = [];
  const vendored = new Set<string>();
  for (const path of files.keys()) {
    if (!path.startsWith(chartsDir) || goExt(path) === '.prov') continue;
    const [name = '', ...rest] = path.slice(chartsDir.length).split('/');
    if (name.startsWith('_') || name.startsWith('.')) continue;
    if (rest.length > 0) vendored.add(`${chartsDir}${name}/`);
    else if (goExt(name) === '.tgz') packaged.push(path);
    else throw new ScanError('InvalidArchive', `"${path}" is neither a chart archive nor a chart directory`);
  }
  for (const dir of vendored) {
    if (!files.has(`${dir}Chart.yaml`)) throw new ScanError('InvalidArchive', `${dir}: no Chart.yaml`);
  }
  return { packaged, vendored: [...vendored] };
};

const readLevel = async (
  archive: Buffer,
  limits: ScanLimits,
  budget: ArchiveBudget,
  where: string,
  depth: number,
): Promise<ChartArchiveLevel> => {
  const { directory, files } = await unpack(archive, limits, budget, where);
  chartMetadata(files.get('Chart.yaml'), where);
  const subcharts = new Map<string, ChartArchiveLevel>();
  const walk = async (prefix: string, level: number): Promise<void> => {
    const { packaged, vendored } = subchartsOf(files, prefix);
    if (packaged.length + vendored.length > 0 && level >= limits.maxChartNesting)
      throw new ScanError('UnsafePath', `subcharts nested deeper than ${limits.maxChartNesting} levels`);
    for (const path of packaged) {
      subcharts.set(
        path,
        await readLevel(files.get(path) ?? Buffer.alloc(0), limits, budget, path, level + 1),
      );
    }
    for (const dir of vendored) await walk(dir, level + 1);
  };
  await walk('', depth);
  return { directory, files, subcharts };
};

/** Reads each archive of a packaged chart as helm's loader would; throws ScanError when refused. */
export const readChartArchive = async (archive: Buffer, limits: ScanLimits): Promise<ChartArchiveLevel> =>
  readLevel(archive, limits, newArchiveBudget(), 'chart archive', 0);

/** Replaces the packaged subchart at `path` by its files under charts/<its directory>/. */
const place = (files: Map<string, Buffer>, path: string, sub: ChartArchiveLevel): void => {
  const target = `${path.slice(0, path.lastIndexOf('/') + 1)}${sub.directory}/`;
  files.delete(path);
  // helm loads a vendored charts/<x>/ and a packaged one side by side; one tree cannot hold both.
  if ([...files.keys()].some((p) => p.startsWith(target)))
    throw new ScanError('UnsafePath', `"${target}" exists twice (packaged and vendored)`);
  for (const [subPath, data] of flatten(sub)) files.set(`${target}${subPath}`, data);
};

/** One tree: each packaged subchart replaced by its files under charts/<its directory>/. */
const flatten = (level: ChartArchiveLevel): Map<string, Buffer> => {
  const files = new Map(level.files);
  for (const [path, sub] of level.subcharts) place(files, path, sub);
  return files;
};

/** Reads a packaged chart under the limits; throws ScanError with the reason when it is refused. */
export const loadChartArchive = async (archive: Buffer, limits: ScanLimits): Promise<ChartFiles> => {
  const level = await readChartArchive(archive, limits);
  const files = flatten(level);
  const { name, version } = chartMetadata(files.get('Chart.yaml'), level.directory);
  return { name, version, directory: level.directory, files, archive };
};

/** Completes a chart read from a directory: expands packaged subcharts and reads Chart.yaml. */
export const fromFiles = async (
  directory: string,
  files: Map<string, Buffer>,
  limits: ScanLimits,
  budget: ArchiveBudget = newArchiveBudget(),
): Promise<ChartFiles> => {
  const expand = async (prefix: string, level: number): Promise<void> => {
    const { packaged, vendored } = subchartsOf(files, prefix);
    if (packaged.length + vendored.length > 0 && level >= limits.maxChartNesting)
      throw new ScanError('UnsafePath', `subcharts nested deeper than ${limits.maxChartNesting} levels`);
    for (const path of packaged) {
      const data = files.get(path) ?? Buffer.alloc(0);
      place(files, path, await readLevel(data, limits, budget, path, level + 1));
    }
    for (const dir of vendored) await expand(dir, level + 1);
  };
  await expand('', 0);
  const { name, version } = chartMetadata(files.get('Chart.yaml'), directory);
  return { name, version, directory, files };
};

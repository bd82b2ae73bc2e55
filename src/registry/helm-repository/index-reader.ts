// index.yaml → the entries tagguard acts on, read as helm's loadIndex reads it (sigs.k8s.io/yaml's
// UnmarshalStrict over go-yaml v2, then encoding/json into repo.IndexFile) or refused with a code. One
// pass over the parser's events with an explicit stack: bounded in nodes, depth and time; an index in helm's
// own layout is parsed one chart at a time (the parser's events of one chart in memory, not of the whole
// index); the charts not asked for are checked but not kept. Decisions and reasons: docs/helm-repositories.md.
import { EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE, type Event, type ScalarEvent } from 'js-yaml';
import { decodeUtf8, resolvePlainScalar } from '../../yaml/bounded-yaml.ts';
import { compareChartVersions, parseChartVersion, type ChartSemVer } from './chart-version.ts';
import { HelmRepositoryError, type HelmRepositoryErrorCode } from './errors.ts';

export interface IndexLimits {
  /** Most YAML nodes (scalars and collections) in the index. */
  readonly maxNodes: number;
  /**
   * Most nodes parsed at once: one chart of an index in helm's layout, or a whole index in any other layout.
   * The parser holds ~160 bytes per node while it runs: this bounds that peak.
   */
  readonly maxDocumentNodes: number;
  /** Deepest nesting of collections. */
  readonly maxDepth: number;
}

/**
 * A public index of ~20k chart versions has ~1.5M nodes; 500k nodes parsed at once is a peak of ~80 MB (an
 * index of ~6 MB in another layout than helm's, or one chart of ~25k versions); nested metadata is shallow.
 */
export const defaultIndexLimits: IndexLimits = {
  maxNodes: 4_000_000,
  maxDocumentNodes: 500_000,
  maxDepth: 32,
};

/** One chart version of the index, with the fields tagguard uses, as helm would hold them. */
export interface ChartVersionEntry {
  readonly name: string;
  readonly version: string;
  /** sha256 of the archive, lowercase hex; undefined when absent or not 64 hex digits (see rawDigest). */
  readonly digest: string | undefined;
  readonly rawDigest: string | undefined;
  /** As written; urls[0] is the one helm and Flux download. */
  readonly urls: readonly string[];
  readonly created: string | undefined;
  readonly deprecated: boolean;
  /** The chart's apiVersion ("v1" when absent, as helm defaults it). */
  readonly apiVersion: string;
}

export interface HelmIndex {
  readonly apiVersion: string;
  /** Every chart name of the index, in document order. */
  readonly chartNames: readonly string[];
  /** Entries of the kept charts helm drops on load (no name or version, a version not semver, a bad type). */
  readonly skipped: number;
  /** The chart's versions, newest first (helm's SortEntries); throws ChartNotFound or UnsupportedChartEntry. */
  chart(name: string): readonly ChartVersionEntry[];
  /**
   * The version strings of the chart's entries helm drops on load (in document order; [] for a chart not
   * kept): Argo CD reads the index itself and still lists them when it resolves a constraint.
   */
  droppedVersions(name: string): readonly string[];
  /** The entry of exactly this version string (helm's first lookup), or ChartNotFound. */
  version(name: string, version: string): ChartVersionEntry;
}

export interface ReadIndexOptions {
  readonly limits?: IndexLimits;
  /** Keep only these charts' entries (the others are checked, not kept); all when absent. */
  readonly charts?: ReadonlySet<string>;
  /** Names the repository in errors. */
  readonly host?: string;
  /** false: parse the whole index at once even in helm's layout (tests compare both ways). */
  readonly split?: boolean;
}

const ROOT_KEYS = new Set(['apiVersion', 'generated', 'entries', 'publicKeys', 'annotations', 'serverInfo']);
/** repo.ChartVersion's JSON fields: chart.Metadata's, then its own (deprecated ones kept for strict reads). */
const ENTRY_KEYS = new Set([
  'name',
  'home',
  'sources',
  'version',
  'description',
  'keywords',
  'maintainers',
  'icon',
  'apiVersion',
  'condition',
  'tags',
  'appVersion',
  'deprecated',
  'annotations',
  'kubeVersion',
  'dependencies',
  'type',
  'urls',
  'created',
  'removed',
  'digest',
  'checksum',
  'engine',
  'tillerVersion',
  'url',
]);
/** The string fields tagguard reads: another scalar type is converted by sigs.k8s.io/yaml (1.10 → "1.1"). */
const STRING_FIELDS = new Set(['name', 'version', 'digest', 'apiVersion', 'created', 'type']);
const BOOL_FIELDS = new Set(['deprecated']);
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Printable ASCII without '/', space or '\': helm's sanitizeString and filepath.Base leave it as it is. */
const SAFE_NAME = /^[!-.0-[\]-~]+$/;

interface RawEntry {
  fields: Map<string, unknown>;
  urls: string[] | undefined;
}

interface ChartState {
  readonly name: string;
  readonly keep: boolean;
  readonly raw: RawEntry[];
  problem: string | undefined;
}

type Role = 'root' | 'entries' | 'chart' | 'entry' | 'urls' | 'skip';

interface Frame {
  readonly kind: 'map' | 'seq';
  readonly role: Role;
  readonly keys: Set<string> | undefined;
  pendingKey: string | undefined;
  readonly chart: ChartState | undefined;
  readonly entry: RawEntry | undefined;
}

const fail = (
  code: HelmRepositoryErrorCode,
  host: string | undefined,
  message: string,
  cause?: unknown,
): never => {
  throw new HelmRepositoryError(code, `${host ?? 'helm repository'}: index.yaml ${message}`, {
    ...(host !== undefined ? { host } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
};

/** Characters that start or separate nodes: refuses, before parsing, a text denser than maxNodes allows. */
const STRUCTURAL = new Uint8Array(128);
for (const c of ',:-?[{*!&\n') STRUCTURAL[c.charCodeAt(0)] = 1;
const checkDensity = (text: string, maxNodes: number, host: string | undefined): void => {
  if (text.length <= maxNodes * 2) return;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && STRUCTURAL[c] === 1 && ++count > maxNodes * 2)
      fail('IndexTooLarge', host, `has more than ${maxNodes} nodes`);
  }
};

const scalarOf = (source: string, event: ScalarEvent): { value: unknown; block: boolean } => {
  const text = getScalarValue(source, event);
  const block = event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK;
  return { value: event.style === SCALAR_STYLE.PLAIN ? resolvePlainScalar(text) : text, block };
};

const describe = (value: unknown): string => (value === null ? 'null' : typeof value);

/**
 * helm's per-entry load (apiVersion defaulted, Validate): an entry it drops is undefined here. A name other
 * than the chart's key becomes the chart's problem.
 */
const toEntry = (
  chart: ChartState,
  raw: RawEntry,
): { entry: ChartVersionEntry; semver: ChartSemVer } | undefined => {
  const field = (key: string): string | undefined => {
    const value = raw.fields.get(key);
    return typeof value === 'string' ? value : undefined;
  };
  const name = field('name') ?? '';
  const version = field('version') ?? '';
  if (name !== '' && name !== chart.name)
    chart.problem ??= `an entry of chart ${JSON.stringify(chart.name.slice(0, 64))} names another chart`;
  const type = field('type') ?? '';
  const semver = name === '' || version === '' ? undefined : parseChartVersion(version);
  if (semver === undefined || (type !== '' && type !== 'application' && type !== 'library')) return undefined;
  const rawDigest = field('digest');
  return {
    semver,
    entry: {
      name,
      version,
      digest: rawDigest !== undefined && SHA256_HEX.test(rawDigest) ? rawDigest : undefined,
      rawDigest,
      urls: raw.urls ?? [],
      created: field('created'),
      deprecated: raw.fields.get('deprecated') === true,
      apiVersion: field('apiVersion') || 'v1',
    },
  };
};

/** The chart's kept entries, newest first, and how many helm would drop; throws for a chart's problem. */
const finishChart = (
  chart: ChartState,
  host: string | undefined,
): { entries: readonly ChartVersionEntry[]; skipped: number; dropped: readonly string[] } => {
  const kept: { entry: ChartVersionEntry; semver: ChartSemVer }[] = [];
  const dropped: string[] = [];
  for (const raw of chart.raw) {
    const read = toEntry(chart, raw);
    if (read === undefined) {
      const version = raw.fields.get('version');
      if (typeof version === 'string' && version !== '') dropped.push(version);
      continue;
    }
    const same = kept.find((k) => compareChartVersions(k.semver, read.semver) === 0);
    if (same !== undefined)
      chart.problem ??= `two entries of one version (${same.entry.version.slice(0, 64)} and ${read.entry.version.slice(0, 64)}): helm and Flux could pick either`;
    kept.push(read);
  }
  if (chart.problem !== undefined)
    fail('UnsupportedChartEntry', host, `chart ${JSON.stringify(chart.name.slice(0, 64))}: ${chart.problem}`);
  kept.sort((a, b) => compareChartVersions(b.semver, a.semver));
  return { entries: kept.map((k) => k.entry), skipped: chart.raw.length - kept.length, dropped };
};

/** Parser events of one YAML text, under the per-parse node cap. */
const parseDocument = (source: string, limits: IndexLimits, host: string | undefined): Event[] => {
  checkDensity(source, limits.maxDocumentNodes, host);
  let events: Event[];
  try {
    events = parseEvents(source, { maxDepth: limits.maxDepth });
  } catch (cause) {
    const message = ((cause as Error).message.split('\n')[0] ?? '').slice(0, 200);
    return fail(
      /maxDepth/.test(message) ? 'IndexTooLarge' : 'InvalidIndex',
      host,
      `does not parse: ${message}`,
      cause,
    );
  }
  if (events.length > limits.maxDocumentNodes)
    fail('IndexTooLarge', host, `has more than ${limits.maxDocumentNodes} nodes to parse at once`);
  return events;
};

/** A chart's key line in helm's layout: two spaces, a simple or quoted name, a colon, nothing else. */
const CHART_KEY_LINE = /^ {2}("[^"\\\n]*"|'[^'\n]*'|[A-Za-z0-9_.][A-Za-z0-9_./-]*) *:( +#.*)? *$/;
const ITEM_LINE = /^ {2}-( |$)/;
const DEEPER_LINE = /^ {3}/;
const BLANK_OR_COMMENT = /^ *(#.*)?$/;

/**
 * Splits an index in helm's block layout (`entries:` alone on a column-0 line, each chart a two-space key
 * line, its entries below it) into the rest of the document, with `entries: {}` in place, and one text per
 * chart. Any other layout answers undefined (the whole index is then parsed at once). Whether the split
 * reads as the whole would is checked on the parsed pieces (readIndex), not assumed.
 */
const splitCanonical = (text: string): { remainder: string; chunks: [number, number][] } | undefined => {
  if (text.includes('\r')) return undefined;
  // Line by line with indexOf: no array of every line of a large index in memory at once.
  const lineAt = (at: number): { line: string; next: number } => {
    const newline = text.indexOf('\n', at);
    const end = newline === -1 ? text.length : newline;
    return { line: text.slice(at, end), next: end + 1 };
  };
  let start = -1;
  let sectionEnd = text.length;
  for (let at = 0; at < text.length;) {
    const { line, next } = lineAt(at);
    if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) return undefined;
    if (/^entries: *$/.test(line)) {
      if (start !== -1) return undefined;
      start = next;
    } else if (
      start !== -1 &&
      sectionEnd === text.length &&
      at >= start &&
      line !== '' &&
      line[0] !== ' ' &&
      line[0] !== '#'
    )
      sectionEnd = at;
    at = next;
  }
  if (start === -1) return undefined;
  const chunks: [number, number][] = [];
  for (let at = start; at < sectionEnd;) {
    const { line, next } = lineAt(at);
    const last = chunks.at(-1);
    if (CHART_KEY_LINE.test(line)) {
      if (last !== undefined) last[1] = at;
      chunks.push([at, sectionEnd]);
    } else if (
      !BLANK_OR_COMMENT.test(line) &&
      (last === undefined || !(ITEM_LINE.test(line) || DEEPER_LINE.test(line)))
    )
      return undefined;
    at = next;
  }
  const entriesLine = text.lastIndexOf('entries:', start - 1);
  return {
    remainder: `${text.slice(0, entriesLine)}entries: {}\n${text.slice(sectionEnd)}`,
    chunks,
  };
};

/**
 * The split read; or, where it cannot stand for the whole, undefined (the rest not holding exactly one
 * top-level `entries`, the placeholder; a chunk holding other than its one chart) or the refusal of a piece.
 * The whole index is then parsed at once and answers with its own result or refusal.
 */
const readSplit = (
  split: { remainder: string; chunks: [number, number][] },
  source: string,
  options: ReadIndexOptions,
  limits: IndexLimits,
): HelmIndex | HelmRepositoryError | undefined => {
  const host = options.host;
  const charts = new Map<string, ChartState>();
  try {
    const top = walk(split.remainder, parseDocument(split.remainder, limits, host), options, charts);
    if (!top.entriesSeen || charts.size !== 0) return undefined;
    let nodes = 0;
    for (const [from, to] of split.chunks) {
      const chunk = `entries:\n${source.slice(from, to)}\n`;
      const events = parseDocument(chunk, limits, host);
      nodes += events.length;
      if (nodes > limits.maxNodes) return undefined;
      const before: number = charts.size;
      const piece = walk(chunk, events, options, charts);
      if (!piece.entriesSeen || charts.size !== before + 1) return undefined;
    }
    return finish(top, charts, host);
  } catch (error) {
    // A refusal of a piece is kept: if the whole index is too large to parse at once, it is the answer.
    return error instanceof HelmRepositoryError ? error : undefined;
  }
};

const finish = (
  read: { rootSeen: boolean; apiVersion: unknown; entriesSeen: boolean },
  charts: Map<string, ChartState>,
  host: string | undefined,
): HelmIndex => {
  if (!read.rootSeen) fail('InvalidIndex', host, 'is empty');
  if (typeof read.apiVersion !== 'string' || read.apiVersion === '')
    fail('InvalidIndex', host, 'has no apiVersion');
  if (!read.entriesSeen) fail('InvalidIndex', host, 'has no entries');
  return buildIndex(read.apiVersion as string, charts, host);
};

/** Reads index.yaml (or the JSON form helm also accepts). */
export const readIndex = (bytes: Uint8Array, options: ReadIndexOptions = {}): HelmIndex => {
  const limits = options.limits ?? defaultIndexLimits;
  const host = options.host;
  if (bytes.length === 0) fail('InvalidIndex', host, 'is empty');
  // go-yaml v2 and encoding/json treat a byte order mark differently: not worth a guess.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    fail('UnsupportedIndex', host, 'starts with a byte order mark');
  let source: string;
  try {
    source = decodeUtf8(bytes);
  } catch (cause) {
    return fail('InvalidIndex', host, 'is not UTF-8', cause);
  }
  // The density check runs per parse (parseDocument); the total is counted as the pieces are parsed.
  const split = options.split === false ? undefined : splitCanonical(source);
  const fromSplit = split === undefined ? undefined : readSplit(split, source, options, limits);
  if (fromSplit !== undefined && !(fromSplit instanceof HelmRepositoryError)) return fromSplit;
  const charts = new Map<string, ChartState>();
  let events: Event[];
  try {
    events = parseDocument(source, limits, host);
  } catch (error) {
    // Too large to parse at once: a piece's refusal says more (and refuses all the same).
    if (fromSplit !== undefined && error instanceof HelmRepositoryError && error.code === 'IndexTooLarge')
      throw fromSplit;
    throw error;
  }
  return finish(walk(source, events, options, charts), charts, host);
};

/** One pass over a document's events: the charts go into `charts`; the root's facts are returned. */
const walk = (
  source: string,
  events: readonly Event[],
  options: ReadIndexOptions,
  charts: Map<string, ChartState>,
): { rootSeen: boolean; apiVersion: unknown; entriesSeen: boolean } => {
  const host = options.host;
  const wanted = options.charts;
  const unsupported = (why: string): never => fail('UnsupportedIndex', host, why);
  const invalid = (why: string): never => fail('InvalidIndex', host, why);
  const stack: Frame[] = [];
  let documents = 0;
  let rootSeen = false;
  let apiVersion: unknown;
  let entriesSeen = false;
  /** The chart the entries map opened last: a 'chart' frame starting now belongs to it. */
  let lastChart: ChartState | undefined;

  const anchorOrTag = (e: { anchorStart: number; tagStart: number }): void => {
    if (e.anchorStart >= 0) unsupported('uses a YAML anchor');
    if (e.tagStart >= 0) unsupported('uses a YAML tag');
  };

  /** The key being completed in a map frame: scalar text, checked for duplicates and known names. */
  const takeKey = (frame: Frame, event: Event): void => {
    if (event.type !== EVENT_ID.SCALAR) return unsupported('has a mapping key that is not a scalar');
    const { value, block } = scalarOf(source, event);
    if (typeof value !== 'string' || block)
      return unsupported(`has a mapping key that is ${block ? 'a block scalar' : describe(value)}`);
    if (value === '<<' && event.style === SCALAR_STYLE.PLAIN) unsupported('uses a YAML merge key');
    if (frame.keys?.has(value))
      unsupported(`has the key ${JSON.stringify(value.slice(0, 64))} twice in one mapping`);
    frame.keys?.add(value);
    if (frame.role === 'root' && !ROOT_KEYS.has(value))
      unsupported(`has the unknown top-level field ${JSON.stringify(value.slice(0, 64))}`);
    if (frame.role === 'entry' && !ENTRY_KEYS.has(value))
      unsupported(`has the unknown chart field ${JSON.stringify(value.slice(0, 64))}`);
    frame.pendingKey = value;
  };

  /** A value node for the top frame: returns the role of a collection that starts here. */
  const valueRole = (frame: Frame | undefined, event: Event): Role => {
    const collection =
      event.type === EVENT_ID.MAPPING ? 'map' : event.type === EVENT_ID.SEQUENCE ? 'seq' : 'scalar';
    if (frame === undefined) {
      if (collection !== 'map') invalid('is not a mapping');
      rootSeen = true;
      return 'root';
    }
    const key = frame.pendingKey;
    frame.pendingKey = undefined;
    if (frame.role === 'root') {
      if (key === 'entries') {
        entriesSeen = true;
        if (collection === 'map') return 'entries';
        if (collection === 'scalar' && scalarOf(source, event as ScalarEvent).value === null) return 'skip';
        return invalid('entries is not a mapping');
      }
      if (key === 'apiVersion') {
        if (collection !== 'scalar') invalid('apiVersion is not a string');
        const { value } = scalarOf(source, event as ScalarEvent);
        if (value !== null && typeof value !== 'string') unsupported(`apiVersion is a ${describe(value)}`);
        apiVersion = value;
      }
      return 'skip';
    }
    if (frame.role === 'entries') {
      const name = key ?? '';
      if (charts.has(name)) unsupported('has a chart twice');
      const chart: ChartState = {
        name,
        keep: wanted === undefined || wanted.has(name),
        raw: [],
        problem: undefined,
      };
      charts.set(name, chart);
      lastChart = chart;
      if (!SAFE_NAME.test(name) || name === '.' || name === '..')
        chart.problem = 'the chart name holds characters helm rewrites or refuses';
      if (collection === 'seq') return 'chart';
      if (collection === 'scalar' && scalarOf(source, event as ScalarEvent).value === null) return 'skip';
      return invalid(`chart ${JSON.stringify(name.slice(0, 64))} is not a list`);
    }
    if (frame.role === 'chart') {
      if (collection === 'map') return 'entry';
      if (collection === 'scalar' && scalarOf(source, event as ScalarEvent).value === null) return 'skip';
      return invalid(
        `an entry of chart ${JSON.stringify((frame.chart?.name ?? '').slice(0, 64))} is not a mapping`,
      );
    }
    if (frame.role === 'entry' && frame.chart?.keep === true && frame.entry !== undefined) {
      const chart = frame.chart;
      if (key === 'urls') {
        if (collection === 'seq') {
          frame.entry.urls = [];
          return 'urls';
        }
        if (collection !== 'scalar' || scalarOf(source, event as ScalarEvent).value !== null)
          chart.problem ??= 'urls is not a list';
        return 'skip';
      }
      if (key !== undefined && (STRING_FIELDS.has(key) || BOOL_FIELDS.has(key))) {
        if (collection !== 'scalar') {
          chart.problem ??= `${key} is not a scalar`;
          return 'skip';
        }
        const { value, block } = scalarOf(source, event as ScalarEvent);
        const type = STRING_FIELDS.has(key) ? 'string' : 'boolean';
        if (block) chart.problem ??= `${key} is a block scalar`;
        else if (value !== null && typeof value !== type)
          chart.problem ??= `${key} is a ${describe(value)}, not a ${type}`;
        else if (value !== null) frame.entry.fields.set(key, value);
      }
      return 'skip';
    }
    if (frame.role === 'urls' && frame.chart?.keep === true) {
      const value = collection === 'scalar' ? scalarOf(source, event as ScalarEvent) : undefined;
      if (value === undefined || value.block || typeof value.value !== 'string')
        frame.chart.problem ??= 'a URL is not a string';
      else frame.entry?.urls?.push(value.value);
    }
    return 'skip';
  };

  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        if (++documents > 1) unsupported('has more than one YAML document');
        if (event.directives.length > 0) unsupported('has a YAML directive');
        break;
      case EVENT_ID.ALIAS:
        unsupported('uses a YAML alias');
        break;
      case EVENT_ID.SCALAR:
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        anchorOrTag(event);
        const top = stack.at(-1);
        if (top?.kind === 'map' && top.pendingKey === undefined) {
          takeKey(top, event);
          break;
        }
        const role = valueRole(top, event);
        if (event.type === EVENT_ID.SCALAR) break;
        const chart = role === 'chart' ? lastChart : top?.chart;
        const entry: RawEntry | undefined =
          role === 'entry'
            ? { fields: new Map(), urls: undefined }
            : role === 'urls'
              ? top?.entry
              : undefined;
        if (role === 'entry' && chart?.keep === true && entry !== undefined) chart.raw.push(entry);
        stack.push({
          kind: event.type === EVENT_ID.MAPPING ? 'map' : 'seq',
          role,
          keys: event.type === EVENT_ID.MAPPING ? new Set() : undefined,
          pendingKey: undefined,
          chart,
          entry,
        });
        break;
      }
      case EVENT_ID.POP:
        stack.pop();
        break;
      default:
        break;
    }
  }
  return { rootSeen, apiVersion, entriesSeen };
};

const buildIndex = (
  apiVersion: string,
  charts: Map<string, ChartState>,
  host: string | undefined,
): HelmIndex => {
  const finished = new Map<string, readonly ChartVersionEntry[] | HelmRepositoryError>();
  const droppedOf = new Map<string, readonly string[]>();
  let skipped = 0;
  for (const chart of charts.values()) {
    if (!chart.keep) continue;
    try {
      const done = finishChart(chart, host);
      skipped += done.skipped;
      finished.set(chart.name, done.entries);
      if (done.dropped.length > 0) droppedOf.set(chart.name, done.dropped);
    } catch (error) {
      finished.set(chart.name, error as HelmRepositoryError);
    }
  }
  // Only the names stay beside the finished entries: the raw fields are garbage from here on.
  const names = [...charts.keys()];
  const known = new Set(names);
  const chartOf = (name: string): readonly ChartVersionEntry[] => {
    const found = finished.get(name);
    if (found === undefined)
      return fail(
        'ChartNotFound',
        host,
        known.has(name)
          ? `chart ${JSON.stringify(name.slice(0, 64))} was not read (not asked for)`
          : `has no chart ${JSON.stringify(name.slice(0, 64))}`,
      );
    if (found instanceof HelmRepositoryError) throw found;
    return found;
  };
  return {
    apiVersion,
    chartNames: names,
    skipped,
    chart: chartOf,
    droppedVersions: (name) => droppedOf.get(name) ?? [],
    version: (name, version) =>
      chartOf(name).find((e) => e.version === version) ??
      fail(
        'ChartNotFound',
        host,
        `has no version ${JSON.stringify(version.slice(0, 64))} of chart ${JSON.stringify(name.slice(0, 64))}`,
      ),
  };
};

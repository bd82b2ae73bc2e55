// The one YAML reader of tagguard: policy files, values, Chart.yaml, helm's output and static templates are all
// read here, under size, depth, alias and node limits, and with the semantics of the Go reader the GitOps tools
// use (sigs.k8s.io/yaml over go-yaml v2): YAML 1.1 scalars, `<<` merged in document order, last key wins.
import { setOwnValue } from './own-keys.ts';
import { EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE, type Event, type ScalarEvent } from 'js-yaml';
import { BaseError } from '../errors.ts';

export type YamlErrorCode =
  /** Does not parse, is not UTF-8, or has more than one document where one is expected. */
  | 'InvalidYaml'
  /** More bytes than `maxBytes`. */
  | 'YamlTooLarge'
  /** Collections nested deeper than `maxDepth` (aliases included). */
  | 'YamlTooDeep'
  /** More alias nodes (`*x`) than `maxAliases` in one document. */
  | 'YamlTooManyAliases'
  /** More nodes than `maxNodes` in one document, counting every node an alias repeats. */
  | 'YamlTooManyNodes'
  /**
   * A construct Go could read differently or refuses: a tag, a non-scalar, null or float key, a recursive
   * alias, NaN or an infinity (sigs.k8s.io/yaml cannot turn them into JSON).
   */
  | 'YamlUnsupported';

export class YamlError extends BaseError<YamlErrorCode> {}

export const isYamlError = (error: unknown): error is YamlError => error instanceof YamlError;

export interface YamlLimits {
  /** Largest input, one document (bytes of UTF-8). */
  readonly maxBytes: number;
  /** Deepest nesting of collections, aliases expanded. */
  readonly maxDepth: number;
  /** Most alias nodes per document. */
  readonly maxAliases: number;
  /** Most nodes per document, aliases expanded. */
  readonly maxNodes: number;
}

/** For files people write (policy, values, Chart.yaml): generous for a person, small for a bomb. */
export const defaultYamlLimits: YamlLimits = {
  maxBytes: 4 * 1024 * 1024,
  maxDepth: 64,
  maxAliases: 100,
  maxNodes: 250_000,
};

type Json = Record<string, unknown>;

/** What the stack keeps of a finished node beside its value: enough to apply go-yaml v2's rules. */
interface Built {
  readonly value: unknown;
  readonly kind: 'scalar' | 'map' | 'seq';
  /** Nodes the value stands for, aliases expanded. */
  readonly size: number;
  /** Collection nesting of the value (a scalar is 0). */
  readonly height: number;
  /** A plain, untagged `<<`: a merge key. */
  readonly merge: boolean;
  /** Reached through an alias (go-yaml v2 refuses an alias to a sequence as a merge value). */
  readonly alias: boolean;
}

interface Frame {
  readonly kind: 'map' | 'seq';
  readonly value: Json | unknown[];
  readonly anchor: string | undefined;
  size: number;
  height: number;
  pendingKey: Built | undefined;
}

const fail = (code: YamlErrorCode, message: string, cause?: unknown): never => {
  throw new YamlError(code, message, cause === undefined ? undefined : { cause });
};

const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((s) => [s, true] as const),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map(
    (s) => [s, false] as const,
  ),
]);
const NULLS: ReadonlySet<string> = new Set(['', '~', 'null', 'Null', 'NULL']);
const SPECIAL_FLOATS: ReadonlyMap<string, number> = new Map([
  ...['.nan', '.NaN', '.NAN'].map((s) => [s, Number.NaN] as const),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s) => [s, Number.POSITIVE_INFINITY] as const),
  ...['-.inf', '-.Inf', '-.INF'].map((s) => [s, Number.NEGATIVE_INFINITY] as const),
]);

/** Go's strconv.ParseInt(s, 0, 64), then ParseUint(s, 0, 64): the integer syntaxes and ranges v2 accepts. */
const INT_SYNTAX = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
/** go-yaml v2's yamlStyleFloat, tried (after the integers) on the text without underscores. */
const FLOAT_SYNTAX = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

const goInteger = (plain: string): number | undefined => {
  const match = INT_SYNTAX.exec(plain);
  if (!match) return undefined;
  const [, sign, digits = ''] = match;
  const legacyOctal = digits.length > 1 && digits.startsWith('0') && !/^0[xXbBoO]/.test(digits);
  const body = legacyOctal ? `0o${digits.slice(1)}` : digits;
  const magnitude = BigInt(body);
  const value = sign === '-' ? -magnitude : magnitude;
  const fits = (value >= INT64_MIN && value <= INT64_MAX) || (sign === '' && value <= UINT64_MAX);
  return fits ? Number(value) + 0 : undefined;
};

/** go-yaml v2's resolve() for a plain scalar decoded into interface{} (timestamps stay strings there). */
export const resolvePlainScalar = (text: string): unknown => {
  if (NULLS.has(text)) return null;
  const bool = BOOLEANS.get(text);
  if (bool !== undefined) return bool;
  const special = SPECIAL_FLOATS.get(text);
  if (special !== undefined) return special;
  const first = text[0] ?? '';
  if (first === '.') {
    const n = DOT_FLOAT.test(text) ? Number(text) : Number.NaN;
    return Number.isFinite(n) ? n : text;
  }
  if (!/[0-9+-]/.test(first)) return text;
  const plain = text.replaceAll('_', '');
  const integer = goInteger(plain);
  if (integer !== undefined) return integer;
  if (FLOAT_SYNTAX.test(plain)) {
    const n = Number(plain);
    if (Number.isFinite(n)) return n + 0;
  }
  return text;
};

const COLLECTION_TAGS: ReadonlyMap<string, 'map' | 'seq' | 'any'> = new Map([
  ['!', 'any'],
  ['!!map', 'map'],
  ['!!seq', 'seq'],
  ['!<tag:yaml.org,2002:map>', 'map'],
  ['!<tag:yaml.org,2002:seq>', 'seq'],
]);
const STRING_TAGS: ReadonlySet<string> = new Set(['!', '!!str', '!<tag:yaml.org,2002:str>']);

/** sigs.k8s.io/yaml's JSON key for a go-yaml v2 key; keys Go would refuse or print oddly are refused. */
const jsonKey = (key: Built): string => {
  if (key.kind !== 'scalar') return fail('YamlUnsupported', 'a mapping key is a collection');
  const v = key.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return fail('YamlUnsupported', `a mapping key is ${v === null ? 'null' : 'a non-integer number'}`);
};

/**
 * Which go-yaml v2 key set each JSON key of a map ("string:1", "number:1", "boolean:true"): two different keys
 * that become the same JSON key (`1` and `"1"`) are refused, because sigs.k8s.io/yaml keeps whichever Go's map
 * iteration meets last, a different one from run to run. Duplicates of one key are last-wins, as in v2.
 */
type KeyOrigins = WeakMap<Json, Map<string, string>>;

const setKey = (target: Json, key: string, origin: string, value: unknown, origins: KeyOrigins): void => {
  let known = origins.get(target);
  if (known === undefined) origins.set(target, (known = new Map<string, string>()));
  const before = known.get(key);
  if (before !== undefined && before !== origin)
    fail('YamlUnsupported', `two different keys become the JSON key ${JSON.stringify(key.slice(0, 40))}`);
  known.set(key, origin);
  setOwnValue(target, key, value);
};

const isMap = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** go-yaml v2 decodes a merge value into the map at its place: merged keys replace keys set before it. */
const mergeInto = (target: Json, merged: Built, origins: KeyOrigins): void => {
  const wantMap = (): never =>
    fail('InvalidYaml', 'a merge key (<<) needs a mapping or a sequence of mappings');
  const assign = (source: Json): void => {
    const from = origins.get(source);
    for (const [k, v] of Object.entries(source)) setKey(target, k, from?.get(k) ?? `string:${k}`, v, origins);
  };
  if (merged.kind === 'map' && isMap(merged.value)) return assign(merged.value);
  // v2 refuses an alias to a sequence here; a sequence written in place may hold mappings or aliases to them.
  if (merged.kind !== 'seq' || merged.alias || !Array.isArray(merged.value)) return wantMap();
  const items: unknown[] = merged.value;
  // Earlier mappings take precedence: applied last.
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (!isMap(item)) return wantMap();
    assign(item);
  }
};

/**
 * A block scalar that runs to the end of an input without a final line break ends without one for libyaml
 * (go-yaml v2); js-yaml adds it. `path: |` + `/var/run/docker.sock` at the end of a file is that path, not
 * the path plus a newline.
 */
const blockAtEnd = (source: string, event: ScalarEvent, text: string): string => {
  const block = event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK;
  const last = source.at(-1);
  return block && event.valueEnd >= source.length && last !== '\n' && last !== '\r' && text.endsWith('\n')
    ? text.slice(0, -1)
    : text;
};

/** Builds the value of one document's events (an explicit stack: no recursion on attacker depth). */
const construct = (source: string, events: readonly Event[], limits: YamlLimits): unknown => {
  // As go-yaml v2: an anchor names its node from the node's start, until the same name is given again. A name
  // still held by an unfinished collection makes an alias to it recursive.
  const anchors = new Map<string, Built | Frame>();
  const origins: KeyOrigins = new WeakMap();
  const stack: Frame[] = [];
  let nodes = 0;
  let aliases = 0;
  let root: Built | undefined;

  const count = (n: number): void => {
    nodes += n;
    if (nodes > limits.maxNodes)
      fail('YamlTooManyNodes', `more than ${limits.maxNodes} YAML nodes in a document`);
  };
  const slice = (start: number, end: number): string | undefined =>
    start < 0 ? undefined : source.slice(start, end);

  const attach = (built: Built): void => {
    if (stack.length + built.height > limits.maxDepth)
      fail('YamlTooDeep', `YAML nested deeper than ${limits.maxDepth} levels`);
    const parent = stack.at(-1);
    if (parent === undefined) {
      root = built;
      return;
    }
    parent.size += built.size;
    parent.height = Math.max(parent.height, built.height + 1);
    if (parent.kind === 'seq') {
      (parent.value as unknown[]).push(built.value);
      return;
    }
    if (parent.pendingKey === undefined) {
      parent.pendingKey = built;
      return;
    }
    const key = parent.pendingKey;
    parent.pendingKey = undefined;
    if (key.merge) mergeInto(parent.value as Json, built, origins);
    else
      setKey(
        parent.value as Json,
        jsonKey(key),
        `${typeof key.value}:${String(key.value)}`,
        built.value,
        origins,
      );
  };

  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        count(1);
        const tag = slice(event.tagStart, event.tagEnd);
        if (tag !== undefined && !STRING_TAGS.has(tag))
          fail('YamlUnsupported', `YAML tag ${tag.slice(0, 40)} is not supported`);
        const text = blockAtEnd(source, event, getScalarValue(source, event));
        const plain = event.style === SCALAR_STYLE.PLAIN && tag === undefined;
        const value = plain ? resolvePlainScalar(text) : text;
        if (typeof value === 'number' && !Number.isFinite(value))
          fail('YamlUnsupported', 'NaN and infinities have no JSON form');
        const built: Built = {
          value,
          kind: 'scalar',
          size: 1,
          height: 0,
          merge: plain && text === '<<',
          alias: false,
        };
        const anchor = slice(event.anchorStart, event.anchorEnd);
        if (anchor !== undefined) anchors.set(anchor, built);
        attach(built);
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        count(1);
        const kind = event.type === EVENT_ID.MAPPING ? 'map' : 'seq';
        const tag = slice(event.tagStart, event.tagEnd);
        const allowed = tag === undefined ? kind : COLLECTION_TAGS.get(tag);
        if (allowed !== kind && allowed !== 'any')
          fail('YamlUnsupported', `YAML tag ${String(tag).slice(0, 40)} is not supported`);
        if (stack.length + 1 > limits.maxDepth)
          fail('YamlTooDeep', `YAML nested deeper than ${limits.maxDepth} levels`);
        const anchor = slice(event.anchorStart, event.anchorEnd);
        const value = kind === 'map' ? ({} as Json) : ([] as unknown[]);
        const frame: Frame = { kind, value, anchor, size: 1, height: 1, pendingKey: undefined };
        if (anchor !== undefined) anchors.set(anchor, frame);
        stack.push(frame);
        break;
      }
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame === undefined) break; // the document's own end
        const built: Built = {
          value: frame.value,
          kind: frame.kind,
          size: frame.size,
          height: frame.height,
          merge: false,
          alias: false,
        };
        if (frame.anchor !== undefined && anchors.get(frame.anchor) === frame)
          anchors.set(frame.anchor, built);
        attach(built);
        break;
      }
      case EVENT_ID.ALIAS: {
        if (++aliases > limits.maxAliases)
          fail('YamlTooManyAliases', `more than ${limits.maxAliases} YAML aliases in a document`);
        const name = slice(event.anchorStart, event.anchorEnd) ?? '';
        const target = anchors.get(name) ?? fail('InvalidYaml', `unknown anchor ${name.slice(0, 40)}`);
        if (!('merge' in target)) fail('YamlUnsupported', `anchor ${name.slice(0, 40)} contains itself`);
        count(target.size);
        attach({ ...target, merge: false, alias: true });
        break;
      }
      default:
        break;
    }
  }
  return root?.value ?? null;
};

const documentStarts = (events: readonly Event[]): number[] =>
  events.flatMap((e, i) => (e.type === EVENT_ID.DOCUMENT ? [i] : []));

const eventsOf = (text: string, limits: YamlLimits): Event[] => {
  try {
    return parseEvents(text, { maxDepth: limits.maxDepth });
  } catch (cause) {
    const message = (cause as Error).message.split('\n')[0] ?? '';
    if (/maxDepth/.test(message))
      return fail('YamlTooDeep', `YAML nested deeper than ${limits.maxDepth} levels`, cause);
    return fail('InvalidYaml', `YAML does not parse: ${message}`, cause);
  }
};

const checkSize = (text: string, limits: YamlLimits): void => {
  // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: the exact count only when it could matter.
  if (
    text.length > limits.maxBytes ||
    (text.length * 3 > limits.maxBytes && Buffer.byteLength(text) > limits.maxBytes)
  )
    fail('YamlTooLarge', `YAML of more than ${limits.maxBytes} bytes`);
};

/** Characters that can start a node or separate two (`, : - ? [ { * ! &` and line breaks). */
const STRUCTURAL = new Uint8Array(128);
for (const c of ',:-?[{*!&\n') STRUCTURAL[c.charCodeAt(0)] = 1;

/**
 * Refuses, before the parser runs, a text that could hold more than `maxNodes` nodes: every node needs one of
 * these characters (a document has at most about two nodes per one), so dense flow collections cannot build
 * millions of parser events that the node count would only see afterwards.
 */
const checkDensity = (text: string, limits: YamlLimits): void => {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && STRUCTURAL[c] === 1 && ++count > limits.maxNodes)
      fail('YamlTooManyNodes', `more than ${limits.maxNodes} YAML nodes in a document`);
  }
};

/**
 * One YAML document (a values file, a policy, Chart.yaml) → its value; an empty text is null. More than one
 * document is refused: go-yaml v2 would read only the first, and a second one could hide from either reader.
 */
export const parseYaml = (text: string, limits: YamlLimits = defaultYamlLimits): unknown => {
  checkSize(text, limits);
  checkDensity(text, limits);
  const events = eventsOf(text, limits);
  const starts = documentStarts(events);
  if (starts.length > 1) fail('InvalidYaml', 'more than one YAML document');
  return starts.length === 0 ? null : construct(text, events, limits);
};

/** Text of a byte buffer, refusing what is not UTF-8 (go-yaml v2 refuses it too). */
export const decodeUtf8 = (bytes: Uint8Array): string => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    return fail('InvalidYaml', 'YAML is not valid UTF-8', cause);
  }
};

export interface YamlDocumentText {
  readonly text: string;
  /** 1-based line of the document's first line in the stream. */
  readonly line: number;
}

/**
 * The documents of a stream, split as Kubernetes' YAMLReader splits what helm, Flux and Argo CD apply: at a
 * line starting with `---` followed only by blanks or a comment (anything else after `---` is refused). Its
 * LineReader also ends every line with a bare "\n" (CRLF becomes LF, a last line gains one): so here.
 * Linear in the input; yields one document at a time so callers can stop at a cap.
 */
const asLines = (chunk: string): string => {
  const lf = chunk.includes('\r\n') ? chunk.replaceAll('\r\n', '\n') : chunk;
  return lf.endsWith('\n') ? lf : `${lf}\n`;
};

export function* splitYamlDocuments(stream: string): Generator<YamlDocumentText> {
  let start = 0;
  let startLine = 1;
  let line = 1;
  let at = 0;
  while (at <= stream.length) {
    const newline = stream.indexOf('\n', at);
    const end = newline === -1 ? stream.length : newline;
    if (stream.startsWith('---', at)) {
      const rest = stream.slice(at + 3, end).trim();
      if (rest !== '' && !rest.startsWith('#'))
        fail('InvalidYaml', `line ${line}: text after the document separator ---`);
      if (at > start) yield { text: asLines(stream.slice(start, at)), line: startLine };
      start = newline === -1 ? stream.length : newline + 1;
      startLine = line + 1;
    }
    if (newline === -1) break;
    at = newline + 1;
    line++;
  }
  if (start < stream.length) yield { text: asLines(stream.slice(start)), line: startLine };
}

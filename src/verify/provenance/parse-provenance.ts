// Reads a Helm provenance file into the exact text its OpenPGP signature covers, its one signature packet
// and what the signed document claims (chart name, version, archive digest). Pure and strict: every form
// that helm (x/crypto clearsign, sigs.k8s.io/yaml) could read differently from tagguard is refused.
import { EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml';
import { decodeUtf8, defaultYamlLimits, isYamlError, parseYaml } from '../../yaml/bounded-yaml.ts';
import { ownValue } from '../../yaml/own-keys.ts';
import { ProvenanceError, type SignedChart } from './provenance-types.ts';

/** A real provenance file is a few KiB (Chart.yaml plus one signature): 64 KiB is far above any. */
export const MAX_PROVENANCE_BYTES = 64 * 1024;

/** The hash algorithms a `Hash:` header may name (helm signs with SHA512; gpg defaults to SHA256/SHA512). */
export type ProvenanceHash = 'SHA256' | 'SHA384' | 'SHA512';

export interface ParsedProvenance {
  /** The signed text as OpenPGP hashes it, lines joined by "\n" (no final line break). */
  readonly signedText: string;
  readonly hash: ProvenanceHash;
  /** The one signature packet, binary. */
  readonly signature: Uint8Array;
  readonly chart: SignedChart;
}

const BEGIN_MESSAGE = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const END_SIGNATURE = '-----END PGP SIGNATURE-----';
const HASH_HEADER = /^Hash: (SHA256|SHA384|SHA512)$/;
/** Armor headers of the signature block: informative only, never hashed. */
const SIGNATURE_HEADER = /^(Version|Comment): [\x20-\x7e]*$/;
const BASE64_LINE = /^[A-Za-z0-9+/]+=*$/;
const CHECKSUM_LINE = /^=([A-Za-z0-9+/]{4})$/;
/** What helm's yaml.Marshal writes for the sums: `files:` and one entry, nothing else. */
const SUMS_SHAPE = /^files:\n {2}[^\s][^\n]*\n$/;
const ARCHIVE_DIGEST = /^sha256:[0-9a-f]{64}$/;
/**
 * C0 controls but tab and line feed, DEL, and the characters go-yaml v2 (YAML 1.1) takes for line breaks or a
 * byte order mark (U+0085, U+2028, U+2029, U+FEFF): a line that is one line for tagguard's reader could be two
 * for helm's. helm's YAML writer escapes all of them, so a provenance file it wrote never holds them raw.
 */
const hasControl = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f) return true;
    if (c === 0x85 || c === 0x2028 || c === 0x2029 || c === 0xfeff) return true;
  }
  return false;
};
/** OpenPGP packet tag of a signature. */
const SIGNATURE_TAG = 2;

const malformed = (message: string, cause?: unknown): never => {
  throw new ProvenanceError('ProvenanceMalformed', message, cause === undefined ? undefined : { cause });
};

/** CRC-24 of RFC 4880 §6.1, to check the armor checksum line when there is one. */
const crc24 = (bytes: Uint8Array): number => {
  let crc = 0xb704ce;
  for (const byte of bytes) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
};

const decodeBase64 = (text: string): Uint8Array => {
  const bytes = Buffer.from(text, 'base64');
  // Buffer skips what is not base64: a round trip catches padding in the middle or a truncated group.
  if (bytes.length === 0 || bytes.toString('base64') !== text) malformed('the signature is not valid base64');
  return new Uint8Array(bytes);
};

/**
 * The length of the packet at the start of `bytes` (header included), or refuses: only definite lengths,
 * so that "exactly one signature packet and nothing after it" is decided here, not left to a library.
 */
const packetLength = (bytes: Uint8Array): { tag: number; length: number } => {
  const first = bytes[0] ?? 0;
  if ((first & 0x80) === 0) return malformed('the signature does not start with an OpenPGP packet');
  const at = (i: number): number => {
    const b = bytes[i];
    return b === undefined ? malformed('the signature packet is truncated') : b;
  };
  if (first & 0x40) {
    const tag = first & 0x3f;
    const l0 = at(1);
    if (l0 < 192) return { tag, length: 2 + l0 };
    if (l0 < 224) return { tag, length: 3 + ((l0 - 192) << 8) + at(2) + 192 };
    if (l0 === 255) return { tag, length: 6 + ((at(2) << 24) >>> 0) + (at(3) << 16) + (at(4) << 8) + at(5) };
    return malformed('the signature packet has a partial length');
  }
  const tag = (first >> 2) & 0x0f;
  switch (first & 0x03) {
    case 0:
      return { tag, length: 2 + at(1) };
    case 1:
      return { tag, length: 3 + (at(1) << 8) + at(2) };
    case 2:
      return { tag, length: 5 + ((at(1) << 24) >>> 0) + (at(2) << 16) + (at(3) << 8) + at(4) };
    default:
      return malformed('the signature packet has an indeterminate length');
  }
};

const oneSignaturePacket = (bytes: Uint8Array): Uint8Array => {
  const { tag, length } = packetLength(bytes);
  if (tag !== SIGNATURE_TAG) malformed(`the signature block holds an OpenPGP packet of tag ${tag}`);
  if (length > bytes.length) malformed('the signature packet is truncated');
  // helm's x/crypto uses the first signature whose issuer is in the keyring; a second one could make
  // helm and tagguard judge different signatures.
  if (length < bytes.length) malformed('the signature block holds more than one packet');
  return bytes;
};

/** Lines of the armored signature → its binary packet; the armor checksum, when present, must match. */
const readSignatureArmor = (lines: readonly string[]): Uint8Array => {
  let i = 0;
  while (i < lines.length && lines[i] !== '') {
    if (!SIGNATURE_HEADER.test(lines[i] ?? '')) malformed('an unexpected armor header in the signature');
    i++;
  }
  if (i === lines.length) malformed('the signature armor has no blank line after its headers');
  const body = lines.slice(i + 1);
  const checksum = CHECKSUM_LINE.exec(body.at(-1) ?? '');
  const base64Lines = checksum ? body.slice(0, -1) : body;
  if (base64Lines.length === 0 || !base64Lines.every((l) => BASE64_LINE.test(l)))
    malformed('the signature armor is not base64');
  const bytes = decodeBase64(base64Lines.join(''));
  if (checksum) {
    const expected = Buffer.from(checksum[1] ?? '', 'base64');
    const sum = ((expected[0] ?? 0) << 16) | ((expected[1] ?? 0) << 8) | (expected[2] ?? 0);
    if (sum !== crc24(bytes)) malformed('the signature armor checksum does not match');
  }
  return oneSignaturePacket(bytes);
};

/** A cleartext line → the text it stands for (RFC 4880 §7.1 dash-escaping), or refuses a doubtful one. */
const unescapeLine = (line: string, number: number): string => {
  if (/[ \t]$/.test(line))
    // OpenPGP drops trailing blanks before hashing, helm's YAML reader would not: never written by helm.
    malformed(`line ${number} of the signed text ends with blanks`);
  if (!line.startsWith('-')) return line;
  if (!line.startsWith('- '))
    malformed(`line ${number} of the signed text starts with a dash that is not dash-escaped`);
  return line.slice(2);
};

/**
 * Refuses YAML that the bounded reader would read one way and another reader (or a person) another way:
 * duplicate keys (go-yaml v2 keeps the last silently), anchors, aliases, merge keys and tags (helm's writer
 * emits none of them).
 */
const checkPlainYaml = (text: string, what: string): void => {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: defaultYamlLimits.maxDepth });
  } catch (cause) {
    return malformed(`the ${what} is not YAML`, cause);
  }
  const maps: { keys: Set<string>; expectKey: boolean }[] = [];
  const stack: ('map' | 'seq')[] = [];
  const isKey = (): boolean => stack.at(-1) === 'map' && (maps.at(-1)?.expectKey ?? false);
  const consumed = (): void => {
    const top = maps.at(-1);
    if (stack.at(-1) === 'map' && top) top.expectKey = !top.expectKey;
  };
  for (const event of events) {
    if (event.type === EVENT_ID.ALIAS) return malformed(`the ${what} uses a YAML alias`);
    if (event.type === EVENT_ID.POP) {
      const kind = stack.pop();
      if (kind === 'map') maps.pop();
      if (kind !== undefined) consumed();
      continue;
    }
    if (event.type === EVENT_ID.DOCUMENT) continue;
    if (event.anchorStart >= 0) malformed(`the ${what} uses a YAML anchor`);
    if (event.tagStart >= 0) malformed(`the ${what} uses a YAML tag`);
    if (event.type === EVENT_ID.SCALAR) {
      if (isKey()) {
        const key = getScalarValue(text, event);
        const top = maps.at(-1);
        if (key === '<<') malformed(`the ${what} uses a YAML merge key`);
        if (top?.keys.has(key)) malformed(`the ${what} repeats the key ${JSON.stringify(key.slice(0, 40))}`);
        top?.keys.add(key);
      }
      consumed();
      continue;
    }
    if (isKey()) malformed(`the ${what} has a collection as a key`);
    stack.push(event.type === EVENT_ID.MAPPING ? 'map' : 'seq');
    if (event.type === EVENT_ID.MAPPING) maps.push({ keys: new Set(), expectKey: true });
  }
};

const readYaml = (text: string, what: string): unknown => {
  checkPlainYaml(text, what);
  try {
    return parseYaml(text);
  } catch (cause) {
    if (isYamlError(cause)) return malformed(`the ${what} is not YAML helm reads (${cause.code})`, cause);
    throw cause;
  }
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

type FieldType = 'string' | 'strings' | 'bool' | 'stringMap' | 'list' | 'maintainers' | 'dependencies';

/** helm's chart.Metadata as encoding/json fills it: a value of another type fails helm's unmarshal. */
const METADATA_FIELDS: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ...['name', 'home', 'version', 'description', 'icon', 'apiVersion', 'condition', 'tags', 'appVersion']
    .concat(['kubeVersion', 'type'])
    .map((f) => [f, 'string'] as const),
  ['sources', 'strings'],
  ['keywords', 'strings'],
  ['deprecated', 'bool'],
  ['annotations', 'stringMap'],
  ['maintainers', 'maintainers'],
  ['dependencies', 'dependencies'],
]);
const MAINTAINER_FIELDS: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ['name', 'string'],
  ['email', 'string'],
  ['url', 'string'],
]);
const DEPENDENCY_FIELDS: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ...['name', 'version', 'repository', 'condition', 'alias'].map((f) => [f, 'string'] as const),
  ['tags', 'strings'],
  ['enabled', 'bool'],
  ['import-values', 'list'],
]);

/** encoding/json matches keys case-insensitively (with Unicode folding of K and ſ): `Version` is `version`. */
const fold = (key: string): string => key.replaceAll('\u212a', 'k').replaceAll('\u017f', 's').toLowerCase();

const fitsObject = (value: unknown, fields: ReadonlyMap<string, FieldType>, where: string): void => {
  if (value === null) return;
  if (!isRecord(value)) return malformed(`${where} is not a mapping`);
  const byFold = new Map([...fields.keys()].map((k) => [fold(k), k]));
  for (const key of Object.keys(value)) {
    const field = byFold.get(fold(key));
    if (field === undefined) continue; // unknown fields are ignored by helm too
    // Two spellings of one field would leave it to Go's key order which one helm keeps.
    if (field !== key) malformed(`${where} spells the field ${field} as ${JSON.stringify(key.slice(0, 40))}`);
    fitsType(ownValue(value, key), fields.get(field) ?? 'list', `${where}.${field}`);
  }
};

const fitsType = (value: unknown, type: FieldType, where: string): void => {
  if (value === null) return;
  const ok = (good: boolean): void => {
    if (!good) malformed(`${where} does not have the type helm expects`);
  };
  switch (type) {
    case 'string':
      return ok(typeof value === 'string');
    case 'bool':
      return ok(typeof value === 'boolean');
    case 'list':
      return ok(Array.isArray(value));
    case 'strings':
      return ok(Array.isArray(value) && value.every((v) => v === null || typeof v === 'string'));
    case 'stringMap':
      return ok(isRecord(value) && Object.values(value).every((v) => v === null || typeof v === 'string'));
    case 'maintainers':
    case 'dependencies': {
      if (!Array.isArray(value)) return ok(false);
      const fields = type === 'maintainers' ? MAINTAINER_FIELDS : DEPENDENCY_FIELDS;
      value.forEach((item, i) => fitsObject(item, fields, `${where}[${i}]`));
      return;
    }
  }
};

const readMetadata = (text: string): { name: string; version: string } => {
  const metadata = readYaml(text, 'chart metadata');
  if (!isRecord(metadata)) return malformed('the chart metadata is not a mapping');
  fitsObject(metadata, METADATA_FIELDS, 'the chart metadata');
  const name = ownValue(metadata, 'name');
  const version = ownValue(metadata, 'version');
  if (typeof name !== 'string' || name === '') return malformed('the chart metadata has no name');
  if (typeof version !== 'string' || version === '') return malformed('the chart metadata has no version');
  return { name, version };
};

const readSums = (text: string): { archiveName: string; archiveDigest: string } => {
  // One shape only: helm writes exactly one `files:` entry and no `images:`; a second entry, another
  // section or a flow mapping would be read by helm and not by tagguard, or the other way round.
  if (!SUMS_SHAPE.test(text)) malformed('the signed sums are not one `files:` entry');
  const sums = readYaml(text, 'signed sums');
  const files = isRecord(sums) ? ownValue(sums, 'files') : undefined;
  if (!isRecord(sums) || Object.keys(sums).length !== 1 || !isRecord(files))
    return malformed('the signed sums are not one `files:` entry');
  const entries = Object.entries(files);
  const [entry] = entries;
  if (entries.length !== 1 || entry === undefined)
    return malformed('the signed sums are not one `files:` entry');
  const [archiveName, archiveDigest] = entry;
  if (typeof archiveDigest !== 'string' || !ARCHIVE_DIGEST.test(archiveDigest))
    return malformed('the signed archive hash is not sha256:<64 lower-case hex digits>');
  return { archiveName, archiveDigest };
};

/** The signed text → chart metadata and sums, split at the one `...` line as helm's parseMessageBlock. */
const readSignedDocument = (lines: readonly string[]): SignedChart => {
  const separators = lines.flatMap((line, i) => (line === '...' ? [i] : []));
  // helm splits at every "\n...\n" and reads the first two parts: a third part would be ignored by helm.
  if (separators.length !== 1) malformed(`the signed text has ${separators.length} '...' separators, not 1`);
  const at = separators[0] ?? 0;
  if (at === 0) malformed('the signed text has no chart metadata before its ...');
  const metadata = readMetadata(`${lines.slice(0, at).join('\n')}\n`);
  const sums = readSums(`${lines.slice(at + 1).join('\n')}\n`);
  return { ...metadata, ...sums };
};

const splitLines = (bytes: Uint8Array): string[] => {
  if (bytes.length > MAX_PROVENANCE_BYTES)
    throw new ProvenanceError(
      'ProvenanceTooLarge',
      `the provenance file has ${bytes.length} bytes, more than ${MAX_PROVENANCE_BYTES}`,
    );
  // TextDecoder drops a leading byte order mark; helm then finds no message at the start of the file.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    malformed('the provenance file starts with a byte order mark');
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch (cause) {
    return malformed('the provenance file is not UTF-8', cause);
  }
  // x/crypto turns CRLF into LF and openpgp.js does too, but the same bytes then stand for two texts.
  if (text.includes('\r')) malformed('the provenance file has a carriage return');
  if (hasControl(text)) malformed('the provenance file has a control character or a YAML 1.1 line break');
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return body.split('\n');
};

/**
 * A provenance file → its parts, or throws ProvenanceError (ProvenanceTooLarge, ProvenanceMalformed).
 * The whole file must be the one clear-signed message: helm ignores text before and after it, tagguard
 * refuses it, so that nothing readable sits outside what was signed.
 */
export const parseProvenance = (bytes: Uint8Array): ParsedProvenance => {
  const lines = splitLines(bytes);
  if (lines[0] !== BEGIN_MESSAGE)
    malformed('the file does not start with -----BEGIN PGP SIGNED MESSAGE-----');
  if (lines.at(-1) !== END_SIGNATURE) malformed('the file does not end with -----END PGP SIGNATURE-----');
  const blank = lines.indexOf('', 1);
  const headers = blank === -1 ? [] : lines.slice(1, blank);
  // One Hash header, bound to the signature's own algorithm later: x/crypto ignores it, openpgp.js checks it.
  const hash = headers.length === 1 ? HASH_HEADER.exec(headers[0] ?? '')?.[1] : undefined;
  if (hash === undefined)
    malformed('the signed message needs exactly one header, Hash: SHA256|SHA384|SHA512');
  const signatureAt = lines.indexOf(BEGIN_SIGNATURE, blank + 1);
  if (signatureAt === -1) malformed('the file has no -----BEGIN PGP SIGNATURE-----');
  const textLines = lines.slice(blank + 1, signatureAt).map((line, i) => unescapeLine(line, blank + 2 + i));
  const signature = readSignatureArmor(lines.slice(signatureAt + 1, -1));
  const chart = readSignedDocument(textLines);
  return { signedText: textLines.join('\n'), hash: hash as ProvenanceHash, signature, chart };
};

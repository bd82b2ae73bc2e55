// A strict tar reader that reads every header field exactly as Go's archive/tar does (what helm, Flux and
// Argo CD read charts with) or refuses the archive: numbers, checksums, formats, pax and GNU long-name
// overrides, typeflags and the end marker. Only regular files and directories are kept; anything two tar
// readers could read differently is refused with AmbiguousArchive. docs/scanning.md lists each rule.
import { ScanError } from '../errors.ts';
import type { ScanLimits } from '../limits.ts';
import type { ArchiveBudget } from './archive-budget.ts';

const BLOCK = 512;
/** Go refuses pax and GNU long-name data above 1 MiB; tagguard's meta entries stay far smaller. */
const MAX_META_BYTES = 64 * 1024;
const INT64_MAX = (1n << 63n) - 1n;
const C_ISDIR = 0o40000;

export interface TarFile {
  /** The entry name as Go sees it (after pax/GNU overrides), checked: see checkedEntryPath. */
  readonly path: string;
  readonly data: Buffer;
}

export interface TarContents {
  readonly files: TarFile[];
  /** Paths of the directory entries (no trailing slash). */
  readonly directories: string[];
}

const invalid = (message: string): ScanError => new ScanError('InvalidArchive', message);
const ambiguous = (message: string): ScanError => new ScanError('AmbiguousArchive', message);

/** Go's parser.parseString: the bytes up to the first NUL. */
const cBytes = (field: Buffer): Buffer => {
  const end = field.indexOf(0);
  return end === -1 ? field : field.subarray(0, end);
};

/** Go's parseOctal: trims spaces and NULs at both ends, cuts at a NUL, then strconv.ParseUint(s, 8, 64). */
const parseOctal = (field: Buffer): bigint | undefined => {
  let start = 0;
  let end = field.length;
  const pad = (b: number | undefined): boolean => b === 0x20 || b === 0;
  while (start < end && pad(field[start])) start++;
  while (end > start && pad(field[end - 1])) end--;
  if (start === end) return 0n;
  const text = cBytes(field.subarray(start, end)).toString('latin1');
  if (!/^[0-7]+$/.test(text)) return undefined;
  const value = BigInt(`0o${text}`);
  if (value >= 1n << 64n) return undefined;
  return BigInt.asIntN(64, value); // int64(x): Go lets values above 2^63 wrap negative
};

/** Go's parseNumeric: base-256 (two's complement, high bit of the first byte set) or octal. */
const parseNumeric = (field: Buffer): bigint | undefined => {
  const first = field[0] ?? 0;
  if ((first & 0x80) === 0) return parseOctal(field);
  const inv = (first & 0x40) !== 0 ? 0xff : 0;
  let x = 0n;
  for (const [i, byte] of field.entries()) {
    let c = byte ^ inv;
    if (i === 0) c &= 0x7f;
    if (x >> 56n > 0n) return undefined;
    x = (x << 8n) | BigInt(c);
  }
  if (x >> 63n > 0n) return undefined;
  return inv === 0xff ? -x - 1n : x;
};

/** Go's getFormat checks the stored sum against both the unsigned and the signed byte sums. */
const checksumOk = (block: Buffer): boolean => {
  const stored = parseOctal(block.subarray(148, 156));
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b < 0x80 ? b : b - 0x100;
  }
  return stored === BigInt(unsigned) || stored === BigInt(signed);
};

type Format = 'v7' | 'ustar' | 'gnu' | 'star';

const formatOf = (block: Buffer): Format => {
  const magic = block.toString('latin1', 257, 263);
  const version = block.toString('latin1', 263, 265);
  if (magic === 'ustar\0') return block.toString('latin1', 508, 512) === 'tar\0' ? 'star' : 'ustar';
  if (magic === 'ustar ' && version === ' \0') return 'gnu';
  return 'v7';
};

interface Header {
  readonly typeflag: string;
  readonly name: Buffer;
  readonly size: bigint;
  readonly mode: bigint;
}

const numericField = (block: Buffer, offset: number, length: number, what: string): bigint => {
  const value = parseNumeric(block.subarray(offset, offset + length));
  if (value === undefined) throw invalid(`tar header ${what} field does not parse as Go reads it`);
  return value;
};

/** Go's readHeader: every numeric field it parses must parse, else Go fails the whole archive. */
const readHeader = (block: Buffer): Header => {
  if (!checksumOk(block)) throw invalid('bad tar header checksum');
  const format = formatOf(block);
  // star's prefix is 131 bytes followed by times Go parses; no chart tool writes it.
  if (format === 'star') throw ambiguous('star-format tar header');
  const mode = numericField(block, 100, 8, 'mode');
  numericField(block, 108, 8, 'uid');
  numericField(block, 116, 8, 'gid');
  const size = numericField(block, 124, 12, 'size');
  numericField(block, 136, 12, 'mtime');
  let name = cBytes(block.subarray(0, 100));
  if (format !== 'v7') {
    numericField(block, 329, 8, 'devmajor');
    numericField(block, 337, 8, 'devminor');
  }
  if (format === 'ustar') {
    const prefix = cBytes(block.subarray(345, 500));
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  }
  if (format === 'gnu') {
    // When these do not parse, Go falls back to reading 345..500 as a ustar prefix (files from Go < 1.8).
    for (const offset of [345, 357]) {
      const field = block.subarray(offset, offset + 12);
      if (field[0] !== 0 && parseNumeric(field) === undefined)
        throw ambiguous('GNU header whose access/change time Go would re-read as a name prefix');
    }
  }
  return { typeflag: String.fromCharCode(block[156] ?? 0), name, size, mode };
};

/** Go's parsePAXRecord, record by record: "<len> <key>=<value>\n"; any malformed record fails the archive. */
const parsePax = (data: Buffer): Map<string, Buffer> => {
  const records = new Map<string, Buffer>();
  let rest = data;
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    const lengthText = space === -1 ? '' : rest.toString('latin1', 0, space);
    if (!/^[+-]?\d+$/.test(lengthText)) throw invalid('malformed pax record length');
    const n = Number(lengthText);
    if (!Number.isSafeInteger(n) || n < 5 || n > rest.length || n - (space + 1) <= 0)
      throw invalid('malformed pax record length');
    if (rest[n - 1] !== 0x0a) throw invalid('pax record does not end with a newline');
    const record = rest.subarray(space + 1, n - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw invalid('pax record without a key');
    const key = record.toString('latin1', 0, eq);
    const value = record.subarray(eq + 1);
    if (key.includes('\0')) throw invalid('NUL in a pax key');
    if (['path', 'linkpath', 'uname', 'gname'].includes(key) && value.includes(0))
      throw invalid(`NUL in the pax ${key}`);
    if (key.startsWith('GNU.sparse.'))
      throw new ScanError('UnsupportedEntry', 'sparse file (pax GNU.sparse)');
    // Go keeps the last of repeated keys and skips empty values; neither has a use in a chart.
    if (records.has(key)) throw ambiguous(`pax key "${key}" repeated`);
    if (value.length === 0) throw ambiguous(`pax key "${key}" with an empty value`);
    records.set(key, value);
    rest = rest.subarray(n);
  }
  return records;
};

/** The pax records Go's mergePAX parses: a value that does not parse fails the archive in Go. */
const checkPaxValues = (records: ReadonlyMap<string, Buffer>): void => {
  const integer = (v: string): boolean =>
    /^[+-]?\d+$/.test(v) && BigInt(v) <= INT64_MAX && BigInt(v) >= -INT64_MAX - 1n;
  for (const [key, buffer] of records) {
    const value = buffer.toString('latin1');
    const ok =
      key === 'uid' || key === 'gid'
        ? integer(value)
        : key === 'atime' || key === 'mtime' || key === 'ctime'
          ? /^[+-]?\d+(\.\d*)?$/.test(value) && integer(value.split('.')[0] ?? '')
          : key === 'size'
            ? /^\d+$/.test(value) && integer(value) // Go also takes "+5" and "-5"; no writer does
            : true;
    if (!ok) throw invalid(`pax ${key} "${value.slice(0, 40)}" does not parse`);
  }
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks an entry name and returns it with a directory's trailing slash removed. Strict on purpose: helm's
 * loader cleans names (path.Clean, "\" as separator) and Argo CD joins them to a directory, so only names
 * that every reader takes to the same path pass. Throws UnsafePath.
 */
export const checkedEntryPath = (raw: Buffer | string, isDirectory: boolean, limits: ScanLimits): string => {
  let name: string;
  try {
    name = typeof raw === 'string' ? raw : utf8.decode(raw);
  } catch (cause) {
    throw new ScanError('UnsafePath', 'entry name is not UTF-8', { cause });
  }
  const fail = (why: string): never => {
    throw new ScanError('UnsafePath', `entry "${name.slice(0, 200)}": ${why}`);
  };
  if (Buffer.byteLength(name) > limits.maxPathLength) fail(`path longer than ${limits.maxPathLength} bytes`);
  if (name.includes('\0')) fail('NUL in path');
  if (name.includes('\\')) fail('backslash in path');
  if (name.startsWith('/')) fail('absolute path');
  if (/^[A-Za-z]:/.test(name)) fail('drive-letter path');
  const trimmed = isDirectory && name.endsWith('/') ? name.slice(0, -1) : name;
  const segments = trimmed.split('/');
  if (segments.includes('..')) fail('".." in path');
  if (segments.some((s) => s === '' || s === '.')) fail('empty or "." segment in path');
  if (segments.length > limits.maxPathDepth) fail(`deeper than ${limits.maxPathDepth} levels`);
  return trimmed;
};

export interface TarParser {
  /** Feeds the next bytes of the tar stream; entries are checked as soon as their header is complete. */
  push(chunk: Buffer): void;
  /** The entries read; throws when the stream stopped inside a block or an entry. */
  end(): TarContents;
}

/** What a pax 'x' or GNU 'L' header says about the entry after it. */
interface Pending {
  pax?: Map<string, Buffer>;
  longName?: Buffer;
}

/**
 * An incremental tar parser, so limits (entry count, sizes, names) trip while the archive is still being
 * decompressed. Entry counts are charged to `budget`, shared with nested archives.
 */
export const createTarParser = (limits: ScanLimits, budget: ArchiveBudget): TarParser => {
  const files: TarFile[] = [];
  const directories: string[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let needed = BLOCK;
  /** 0: reading entries; 1: one zero block read; 2: end marker read, only zero bytes may follow. */
  let zeroBlocks = 0;
  let meta: Pending = {};
  let position = 0;

  const afterEnd = (buf: Buffer): number => {
    // Go stops at the marker and never reads on; a reader that went on could find more entries.
    if (buf.some((b) => b !== 0)) throw ambiguous(`data after the end-of-archive marker at ${position}`);
    return buf.length;
  };

  /** The name and type Go ends up with for a non-meta header: overrides first, then '\0' resolved. */
  const resolve = (header: Header): { name: Buffer; typeflag: string } => {
    const { pax, longName } = meta;
    if (pax?.has('path') === true && longName !== undefined)
      throw ambiguous('both a pax path and a GNU long name'); // Go takes the GNU name, others the pax one
    const name = longName ?? pax?.get('path') ?? header.name;
    const typeflag = header.typeflag === '\0' ? (name.at(-1) === 0x2f ? '5' : '0') : header.typeflag;
    return { name, typeflag };
  };

  const entryOf = (header: Header, name: Buffer, typeflag: string, data: Buffer): void => {
    const hasPaxSize = meta.pax?.has('size') === true;
    meta = {};
    if (typeflag === '5') {
      // Go reads a directory as header-only whatever its size says: a reader that skipped the size would
      // read different entries after it (the bypass of issue 13).
      if (header.size !== 0n || hasPaxSize) throw ambiguous('directory entry that declares a size');
      directories.push(checkedEntryPath(name, true, limits));
      return;
    }
    // Go's FileInfo reports a directory for these mode bits and helm skips the entry; Argo CD writes it.
    if ((Number(BigInt.asUintN(32, header.mode)) & ~0o7777) === C_ISDIR)
      throw ambiguous('regular file whose mode says directory');
    if (name.at(-1) === 0x2f) throw ambiguous('regular file whose name ends with "/"');
    files.push({ path: checkedEntryPath(name, false, limits), data: Buffer.from(data) });
  };

  /** Handles the entry at the start of `buf`; returns the bytes it used, or 0 when more are needed. */
  const step = (buf: Buffer): number => {
    if (zeroBlocks === 2) return afterEnd(buf);
    const block = buf.subarray(0, BLOCK);
    if (block.every((b) => b === 0)) {
      zeroBlocks++;
      return BLOCK;
    }
    if (zeroBlocks === 1) throw invalid(`a zero block followed by a header at offset ${position}`); // Go: ErrHeader
    const header = readHeader(block);
    const isMeta = header.typeflag === 'x' || header.typeflag === 'g' || header.typeflag === 'L';
    const entry = isMeta ? undefined : resolve(header);
    if (entry !== undefined && entry.typeflag !== '0' && entry.typeflag !== '5')
      throw unsupported(entry.typeflag, entry.name); // refused on its header: its data is never read
    const paxSize = meta.pax?.get('size');
    const size = isMeta || paxSize === undefined ? header.size : BigInt(paxSize.toString('latin1'));
    if (size < 0n) throw invalid('negative entry size');
    if (isMeta && size > BigInt(MAX_META_BYTES))
      throw new ScanError(
        'ArchiveTooLarge',
        `pax or GNU long-name entry larger than ${MAX_META_BYTES} bytes`,
      );
    const isFile = entry?.typeflag === '0';
    if (isFile && size > BigInt(limits.maxFileBytes)) {
      throw new ScanError(
        'ArchiveTooLarge',
        `entry of ${size} bytes is larger than the limit of ${limits.maxFileBytes}`,
      );
    }
    // A directory is header-only in Go; only files and meta entries have data.
    const dataSize = isMeta || isFile ? Number(size) : 0;
    const total = BLOCK + Math.ceil(dataSize / BLOCK) * BLOCK;
    if (buf.length < total) {
      needed = total;
      return 0;
    }
    if (++budget.entries > limits.maxEntries) {
      throw new ScanError('TooManyEntries', `more than ${limits.maxEntries} entries in the archive`);
    }
    const data = buf.subarray(BLOCK, BLOCK + dataSize);
    switch (header.typeflag) {
      case 'x': {
        if (meta.pax !== undefined) throw ambiguous('two pax headers for one entry');
        const records = parsePax(data);
        checkPaxValues(records);
        meta.pax = records;
        break;
      }
      case 'g':
        // Go hands a global header back as an entry of its own (helm skips it) and applies none of its
        // records; one between an 'x' or 'L' and its entry would cut them off in Go only.
        if (meta.pax !== undefined || meta.longName !== undefined)
          throw ambiguous('pax global header between a header and its entry');
        checkPaxValues(parsePax(data));
        break;
      case 'L': {
        if (meta.longName !== undefined) throw ambiguous('two GNU long names for one entry');
        const longName = cBytes(data);
        if (longName.length === 0) throw ambiguous('empty GNU long name');
        meta.longName = Buffer.from(longName);
        break;
      }
      default:
        if (entry !== undefined) entryOf(header, entry.name, entry.typeflag, data);
    }
    return total;
  };

  return {
    push(chunk) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < needed) return;
      let buf = pending.length === 1 ? chunk : Buffer.concat(pending, pendingBytes);
      needed = BLOCK;
      while (buf.length >= needed || (zeroBlocks === 2 && buf.length > 0)) {
        const used = step(buf);
        if (used === 0) break;
        position += used;
        buf = buf.subarray(used);
        needed = BLOCK;
      }
      pending = buf.length === 0 ? [] : [buf];
      pendingBytes = buf.length;
    },
    end() {
      if (zeroBlocks < 2 && pendingBytes > 0) throw invalid(`archive is truncated at offset ${position}`); // Go: io.ErrUnexpectedEOF
      if (meta.pax !== undefined || meta.longName !== undefined)
        throw ambiguous('pax or GNU long-name header without an entry after it');
      return { files, directories };
    },
  };
};

const TYPE_NAMES: Readonly<Record<string, string>> = {
  '1': 'hard link',
  '2': 'symlink',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  '7': 'contiguous file', // helm keeps it as a file, Argo CD's extractor drops it
  K: 'GNU long link name',
  S: 'GNU sparse file',
};

const unsupported = (typeflag: string, name: Buffer): ScanError => {
  const what = TYPE_NAMES[typeflag] ?? `entry of type ${JSON.stringify(typeflag)}`;
  return new ScanError('UnsupportedEntry', `entry "${name.toString('utf8').slice(0, 200)}" is a ${what}`);
};

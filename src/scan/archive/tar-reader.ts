// A small, strict tar reader (ustar, pax and GNU long names) over an in-memory buffer. Only regular files
// and directories are accepted; links, devices, FIFOs and sparse files are refused, never followed, and
// every name is checked (no absolute paths, no `..`, bounded depth and length) before anything is kept.
import { ScanError } from '../errors.ts';
import type { ScanLimits } from '../limits.ts';
import type { ArchiveBudget } from './archive-budget.ts';

const BLOCK = 512;

export interface TarFile {
  /** Normalised relative path: segments joined by '/', no '.', '..' or empty segments. */
  readonly path: string;
  readonly data: Buffer;
}

type EntryType =
  | 'file'
  | 'directory'
  | 'hard link'
  | 'symlink'
  | 'character device'
  | 'block device'
  | 'FIFO'
  | 'pax header'
  | 'pax global header'
  | 'GNU long name'
  | 'GNU long link name'
  | 'GNU sparse file'
  | 'unknown';

const TYPES: Readonly<Record<string, EntryType>> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '5': 'directory',
  '1': 'hard link',
  '2': 'symlink',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  x: 'pax header',
  g: 'pax global header',
  L: 'GNU long name',
  K: 'GNU long link name',
  S: 'GNU sparse file',
};

const cString = (block: Buffer, offset: number, length: number): string => {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
};

/** Octal, or GNU base-256 (high bit of the first byte set) for values beyond 8 GiB. */
const numeric = (block: Buffer, offset: number, length: number): number => {
  const field = block.subarray(offset, offset + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = cString(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new ScanError('InvalidArchive', `bad numeric field "${text}" in tar header`);
  return parseInt(text, 8);
};

const checksumOk = (block: Buffer): boolean => {
  const stored = numeric(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum === stored;
};

/** pax records: "<len> <key>=<value>\n". */
const parsePax = (data: Buffer): Map<string, string> => {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(data.subarray(offset, space).toString('ascii'));
    if (!Number.isSafeInteger(length) || length <= space - offset || offset + length > data.length) {
      throw new ScanError('InvalidArchive', 'malformed pax header record');
    }
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return records;
};

/** Checks a name and returns it normalised; throws UnsafePath. */
export const safeRelativePath = (raw: string, limits: ScanLimits): string => {
  const fail = (why: string): never => {
    throw new ScanError('UnsafePath', `entry "${raw.slice(0, 200)}": ${why}`);
  };
  if (Buffer.byteLength(raw) > limits.maxPathLength) fail(`path longer than ${limits.maxPathLength} bytes`);
  if (raw.includes('\0')) fail('NUL in path');
  if (raw.includes('\\')) fail('backslash in path');
  if (raw.startsWith('/')) fail('absolute path');
  if (/^[A-Za-z]:/.test(raw)) fail('drive-letter path');
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) fail('".." in path');
  if (segments.length === 0) fail('empty path');
  if (segments.length > limits.maxPathDepth) fail(`deeper than ${limits.maxPathDepth} levels`);
  return segments.join('/');
};

export interface TarParser {
  /** Feeds the next bytes of the tar stream; entries are checked as soon as their header is complete. */
  push(chunk: Buffer): void;
  /** The regular files read (directories are implied by them). */
  end(): TarFile[];
  /** True once the end-of-archive marker was read. */
  readonly finished: boolean;
}

/**
 * An incremental tar parser, so limits (entry count, sizes, names) trip while the archive is still being
 * decompressed. Entry counts are charged to `budget`, shared with nested archives.
 */
export const createTarParser = (limits: ScanLimits, budget: ArchiveBudget): TarParser => {
  const files: TarFile[] = [];
  const seen = new Set<string>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let needed = BLOCK;
  let finished = false;
  let longName: string | undefined;
  let pax = new Map<string, string>();
  let position = 0; // offset in the whole stream, for messages

  /** Handles the entry at the start of `buf`; returns the bytes it used, or 0 when more are needed. */
  const step = (buf: Buffer): number => {
    const header = buf.subarray(0, BLOCK);
    if (header.every((b) => b === 0)) {
      finished = true; // end-of-archive marker
      return buf.length;
    }
    if (!checksumOk(header))
      throw new ScanError('InvalidArchive', `bad tar header checksum at offset ${position}`);
    const typeflag = String.fromCharCode(header[156] ?? 0);
    const type = TYPES[typeflag] ?? 'unknown';
    const paxSize = pax.get('size');
    const size = paxSize !== undefined && type === 'file' ? Number(paxSize) : numeric(header, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw new ScanError('InvalidArchive', 'bad entry size');
    const name = (): string => {
      if (pax.has('path')) return pax.get('path') ?? '';
      if (longName !== undefined) return longName;
      const prefix = cString(header, 345, 155);
      const base = cString(header, 0, 100);
      const magic = cString(header, 257, 6);
      return magic === 'ustar' && prefix !== '' ? `${prefix}/${base}` : base;
    };
    if (type === 'file' && size > limits.maxFileBytes) {
      throw new ScanError(
        'ArchiveTooLarge',
        `entry "${name().slice(0, 200)}" of ${size} bytes is larger than the limit of ${limits.maxFileBytes}`,
      );
    }
    const isMeta = type === 'pax header' || type === 'pax global header' || type.startsWith('GNU long');
    if (isMeta && size > 64 * 1024) throw new ScanError('ArchiveTooLarge', `${type} larger than 64 KiB`);
    if (type !== 'file' && !isMeta && type !== 'directory') {
      // Refused on its header alone: its data (a sparse map, a link target) is never read.
      throw new ScanError('UnsupportedEntry', `entry "${name().slice(0, 200)}" is a ${type}`);
    }
    const total = BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (buf.length < total) {
      needed = total;
      return 0;
    }
    budget.entries++;
    if (budget.entries > limits.maxEntries) {
      throw new ScanError('TooManyEntries', `more than ${limits.maxEntries} entries in the archive`);
    }
    const data = buf.subarray(BLOCK, BLOCK + size);
    switch (type) {
      case 'pax header':
        pax = parsePax(data);
        rejectSparse(pax);
        break;
      case 'pax global header':
        rejectSparse(parsePax(data));
        break;
      case 'GNU long name':
        longName = cString(data, 0, data.length);
        break;
      case 'GNU long link name':
        break;
      default: {
        const path = safeRelativePath(name(), limits);
        longName = undefined;
        pax = new Map();
        if (type === 'directory') break;
        if (seen.has(path)) throw new ScanError('UnsafePath', `entry "${path}" appears twice`);
        seen.add(path);
        files.push({ path, data: Buffer.from(data) });
      }
    }
    return total;
  };

  return {
    get finished() {
      return finished;
    },
    push(chunk) {
      if (finished) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < needed) return;
      let buf = pending.length === 1 ? chunk : Buffer.concat(pending, pendingBytes);
      needed = BLOCK;
      while (!finished && buf.length >= needed) {
        const used = step(buf);
        if (used === 0) break;
        position += used;
        buf = buf.subarray(used);
        needed = BLOCK;
      }
      pending = finished || buf.length === 0 ? [] : [buf];
      pendingBytes = finished ? 0 : buf.length;
    },
    end() {
      if (!finished && pendingBytes > 0 && pending.some((b) => b.some((x) => x !== 0))) {
        throw new ScanError('InvalidArchive', `archive is truncated at offset ${position}`);
      }
      return files;
    },
  };
};

const rejectSparse = (records: ReadonlyMap<string, string>): void => {
  if ([...records.keys()].some((k) => k.startsWith('GNU.sparse'))) {
    throw new ScanError('UnsupportedEntry', 'sparse file (pax GNU.sparse) in the archive');
  }
};

/** Reads a whole uncompressed tar held in memory. */
export const readTar = (tar: Buffer, limits: ScanLimits, budget: ArchiveBudget): TarFile[] => {
  const parser = createTarParser(limits, budget);
  parser.push(tar);
  return parser.end();
};

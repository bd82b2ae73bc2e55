// Builds tar archives byte by byte for the tests, including the hostile ones no well-behaved tool would
// write (links, devices, sparse files, `..` and absolute names, declared sizes that lie).
import { createGzip, gzipSync } from 'node:zlib';

/** A typeflag: the usual ones, or any other byte as a one-character string ('\0', 'A', …). */
export type TarType =
  '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | 'x' | 'g' | 'L' | 'K' | 'S' | (string & {});

/** Which magic/version the header carries (Go tells ustar, GNU, V7 and star apart by them). */
export type TarMagic = 'ustar' | 'gnu' | 'v7' | 'star';

export interface TarEntry {
  name: string;
  type?: TarType;
  data?: Buffer | string;
  /** Size written in the header when it should differ from the data (a lie, or a sparse real size). */
  declaredSize?: number;
  linkName?: string;
  /** ustar prefix field. */
  prefix?: string;
  /** Mode field (default 0755 for directories, 0644 otherwise). */
  mode?: number;
  magic?: TarMagic;
  /** Raw bytes written over the header before the checksum is computed (field games). */
  overwrite?: readonly { offset: number; bytes: Buffer | string }[];
  /** 'signed' sums bytes as int8 (Go accepts both sums); 'bad' stores a wrong sum. */
  checksum?: 'unsigned' | 'signed' | 'bad';
  /** Data bytes written after the header instead of `data` padded (a size that lies about the data). */
  rawData?: Buffer;
}

const BLOCK = 512;

const writeString = (block: Buffer, offset: number, length: number, value: string): void => {
  Buffer.from(value, 'utf8').copy(block, offset, 0, length);
};

const writeOctal = (block: Buffer, offset: number, length: number, value: number): void => {
  if (value >= 8 ** (length - 1)) {
    // GNU base-256: high bit set, big-endian value in the rest of the field.
    let v = BigInt(value);
    for (let i = length - 1; i > 0; i--) {
      block[offset + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    block[offset] = 0x80;
    return;
  }
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
};

export const tarHeader = (entry: TarEntry, size: number): Buffer => {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, entry.name);
  writeOctal(block, 100, 8, entry.mode ?? (entry.type === '5' ? 0o755 : 0o644));
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 1_700_000_000);
  block.fill(0x20, 148, 156);
  block.write(entry.type ?? '0', 156, 'ascii');
  writeString(block, 157, 100, entry.linkName ?? '');
  const magic = entry.magic ?? 'ustar';
  if (magic === 'gnu') writeString(block, 257, 8, 'ustar  \0');
  if (magic === 'ustar' || magic === 'star') {
    writeString(block, 257, 6, 'ustar\0');
    writeString(block, 263, 2, '00');
  }
  if (magic === 'star') writeString(block, 508, 4, 'tar\0');
  writeString(block, 345, 155, entry.prefix ?? '');
  for (const { offset, bytes } of entry.overwrite ?? []) Buffer.from(bytes).copy(block, offset);
  let sum = 0;
  for (const byte of block) sum += entry.checksum === 'signed' && byte >= 0x80 ? byte - 0x100 : byte;
  if (entry.checksum === 'bad') sum += 1;
  writeString(block, 148, 8, `${(sum >>> 0).toString(8).padStart(6, '0')}\0 `);
  return block;
};

const pad = (length: number): Buffer => Buffer.alloc((BLOCK - (length % BLOCK)) % BLOCK);

export const tarEntry = (entry: TarEntry): Buffer => {
  const data = Buffer.from(entry.data ?? '');
  const header = tarHeader(entry, entry.declaredSize ?? data.length);
  if (entry.rawData !== undefined) return Buffer.concat([header, entry.rawData]);
  return Buffer.concat([header, data, pad(data.length)]);
};

export const paxRecord = (key: string, value: string): string => {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length++;
  return `${length}${body}`;
};

export const buildTar = (entries: readonly TarEntry[]): Buffer =>
  Buffer.concat([...entries.map(tarEntry), Buffer.alloc(BLOCK * 2)]);

export const buildTgz = (entries: readonly TarEntry[]): Buffer => gzipSync(buildTar(entries));

/** A minimal valid chart's entries under `dir/`. */
export const chartEntries = (dir = 'demo', templates: Record<string, string> = {}): TarEntry[] => [
  { name: `${dir}/Chart.yaml`, data: `apiVersion: v2\nname: ${dir}\nversion: 1.0.0\n` },
  { name: `${dir}/values.yaml`, data: 'replicas: 1\n' },
  ...Object.entries(templates).map(([name, data]) => ({ name: `${dir}/templates/${name}`, data })),
];

/**
 * A chart whose files are 4 MiB of zeros each, `zeroBytes` in all, gzip'd as a stream so the test never
 * holds the expanded bytes: each file is under the per-file cap, the whole expands ~1000 times.
 */
export const gzipBomb = async (zeroBytes: number, dir = 'demo'): Promise<Buffer> => {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  gzip.write(tarEntry({ name: `${dir}/Chart.yaml`, data: `apiVersion: v2\nname: ${dir}\nversion: 1.0.0\n` }));
  const fileSize = 4 * 1024 * 1024;
  const zeros = Buffer.alloc(fileSize);
  for (let i = 0; i * fileSize < zeroBytes; i++) {
    gzip.write(tarHeader({ name: `${dir}/zeros-${i}` }, fileSize));
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end(Buffer.alloc(BLOCK * 2));
  await done;
  return Buffer.concat(out);
};

/** A tgz with `count` empty files, streamed. */
export const manyEntries = (count: number, dir = 'demo'): Buffer => {
  const parts: Buffer[] = [
    tarEntry({ name: `${dir}/Chart.yaml`, data: `apiVersion: v2\nname: ${dir}\nversion: 1.0.0\n` }),
  ];
  for (let i = 0; i < count; i++) parts.push(tarHeader({ name: `${dir}/files/f${i}.txt` }, 0));
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 1 });
};

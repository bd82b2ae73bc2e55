// Re-packs a chart directory's accepted tree into a fresh gzip'd tar for helm (a packaged chart goes to
// helm as its original bytes): regular files only, clean names (a pax record carries names longer than
// ustar allows), fixed owner and mode — nothing the reader refused can reappear in it.
import { gzipSync } from 'node:zlib';

const BLOCK = 512;

const paxRecord = (key: string, value: string): Buffer => {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length++;
  return Buffer.from(`${length}${body}`, 'utf8');
};

const header = (name: string, size: number, type: '0' | 'x'): Buffer => {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'ascii');
  block.write('0000000\0', 108, 'ascii');
  block.write('0000000\0', 116, 'ascii');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  block.write('00000000000\0', 136, 'ascii');
  block.fill(0x20, 148, 156);
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
};

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** A .tgz of `files` (relative paths) under `directory/`. */
export const packTgz = (directory: string, files: ReadonlyMap<string, Buffer>): Buffer => {
  const parts: Buffer[] = [];
  for (const [path, data] of files) {
    const name = `${directory}/${path}`;
    if (Buffer.byteLength(name) > 99) {
      const pax = paxRecord('path', name);
      parts.push(header('PaxHeader', pax.length, 'x'), pax, padding(pax.length));
    }
    parts.push(header(name.slice(0, 99), data.length, '0'), data, padding(data.length));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 1 });
};

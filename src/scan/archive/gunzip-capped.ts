// Streaming gunzip of an in-memory archive with a running byte cap and a decompression-ratio check, so a
// gzip bomb stops after at most the cap (plus one chunk) of output, never after it has filled memory.
// The whole stream is read: bytes after the last gzip member are refused, never ignored.
import { createGunzip } from 'node:zlib';
import { ScanError } from '../errors.ts';
import type { ScanLimits } from '../limits.ts';
import type { ArchiveBudget } from './archive-budget.ts';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

export const isGzip = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];

/**
 * Gunzips `archive` chunk by chunk into `sink`, charging the output to `budget`; fails as soon as the
 * budget or the ratio is exceeded. Concatenated members are read as one stream (Go's gzip.Reader does the
 * same). Errors thrown by `sink` stop the stream and propagate.
 */
export const gunzipCapped = async (
  archive: Buffer,
  limits: ScanLimits,
  budget: ArchiveBudget,
  sink: (chunk: Buffer) => void,
): Promise<void> => {
  if (archive.length > limits.maxCompressedBytes) {
    throw new ScanError(
      'ArchiveTooLarge',
      `archive of ${archive.length} bytes is larger than the limit of ${limits.maxCompressedBytes}`,
    );
  }
  if (!isGzip(archive)) throw new ScanError('InvalidArchive', 'not a gzip-compressed archive');
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  gunzip.end(archive);
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limits.ratioGraceBytes && total > archive.length * limits.maxCompressionRatio) {
        throw new ScanError(
          'DecompressionBomb',
          `archive expands more than ${limits.maxCompressionRatio} times its compressed size of ${archive.length} bytes`,
        );
      }
      if (budget.bytes + total > limits.maxTotalBytes) {
        throw new ScanError(
          'ArchiveTooLarge',
          `archive expands to more than the limit of ${limits.maxTotalBytes} bytes`,
        );
      }
      sink(chunk);
    }
    // zlib stops quietly at bytes that are not a gzip member (zeros, say); Go's reader would fail on them
    // or never read them, depending on where its tar reader stops.
    if (gunzip.bytesWritten !== archive.length)
      throw new ScanError('AmbiguousArchive', 'data after the last gzip member');
    gunzip.destroy();
  } catch (error) {
    gunzip.destroy();
    if (error instanceof ScanError) throw error;
    throw new ScanError('InvalidArchive', 'archive is not valid gzip', { cause: error });
  }
  budget.bytes += total;
};

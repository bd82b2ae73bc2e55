// Reads an unpacked chart directory (the CLI's `tagguard scan ./chart`) under the same caps as an archive.
// Symlinks and special files are refused, not followed: the tree is walked with lstat. A file or directory
// that cannot be read (permissions, removed meanwhile) is a coded Unreadable, never an escaped fs error.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ScanError } from '../errors.ts';
import type { ScanLimits } from '../limits.ts';
import { newArchiveBudget } from './archive-budget.ts';
import { fromFiles, type ChartFiles } from './chart-archive.ts';

/** The fs call, or ScanError Unreadable naming the path. */
const readable = async <T>(path: string, read: () => Promise<T>): Promise<T> => {
  try {
    return await read();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new ScanError('Unreadable', `${path || '.'}: cannot be read (${code})`, { cause });
  }
};

export const loadChartDirectory = async (dir: string, limits: ScanLimits): Promise<ChartFiles> => {
  const budget = newArchiveBudget();
  const files = new Map<string, Buffer>();
  const walk = async (relative: string, depth: number): Promise<void> => {
    if (depth > limits.maxPathDepth)
      throw new ScanError('UnsafePath', `${relative}: deeper than ${limits.maxPathDepth} levels`);
    for (const name of await readable(relative, () => readdir(join(dir, relative)))) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const stat = await readable(path, () => lstat(join(dir, path)));
      if (++budget.entries > limits.maxEntries) {
        throw new ScanError('TooManyEntries', `more than ${limits.maxEntries} entries in the chart`);
      }
      if (stat.isDirectory()) {
        await walk(path, depth + 1);
      } else if (stat.isFile()) {
        if (stat.size > limits.maxFileBytes) {
          throw new ScanError(
            'ArchiveTooLarge',
            `${path}: ${stat.size} bytes is larger than the limit of ${limits.maxFileBytes}`,
          );
        }
        budget.bytes += stat.size;
        if (budget.bytes > limits.maxTotalBytes) {
          throw new ScanError(
            'ArchiveTooLarge',
            `chart is larger than the limit of ${limits.maxTotalBytes} bytes`,
          );
        }
        files.set(path, await readable(path, () => readFile(join(dir, path))));
      } else {
        throw new ScanError(
          'UnsupportedEntry',
          `${path} is ${stat.isSymbolicLink() ? 'a symlink' : 'not a regular file'}`,
        );
      }
    }
  };
  await walk('', 1);
  return fromFiles(basename(resolve(dir)), files, limits, budget);
};

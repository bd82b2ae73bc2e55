// Runs scan-child.ts in a fresh Node process (the runtime vitest itself runs on) and parses its report.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ScanErrorCode } from '../../../src/scan/errors.ts';
import type { ScanLimits } from '../../../src/scan/limits.ts';

export interface ChildReport {
  code: ScanErrorCode | null;
  findings: number;
  elapsedMs: number;
  maxRssBytes: number;
  helmPeakRssBytes: number;
  /** helm and the scanning process sampled together while helm ran (0 without helm). */
  combinedPeakRssBytes: number;
}

/** The acceptance figure: the process alone, or the process and helm at the same moment, whichever is higher. */
export const peakOfProcessAndChildren = (report: ChildReport): number =>
  Math.max(report.maxRssBytes, report.combinedPeakRssBytes);

const CHILD = join(import.meta.dirname, 'scan-child.ts');

/**
 * The V8 flags tagguard is run with (docs/security.md, "Limits"): Node 24's default young generation lets a
 * parse's short-lived garbage raise the resident size by ~150 MB; 4 MB semi-spaces keep it near the live size.
 */
export const RUNTIME_NODE_FLAGS = ['--max-semi-space-size=4'];

/** Runs scan-child.ts on Node 24 (the runtime vitest runs on) and parses its report. */
export const scanInChild = (
  archive: string,
  helmBinary = '',
  timeoutMs = '',
  limits: Partial<ScanLimits> = {},
): Promise<ChildReport> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...RUNTIME_NODE_FLAGS, CHILD, archive, helmBinary, timeoutMs, JSON.stringify(limits)],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`scan child failed: ${stderr}`, { cause: error }));
        resolve(JSON.parse(stdout) as ChildReport);
      },
    );
  });

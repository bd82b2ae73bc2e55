// Runs one chart scan in a fresh process and reports its outcome and the process's peak memory, so tests
// can bound the memory a hostile archive costs. Usage: node scan-child.ts <archive.tgz> [helm-binary] [timeoutMs] [limits JSON]
import { readFile } from 'node:fs/promises';
import { scanChart } from '../../../src/scan/scan-chart.ts';
import { isScanError } from '../../../src/scan/errors.ts';
import type { ScanLimits } from '../../../src/scan/limits.ts';

const [archivePath, helmBinary, timeoutMs, limits] = process.argv.slice(2);
const started = performance.now();
let code: string | null = null;
let findings = 0;
let helmPeakRssBytes = 0;
let combinedPeakRssBytes = 0;
try {
  const result = await scanChart(
    await readFile(archivePath ?? ''),
    {},
    {
      helmBinary: helmBinary || undefined,
      timeoutMs: timeoutMs ? Number(timeoutMs) : undefined,
      limits: limits ? (JSON.parse(limits) as Partial<ScanLimits>) : undefined,
      onRender: (stats) => {
        helmPeakRssBytes = stats.peakRssBytes;
        combinedPeakRssBytes = stats.peakCombinedRssBytes;
      },
    },
  );
  findings = result.findings.length;
} catch (error) {
  if (!isScanError(error)) throw error;
  code = error.code;
}
process.stdout.write(
  JSON.stringify({
    code,
    findings,
    elapsedMs: performance.now() - started,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    helmPeakRssBytes,
    combinedPeakRssBytes,
  }),
);

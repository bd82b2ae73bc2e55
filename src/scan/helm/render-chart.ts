// Renders a chart with the pinned helm binary (`helm template`): a packaged chart is handed to helm as the
// original archive bytes (so helm renders exactly what a GitOps tool would), a chart directory as its
// checked tree re-packed; both in a private temp dir; helm runs in its own process group with an empty environment and a
// scratch HELM home, under a timeout, an output cap and a resident-memory cap; a breach kills the group.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanError, type ScanErrorCode } from '../errors.ts';
import type { ScanLimits } from '../limits.ts';
import type { ChartFiles } from '../archive/chart-archive.ts';
import { packTgz } from '../archive/tar-writer.ts';
import type { LiveRender, LiveRenders } from './live-renders.ts';

export interface RenderOptions {
  readonly helmBinary: string;
  readonly releaseName: string;
  readonly namespace: string;
  /** --kube-version, e.g. "1.34.0"; default: helm's own. */
  readonly kubeVersion?: string | undefined;
  /** Values layered in order over the chart defaults (later wins, deep merge as helm does with -f). */
  readonly values: readonly Record<string, unknown>[];
  readonly timeoutMs: number;
  readonly limits: ScanLimits;
  /** Told how each render went, whatever its outcome (metrics, tests). */
  readonly onRender?: ((stats: RenderStats) => void) | undefined;
  /** Where the render is registered while it runs, so the process can kill it when it is stopped. */
  readonly liveRenders?: LiveRenders | undefined;
}

export interface RenderStats {
  readonly durationMs: number;
  /** Highest resident memory of helm the watchdog saw (bytes; 0 where /proc is not available). */
  readonly peakRssBytes: number;
  /** Highest resident memory of helm plus this process, sampled together (bytes; 0 without /proc). */
  readonly peakCombinedRssBytes: number;
  /** The error code, or "ok". */
  readonly outcome: ScanErrorCode | 'ok';
}

export interface RenderResult {
  /** helm's stdout as bytes: parsed document by document, never turned into one large string. */
  readonly manifests: Buffer;
  /** Highest resident memory of helm seen by the watchdog (bytes). */
  readonly peakRssBytes: number;
}

// Often enough that helm cannot outgrow its cap by much between two looks (it allocates ~10 MB per 20 ms).
const MEMORY_POLL_MS = 20;
const STDERR_CAP = 16 * 1024;

const residentBytes = async (pid: number): Promise<number | undefined> => {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined; // exited, or not Linux: the timeout and output cap still hold
  }
};

const helmEnvironment = (scratch: string, memoryCapBytes: number): Record<string, string> => ({
  HOME: join(scratch, 'home'),
  HELM_CACHE_HOME: join(scratch, 'home', 'cache'),
  HELM_CONFIG_HOME: join(scratch, 'home', 'config'),
  HELM_DATA_HOME: join(scratch, 'home', 'data'),
  HELM_PLUGINS: join(scratch, 'home', 'plugins'),
  HELM_REGISTRY_CONFIG: join(scratch, 'home', 'registry.json'),
  HELM_REPOSITORY_CONFIG: join(scratch, 'home', 'repositories.yaml'),
  HELM_REPOSITORY_CACHE: join(scratch, 'home', 'repository'),
  KUBECONFIG: join(scratch, 'home', 'kubeconfig'),
  // A soft limit below the watchdog's hard cap: Go collects harder as the heap nears it, so a large but
  // honest chart fits under the cap instead of being killed at twice its live heap (GOGC=100). It costs
  // nothing far below the limit (bench/scan.ts); a hostile render still meets the hard cap.
  GOMEMLIMIT: String(Math.floor(memoryCapBytes * 0.75)),
});

const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KUBE_VERSION = /^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$/;

/** Every value that reaches helm's command line is checked: none can start with "-" and pass as a flag. */
const checkOptions = (options: RenderOptions): void => {
  const bad = (what: string, value: string): never => {
    throw new ScanError(
      'InvalidRenderOptions',
      `${what} ${JSON.stringify(value.slice(0, 100))} is not valid`,
    );
  };
  if (options.releaseName.length > 53 || !RELEASE_NAME.test(options.releaseName))
    bad('release name', options.releaseName);
  if (options.namespace.length > 63 || !NAMESPACE.test(options.namespace))
    bad('namespace', options.namespace);
  if (options.kubeVersion !== undefined && !KUBE_VERSION.test(options.kubeVersion))
    bad('Kubernetes version', options.kubeVersion);
};

export const renderChart = async (chart: ChartFiles, options: RenderOptions): Promise<RenderResult> => {
  checkOptions(options);
  // Small synchronous file operations on purpose: a handful of microseconds each, where the async forms
  // cost a thread-pool round trip apiece (measured: ~25 ms per render on a loaded 2-core machine).
  const scratch = mkdtempSync(join(tmpdir(), 'tagguard-render-'));
  const live = options.liveRenders?.start(scratch);
  try {
    // mkdtemp creates the directory 0700. HELM_* point into it at paths that need not exist: helm
    // template finds no plugins, repositories or registry logins there, which is the point.
    const chartFile = join(scratch, 'chart.tgz');
    const archive = chart.archive ?? packTgz(chart.directory, chart.files);
    writeFileSync(chartFile, archive, { mode: 0o600 });
    const valueFiles: string[] = [];
    for (const [i, values] of options.values.entries()) {
      if (Object.keys(values).length === 0) continue;
      const file = join(scratch, `values-${i}.json`);
      writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
      valueFiles.push('--values', file);
    }
    const args = [
      'template',
      options.releaseName,
      chartFile,
      `--namespace=${options.namespace}`,
      ...(options.kubeVersion !== undefined ? [`--kube-version=${options.kubeVersion}`] : []),
      ...valueFiles,
    ];
    return await runHelm(options.helmBinary, args, scratch, options, live);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    if (live) options.liveRenders?.end(live);
  }
};

const runHelm = (
  binary: string,
  args: readonly string[],
  scratch: string,
  options: RenderOptions,
  live: LiveRender | undefined,
): Promise<RenderResult> =>
  new Promise((resolve, reject) => {
    const { limits } = options;
    const child = spawn(binary, args, {
      cwd: scratch,
      env: helmEnvironment(scratch, limits.maxRenderMemoryBytes),
      detached: true, // its own process group, so a kill reaches anything it started
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (live) live.pid = child.pid;
    const started = performance.now();
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let peakRssBytes = 0;
    let peakCombinedRssBytes = 0;
    let failure: ScanError | undefined;

    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const abort = (code: ScanErrorCode, message: string): void => {
      failure ??= new ScanError(code, message);
      killGroup();
    };

    const timer = setTimeout(
      () => abort('RenderTimeout', `helm template did not finish within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    let polling = false;
    const watchdog = setInterval(() => {
      if (polling || child.pid === undefined) return;
      polling = true;
      void residentBytes(child.pid).then((rss) => {
        polling = false;
        if (rss === undefined) return;
        peakRssBytes = Math.max(peakRssBytes, rss);
        peakCombinedRssBytes = Math.max(peakCombinedRssBytes, rss + process.memoryUsage.rss());
        if (rss > limits.maxRenderMemoryBytes) {
          abort(
            'RenderMemoryExceeded',
            `helm template used more than ${limits.maxRenderMemoryBytes} bytes of memory`,
          );
        }
      });
    }, MEMORY_POLL_MS);

    child.stdout.on('data', (chunk: Buffer) => {
      if (failure) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > limits.maxRenderedBytes) {
        abort('OutputTooLarge', `helm template wrote more than ${limits.maxRenderedBytes} bytes`);
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < STDERR_CAP) stderr += chunk.slice(0, STDERR_CAP - stderr.length);
    });

    child.on('error', (cause) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      reject(new ScanError('RenderFailed', `cannot run helm (${binary})`, { cause }));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      killGroup(); // nothing of the group may outlive the render
      const error =
        failure ??
        (exitCode === 0
          ? undefined
          : new ScanError(
              'RenderFailed',
              `helm template failed (${exitCode ?? signal}): ${stderr.trim().slice(0, 2000)}`,
            ));
      options.onRender?.({
        durationMs: performance.now() - started,
        peakRssBytes,
        peakCombinedRssBytes,
        outcome: error?.code ?? 'ok',
      });
      if (error) return reject(error);
      resolve({ manifests: Buffer.concat(stdout, stdoutBytes), peakRssBytes });
    });
  });

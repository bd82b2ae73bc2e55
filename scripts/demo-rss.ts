// The operator's resident memory through the demo: VmRSS and VmHWM of its process read from /proc every
// 500 ms, from Ready to the end, summed up as ready / peak / end (the figure issue 19 asks for under the demo).
import { processKiB } from '../test/env/image-run.ts';

export interface RssSummary {
  readonly pid: number;
  readonly samples: number;
  readonly readyKiB: number;
  /** The highest of every VmRSS sampled and the kernel's VmHWM (which also sees peaks between samples). */
  readonly peakKiB: number;
  readonly endKiB: number;
}

const SAMPLE_EVERY_MS = 500;

export class RssSampler {
  private readonly pid: number;
  private readonly readyKiB: number;
  private samples = 1;
  private maxRss: number;
  private hwm = 0;
  private last: number;
  private timer: NodeJS.Timeout | undefined;

  private constructor(pid: number, readyKiB: number) {
    this.pid = pid;
    this.readyKiB = readyKiB;
    this.maxRss = readyKiB;
    this.last = readyKiB;
  }

  /** Takes the Ready sample now, then one every 500 ms until summary(). */
  static async start(pid: number): Promise<RssSampler> {
    const sampler = new RssSampler(pid, await processKiB(pid, 'VmRSS'));
    sampler.timer = setInterval(() => void sampler.sample(), SAMPLE_EVERY_MS);
    // The demo's end does not wait for the next tick.
    sampler.timer.unref();
    return sampler;
  }

  private async sample(): Promise<void> {
    try {
      const [rss, hwm] = await Promise.all([processKiB(this.pid, 'VmRSS'), processKiB(this.pid, 'VmHWM')]);
      if (!Number.isFinite(rss)) return;
      this.samples += 1;
      this.last = rss;
      this.maxRss = Math.max(this.maxRss, rss);
      if (Number.isFinite(hwm)) this.hwm = Math.max(this.hwm, hwm);
    } catch {
      // The process has ended (a failed demo): the samples so far stand.
    }
  }

  /** Stops sampling after one last sample: the RSS at the end. */
  async summary(): Promise<RssSummary> {
    clearInterval(this.timer);
    await this.sample();
    return {
      pid: this.pid,
      samples: this.samples,
      readyKiB: this.readyKiB,
      peakKiB: Math.max(this.maxRss, this.hwm),
      endKiB: this.last,
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

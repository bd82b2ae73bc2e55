// How the demo talks: numbered steps with their wall time, indented command output, colour on a terminal
// and plain text (no ANSI escape at all) when piped or when NO_COLOR is set.
import { performance } from 'node:perf_hooks';

export interface NarratorOptions {
  readonly colour: boolean;
  readonly write: (text: string) => void;
  readonly totalSteps: number;
}

type Style = 'bold' | 'dim' | 'green' | 'red' | 'yellow' | 'cyan';

const CODES: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

const INDENT = '       ';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export class Narrator {
  private readonly options: NarratorOptions;
  private readonly startedAt = performance.now();
  private step = 0;
  private stepStartedAt = 0;
  private stepTitle = '';

  constructor(options: NarratorOptions) {
    this.options = options;
  }

  style(style: Style, text: string): string {
    if (!this.options.colour) return text;
    const [on, off] = CODES[style];
    return `\u001b[${on}m${text}\u001b[${off}m`;
  }

  title(text: string): void {
    this.options.write(`\n${this.style('bold', text)}\n`);
  }

  /** Starts the next numbered step; the previous one must have been ended with done(). */
  begin(title: string): void {
    this.step += 1;
    this.stepTitle = title;
    this.stepStartedAt = performance.now();
    const number = `[${this.step}/${this.options.totalSteps}]`;
    this.options.write(`\n${this.style('bold', this.style('cyan', number))} ${this.style('bold', title)}\n`);
  }

  /** A line of narration under the current step. */
  say(text: string): void {
    for (const line of text.split('\n')) this.options.write(`${INDENT}${line}\n`);
  }

  /** A command as the reader would type it, then its real output. */
  command(display: string, output: string): void {
    this.options.write(`${INDENT}${this.style('dim', `$ ${display}`)}\n`);
    const lines = output.replace(/\n+$/, '').split('\n');
    for (const line of lines) this.options.write(`${INDENT}  ${line}\n`);
  }

  /** An expected state that was reached. */
  check(text: string): void {
    this.options.write(`${INDENT}${this.style('green', 'ok')} ${text}\n`);
  }

  warn(text: string): void {
    const [first, ...rest] = text.split('\n');
    this.options.write(`${INDENT}${this.style('yellow', 'note')} ${first}\n`);
    for (const line of rest) this.options.write(`${INDENT}     ${line}\n`);
  }

  done(): void {
    const took = seconds(performance.now() - this.stepStartedAt);
    this.options.write(
      `${INDENT}${this.style('green', `step ${this.step} done`)} ${this.style('dim', `(${took})`)}\n`,
    );
  }

  failed(error: unknown): void {
    const where = this.step > 0 ? `step ${this.step} (${this.stepTitle})` : 'start-up';
    const message = error instanceof Error ? error.message : String(error);
    this.options.write(`\n${this.style('red', this.style('bold', `FAILED in ${where}`))}\n`);
    for (const line of message.split('\n')) this.options.write(`  ${line}\n`);
  }

  total(): string {
    return seconds(performance.now() - this.startedAt);
  }
}

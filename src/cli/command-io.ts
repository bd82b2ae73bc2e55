// What a command may touch of the outside world, passed in so commands run in-process in tests.
import type { CliEnvironment } from '../config/cli-environment.ts';

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly environment: CliEnvironment;
  /** All of standard input, at most `maxBytes` (more is an error); absent: the command has no stdin. */
  readonly readStdin?: (maxBytes: number) => Promise<Buffer>;
}

// Exit codes of every tagguard command (docs/design.md#command-line).
export const EXIT = {
  /** Trusted, or no findings at failOn. */
  ok: 0,
  /** Untrusted, or findings at failOn. */
  untrusted: 1,
  /** Usage or policy error. */
  usage: 2,
  /** Registry or network error. */
  registry: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

// One input of the hostile corpus: how to build it, the tagguard command that reads it, and what must
// come out (exit code and the coded error or verdict reason), within a time bound.
import type { RegistryEndpoint } from '../../env/registries.ts';
import type { ToolHome } from '../../env/tool-home.ts';
export interface CorpusContext {
  /** A private scratch directory for this case's files. */
  readonly dir: string;
  /** The pinned helm binary. */
  readonly helm: string;
  /** host:port of a plain-HTTP registry with the referrers API (olareg), for cases that push. */
  readonly registry: string;
  /** The same registry as the test environment describes it (for the tools that push to it). */
  readonly endpoint: RegistryEndpoint;
  /** A scratch home for the pinned CLIs (helm, oras) of this case. */
  readonly home: ToolHome;
  /** Runs `cleanup` after the case (servers it started). */
  defer(cleanup: () => Promise<void>): void;
}

export type CorpusClass = 'archive' | 'yaml' | 'template' | 'policy' | 'reference' | 'signature' | 'registry';

export interface CorpusCase {
  readonly class: CorpusClass;
  readonly name: string;
  /** Builds the inputs under ctx.dir and returns the arguments of `tagguard`. */
  readonly prepare: (ctx: CorpusContext) => Promise<readonly string[]>;
  readonly exit: number;
  /** The code that must appear as the error code (stderr "tagguard <cmd>: <Code>: …") or a JSON reason. */
  readonly code: string;
  /** Time bound for the whole command (default 20 s). */
  readonly maxMs?: number;
  /** Text that must not appear anywhere in the output (a secret). */
  readonly secret?: string;
}

/** The codes a run reported: JSON `reasons`, signer reasons, and "tagguard …: Code:" lines on stderr. */
export const reportedCodes = (stdout: string, stderr: string): string[] => {
  const codes: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^tagguard(?: [a-z]+)?: ([A-Z][A-Za-z]+):/.exec(line);
    if (m?.[1]) codes.push(m[1]);
  }
  try {
    const report = JSON.parse(stdout) as {
      reasons?: unknown;
      signatures?: { reason?: unknown }[];
      findings?: { rule?: unknown }[];
    };
    if (Array.isArray(report.reasons)) codes.push(...report.reasons.map(String));
    for (const s of report.signatures ?? []) if (typeof s.reason === 'string') codes.push(s.reason);
    for (const f of report.findings ?? []) if (typeof f.rule === 'string') codes.push(f.rule);
  } catch {
    // not JSON: stderr only
  }
  return codes;
};

/** A Node or Go stack trace in the output: the run crashed instead of answering with a code. */
export const STACK_TRACE = /^\s+at .+[:(]\d+:\d+\)?$|^goroutine \d+ \[|^panic: /m;

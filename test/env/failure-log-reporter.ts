// Prints the tail of every test server's log when an integration run fails, so a CI failure can be
// understood from its output alone. The logs stay in .testbin/runs/<run>/ either way.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestRunEndReason } from 'vitest/node';
import { logTail } from './processes.ts';

export class FailureLogReporter implements Reporter {
  onTestRunEnd(_modules: unknown, _errors: unknown, reason: TestRunEndReason): void {
    const runDir = process.env.TAGGUARD_TEST_RUN_DIR;
    if (reason !== 'failed' || !runDir) return;
    const logs = readdirSync(runDir).filter((f) => f.endsWith('.log'));
    for (const log of logs) {
      process.stderr.write(`\n----- ${log} (last 40 lines; full log: ${join(runDir, log)}) -----\n`);
      process.stderr.write(`${logTail(join(runDir, log))}\n`);
    }
  }
}

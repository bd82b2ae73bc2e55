// Vitest global setup of the integration project: starts the real test environment once per run and
// hands its description to the tests (inject('testEnv')).
import type { TestProject } from 'vitest/node';
import { startTestEnv, type TestEnvInfo } from './test-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testEnv: TestEnvInfo;
  }
}

export const setup = async (project: TestProject): Promise<() => Promise<void>> => {
  const env = await startTestEnv();
  // Read by the failure reporter (same process) to print the servers' logs when a test fails.
  process.env.TAGGUARD_TEST_RUN_DIR = env.info.runDir;
  project.provide('testEnv', env.info);
  return () => env.stop();
};

// Two projects: unit (pure logic, network blocked) and integration (real API server and registries,
// started once by test/env/global-setup.ts).
import { defineConfig } from 'vitest/config';
import { FailureLogReporter } from './test/env/failure-log-reporter.ts';
import { SummaryReporter } from './test/support/summary-reporter.ts';

export default defineConfig({
  test: {
    reporters: ['default', new FailureLogReporter(), new SummaryReporter()],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**', 'test/e2e/**', 'node_modules/**'],
          setupFiles: ['test/support/no-network.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
    ],
  },
});

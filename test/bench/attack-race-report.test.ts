// The attack-race benchmark's counting (bench/attack-race): what makes a stored Deployment "the attacker's",
// and how trial results become a row (errors apart, medians of odd and even counts).
import { describe, expect, it } from 'vitest';
import { summarize } from '../../bench/attack-race/report.ts';
import { isMalicious } from '../../bench/attack-race/scenario.ts';
import type { Stored } from '../../bench/attack-race/recorder.ts';
import type { TrialResult } from '../../bench/attack-race/trial.ts';

const deployment = (initContainers?: unknown[]): Stored => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  spec: {
    template: { spec: { containers: [{ name: 'app' }], ...(initContainers ? { initContainers } : {}) } },
  },
});

const trial = (result: Partial<TrialResult>): TrialResult => ({
  scenario: 'oci-helmrelease',
  mode: 'default',
  index: 0,
  ns: 'ns',
  applied: false,
  reachedSource: false,
  pinnedBefore: false,
  ...result,
});

describe('attack-race counting', () => {
  it("a Deployment is the attacker's when an init container is privileged, not merely present", () => {
    expect(isMalicious(deployment([{ name: 'setup', securityContext: { privileged: true } }]))).toBe(true);
    expect(isMalicious(deployment([{ name: 'setup', securityContext: { privileged: false } }]))).toBe(false);
    expect(isMalicious(deployment([{ name: 'setup' }]))).toBe(false);
    expect(isMalicious(deployment())).toBe(false);
    expect(isMalicious({ apiVersion: 'apps/v1', kind: 'Deployment' })).toBe(false);
  });

  it('counts attacks without the errored trials and takes medians of odd and even counts', () => {
    const [row, pin] = summarize(
      [
        trial({ applied: true, appliedS: 8, reachedSource: true, detectS: 9, holdS: 9 }),
        trial({ detectS: 2, holdS: 1 }),
        trial({ detectS: 4, holdS: 3 }),
        trial({ error: 'setup timed out', applied: true }),
        trial({ mode: 'pin', detectS: 5, pinnedBefore: true }),
      ],
      ['oci-helmrelease'],
      ['default', 'pin'],
    );
    expect(row).toMatchObject({ attacks: 3, errors: 1, applied: 1, reachedSource: 1 });
    expect(row?.detectS).toEqual({ n: 3, median: 4, max: 9 });
    expect(row?.appliedS).toEqual({ n: 1, median: 8, max: 8 });
    expect(pin).toMatchObject({ attacks: 1, applied: 0, holdS: null, detectS: { n: 1, median: 5, max: 5 } });
    const [even] = summarize([trial({ holdS: 1 }), trial({ holdS: 4 })], ['oci-helmrelease'], ['default']);
    expect(even?.holdS).toEqual({ n: 2, median: 2.5, max: 4 });
  });
});

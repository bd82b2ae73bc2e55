import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/conditions.ts';
import { ReconcileError } from '../../../src/controller/reconcile-error.ts';
import { buildEvents, holdEvents, verdictEvents } from '../../../src/controller/summary/events.ts';
import { check, d, object, state } from './fixtures.ts';

const reasons = (events: readonly { reason: string }[]): string[] => events.map((e) => e.reason);
const target = { apiVersion: 'v1', kind: 'OCIRepository', namespace: 'apps', name: 'payment' };

describe('verdictEvents', () => {
  it('a re-pushed tag: DigestChanged and TagMutated, then the new verdict', () => {
    const moved = check({
      moved: true,
      firstSeen: true,
      previousDigest: d(1),
      verdict: 'Untrusted',
      verification: { digest: d(2), verdict: 'Untrusted', reasons: ['SignatureMissing'], signers: [] },
    });
    expect(reasons(verdictEvents(moved, undefined))).toEqual([
      'DigestChanged',
      'TagMutated',
      'VerificationFailed',
    ]);
  });

  it('a verdict the history already has for this digest is not announced again', () => {
    const again = check({
      firstSeen: false,
      verdict: 'Trusted',
      verification: { digest: d(2), verdict: 'Trusted', reasons: [], signers: [] },
    });
    const previous = { digest: d(2), tag: '3.1.0', firstSeen: 't', verdict: 'Trusted' as const };
    expect(verdictEvents(again, previous)).toEqual([]);
  });

  it('an approval is announced once, and a failed scan counts findings by severity', () => {
    const approved = check({
      firstSeen: false,
      approved: true,
      verdict: 'Trusted',
      reason: Reason.ApprovedManually,
      scan: {
        rendered: true,
        failed: true,
        problems: [],
        findings: [{ rule: 'r', severity: 'high', resource: 'x', path: 'p', message: 'm' }],
      },
    });
    const events = verdictEvents(approved, {
      digest: d(2),
      tag: '3.1.0',
      firstSeen: 't',
      verdict: 'Untrusted',
    });
    expect(reasons(events)).toEqual(['ApprovedManually', 'ScanFailed']);
    expect(events[1]?.note).toContain('0 critical, 1 high');
    const after = {
      digest: d(2),
      tag: '3.1.0',
      firstSeen: 't',
      verdict: 'Untrusted' as const,
      reason: Reason.ApprovedManually,
    };
    expect(reasons(verdictEvents(approved, after))).not.toContain('ApprovedManually');
  });
});

describe('holdEvents', () => {
  it.each([
    ['Held', 'Warning', 'Held', 'Hold'],
    ['HoldReverted', 'Warning', 'HoldReverted', 'Hold'],
    ['PinFallback', 'Warning', 'Held', 'Hold'],
    ['Pinned', 'Normal', 'Pinned', 'Hold'],
    ['Released', 'Normal', 'Released', 'Release'],
  ] as const)('%s: one Event on the CR, one on the target naming the CR', (kind, type, reason, action) => {
    const [self, onTarget] = holdEvents({ target, kind, message: 'm' }, 'apps/payment');
    expect(self).toEqual({ target: 'self', type, reason, action, note: 'm' });
    expect(onTarget).toEqual({
      target,
      type,
      reason,
      action,
      note: 'm (by ArtifactVerification apps/payment)',
    });
  });
});

describe('buildEvents', () => {
  it('in order: PinUnavailable, verdicts, a registry error, holds', () => {
    const events = buildEvents(
      state({
        unpinnable: [{ apiVersion: 'v', kind: 'HelmRelease', namespace: 'apps', name: 'web' }],
        checks: [check({ verdict: 'Error' }), check({ digest: d(3) })],
        error: new ReconcileError('Generic', Reason.RegistryError, '503'),
        holdEvents: [{ target, kind: 'Held', message: 'held' }],
      }),
    );
    expect(reasons(events)).toEqual(['PinUnavailable', 'DigestChanged', 'RegistryError', 'Held', 'Held']);
  });

  it('PinUnavailable is not repeated while the Gated message is unchanged', () => {
    const unpinnable = [{ apiVersion: 'v', kind: 'HelmRelease', namespace: 'apps', name: 'web' }];
    const first = buildEvents(state({ unpinnable }));
    const message = first[0]?.note ?? '';
    const previous = object({
      conditions: [
        { type: 'Gated', status: 'False', reason: 'PinUnavailable', message, lastTransitionTime: 't' },
      ],
    });
    expect(buildEvents(state({ object: previous, unpinnable }))).toEqual([]);
  });
});

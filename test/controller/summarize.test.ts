import { describe, expect, it } from 'vitest';
import { summarize, MAX_FINDINGS } from '../../src/controller/summarize.ts';
import { stalled } from '../../src/controller/reconcile-error.ts';
import type { ArtifactCheck, ReconcileState } from '../../src/controller/reconcile-state.ts';
import type { ArtifactVerification } from '../../src/api/artifact-verification.ts';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const now = new Date('2026-11-23T10:00:00.000Z');

const object = (status?: ArtifactVerification['status']): ArtifactVerification => ({
  apiVersion: 'tagguard.dev/v1alpha1',
  kind: 'ArtifactVerification',
  metadata: { name: 'payment', namespace: 'apps', generation: 3, uid: 'u1' },
  spec: { sourceRef: { kind: 'OCIRepository', name: 'payment' } },
  ...(status ? { status } : {}),
});

const check = (overrides: Partial<ArtifactCheck>): ArtifactCheck => ({
  url: 'oci://registry.test/charts/payment',
  tag: '3.1.0',
  digest: d(2),
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  resolvedAt: '2026-11-23T10:00:00Z',
  previousDigest: undefined,
  moved: false,
  firstSeen: true,
  approved: false,
  ...overrides,
});

const state = (partial: Partial<ReconcileState>): ReconcileState => ({
  object: object(),
  now,
  checks: [],
  failures: [],
  heldTargets: [],
  holdEvents: [],
  ...partial,
});

const condition = (status: { conditions?: readonly { type: string }[] } | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type);

describe('summarize', () => {
  it('reports a re-pushed, unsigned tag: Ready False, Verified False, TagMutated True, Held True, Warning Events', () => {
    const previous = object({
      trustedDigest: d(1),
      history: [{ digest: d(1), tag: '3.1.0', firstSeen: '2026-11-20T00:00:00Z', verdict: 'Trusted' }],
    });
    const mutated = check({
      previousDigest: d(1),
      moved: true,
      verdict: 'Untrusted',
      reason: 'SignatureMissing',
      message: 'release-key: no signature',
      verification: {
        digest: d(2),
        verdict: 'Untrusted',
        reasons: ['SignatureMissing'],
        signers: [
          {
            name: 'release-key',
            type: 'cosign',
            verified: false,
            reason: 'SignatureMissing',
            message: 'no signature',
          },
        ],
      },
    });
    const held = {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      namespace: 'apps',
      name: 'payment',
      method: 'spec.suspend',
      since: '2026-11-23T10:00:00Z',
    };
    const target = {
      apiVersion: held.apiVersion,
      kind: held.kind,
      namespace: held.namespace,
      name: held.name,
    };
    const summary = summarize(
      state({
        object: previous,
        checks: [mutated],
        heldTargets: [held],
        holdEvents: [{ target, kind: 'Held', message: 'held HelmRelease apps/payment' }],
      }),
    );
    expect(summary.trusted).toBe(false);
    expect(condition(summary.status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'SignatureMissing',
      observedGeneration: 3,
    });
    expect(condition(summary.status, 'Verified')).toMatchObject({
      status: 'False',
      reason: 'SignatureMissing',
    });
    expect(condition(summary.status, 'TagMutated')).toMatchObject({ status: 'True', reason: 'TagMutated' });
    expect(condition(summary.status, 'Held')).toMatchObject({ status: 'True' });
    expect(summary.status.trustedDigest).toBe(d(1));
    expect(summary.status.history?.map((h) => [h.digest, h.verdict])).toEqual([
      [d(2), 'Untrusted'],
      [d(1), 'Trusted'],
    ]);
    expect(summary.status.lastFailure).toMatchObject({ digest: d(2), reason: 'SignatureMissing' });
    const reasons = summary.events.map(
      (e) => `${e.target === 'self' ? 'self' : e.target.kind}:${e.type}:${e.reason}`,
    );
    expect(reasons).toEqual(
      expect.arrayContaining([
        'self:Normal:DigestChanged',
        'self:Warning:TagMutated',
        'self:Warning:VerificationFailed',
        'self:Warning:Held',
        'HelmRelease:Warning:Held',
      ]),
    );
  });

  it('reports trust: Ready True, trustedDigest and verifiedAt set, no Stalled or Reconciling', () => {
    const summary = summarize(
      state({
        checks: [
          check({
            verdict: 'Trusted',
            verification: {
              digest: d(2),
              verdict: 'Trusted',
              reasons: [],
              signers: [{ name: 'k', type: 'cosign', format: 'legacy', verified: true, message: 'ok' }],
            },
          }),
        ],
      }),
    );
    expect(condition(summary.status, 'Ready')).toMatchObject({ status: 'True', reason: 'Trusted' });
    expect(condition(summary.status, 'Stalled')).toBeUndefined();
    expect(condition(summary.status, 'Reconciling')).toBeUndefined();
    expect(summary.status.trustedDigest).toBe(d(2));
    expect(summary.status.verifiedAt).toBe('2026-11-23T10:00:00Z');
    expect(summary.status.signers).toEqual([
      { name: 'k', type: 'cosign', format: 'legacy', verifiedAt: '2026-11-23T10:00:00Z' },
    ]);
  });

  it('stalls on a spec error and keeps what it knew', () => {
    const previous = object({
      trustedDigest: d(1),
      history: [{ digest: d(1), tag: 't', firstSeen: 'x', verdict: 'Trusted' }],
    });
    const summary = summarize(
      state({
        object: previous,
        error: stalled('CrossNamespaceRefForbidden', 'sourceRef names namespace other'),
      }),
    );
    expect(condition(summary.status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'CrossNamespaceRefForbidden',
    });
    expect(condition(summary.status, 'Stalled')).toMatchObject({ status: 'True' });
    expect(summary.status.trustedDigest).toBe(d(1));
    expect(summary.status.history).toHaveLength(1);
  });

  it(`caps findings at ${MAX_FINDINGS} and counts them all`, () => {
    const findings = Array.from({ length: 70 }, (_, i) => ({
      rule: 'run-as-root',
      severity: 'medium' as const,
      resource: `Deployment/d${i}`,
      path: 'spec',
      message: 'm',
    }));
    const summary = summarize(
      state({
        checks: [
          check({
            verdict: 'Untrusted',
            reason: 'FindingsAtThreshold',
            scan: { rendered: true, findings, failed: true, problems: [] },
          }),
        ],
      }),
    );
    expect(summary.status.findings).toHaveLength(MAX_FINDINGS);
    expect(summary.status.findingsCount).toBe(70);
    expect(summary.findingsBySeverity.medium).toBe(70);
    expect(condition(summary.status, 'Scanned')).toMatchObject({
      status: 'False',
      reason: 'FindingsAtThreshold',
    });
  });

  it('does not repeat verdict Events for a digest already judged the same way', () => {
    const previous = object({
      history: [
        { digest: d(2), tag: '3.1.0', firstSeen: 'x', verdict: 'Untrusted', reason: 'SignatureMissing' },
      ],
    });
    const summary = summarize(
      state({
        object: previous,
        checks: [
          check({
            firstSeen: false,
            verdict: 'Untrusted',
            reason: 'SignatureMissing',
            verification: { digest: d(2), verdict: 'Untrusted', reasons: ['SignatureMissing'], signers: [] },
          }),
        ],
      }),
    );
    expect(summary.events).toEqual([]);
  });
});

describe('summarize, signer times', () => {
  it('keeps the time a signer verified a digest across re-checks of the same digest', () => {
    const previous = object({
      artifact: { url: 'oci://registry.test/charts/payment', digest: d(2), resolvedAt: 'x' },
      signers: [{ name: 'k', type: 'cosign', format: 'legacy', verifiedAt: '2026-11-20T00:00:00Z' }],
    });
    const verification = {
      digest: d(2),
      verdict: 'Trusted' as const,
      reasons: [],
      signers: [
        { name: 'k', type: 'cosign' as const, format: 'legacy' as const, verified: true, message: 'ok' },
      ],
    };
    const again = summarize(
      state({ object: previous, checks: [check({ firstSeen: false, verdict: 'Trusted', verification })] }),
    );
    expect(again.status.signers?.[0]?.verifiedAt).toBe('2026-11-20T00:00:00Z');
    const other = summarize(
      state({ object: previous, checks: [check({ digest: d(3), verdict: 'Trusted', verification })] }),
    );
    expect(other.status.signers?.[0]?.verifiedAt).toBe('2026-11-23T10:00:00Z');
  });
});

import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/conditions.ts';
import { ReconcileError } from '../../../src/controller/reconcile-error.ts';
import {
  buildStatus,
  MAX_FINDINGS,
  sourceLabel,
  verifiedSigners,
} from '../../../src/controller/summary/status.ts';
import { check, d, heldTarget, object, state } from './fixtures.ts';

const verdictOf = (trusted: boolean, untrusted?: ReturnType<typeof check>) => ({ trusted, untrusted });

describe('buildStatus', () => {
  it('a trusted artifact becomes the trusted digest, verified now', () => {
    const status = buildStatus(state({ checks: [check({ verdict: 'Trusted' })] }), verdictOf(true), [], []);
    expect(status).toMatchObject({
      observedGeneration: 3,
      source: 'OCIRepository/payment',
      trustedDigest: d(2),
      verifiedAt: '2026-11-23T10:00:00Z',
      artifact: { digest: d(2), shortDigest: d(2).slice(0, 19), tag: '3.1.0' },
    });
    expect(status.lastFailure).toBeUndefined();
  });

  it('an untrusted artifact is shown and is the last failure; the trusted digest stays', () => {
    const untrusted = check({
      digest: d(3),
      verdict: 'Untrusted',
      reason: 'SignatureMissing',
      message: 'none',
    });
    const previous = object({ trustedDigest: d(1), verifiedAt: '2026-11-20T00:00:00Z' });
    const status = buildStatus(
      state({ object: previous, checks: [check({ verdict: 'Trusted' }), untrusted] }),
      verdictOf(false, untrusted),
      [],
      [],
    );
    expect(status).toMatchObject({
      trustedDigest: d(1),
      verifiedAt: '2026-11-20T00:00:00Z',
      artifact: { digest: d(3) },
      lastFailure: { digest: d(3), reason: 'SignatureMissing', message: 'none' },
    });
  });

  it('an error with nothing checked keeps the previous artifact, signers and findings', () => {
    const previous = object({
      artifact: { url: 'oci://r/x', digest: d(1), resolvedAt: 't' },
      signers: [{ name: 's', type: 'cosign', format: 'legacy', verifiedAt: 't' }],
      findings: [],
      findingsCount: 0,
    });
    const error = new ReconcileError('Generic', Reason.RegistryError, '503');
    const status = buildStatus(state({ object: previous, error }), verdictOf(false), [], []);
    expect(status).toMatchObject({
      artifact: previous.status?.artifact,
      signers: previous.status?.signers,
      findingsCount: 0,
      lastFailure: { reason: Reason.RegistryError, message: '503' },
    });
  });

  it(`caps the findings at ${MAX_FINDINGS} and counts them all; records the holds`, () => {
    const findings = Array.from({ length: 60 }, (_, i) => ({
      rule: 'r',
      severity: 'low' as const,
      resource: `x${i}`,
      path: 'p',
      message: 'm',
    }));
    const status = buildStatus(
      state({
        checks: [
          check({ verdict: 'Trusted', scan: { rendered: true, failed: false, problems: [], findings } }),
        ],
        heldTargets: [heldTarget('spec.suspend')],
      }),
      verdictOf(true),
      [],
      [],
    );
    expect(status.findings).toHaveLength(MAX_FINDINGS);
    expect(status.findingsCount).toBe(60);
    expect(status.heldTargets).toHaveLength(1);
  });

  it('names the source across namespaces, or the URL without a sourceRef', () => {
    const across = object();
    expect(
      sourceLabel({
        ...across,
        spec: { sourceRef: { kind: 'OCIRepository', name: 'p', namespace: 'flux' } },
      }),
    ).toBe('OCIRepository/flux/p');
    expect(sourceLabel({ ...across, spec: { artifact: { url: 'oci://r/x' } } })).toBe('oci://r/x');
  });

  it('a signer that verified this digest before keeps its time', () => {
    const signed = check({
      verification: {
        digest: d(2),
        verdict: 'Trusted',
        reasons: [],
        signers: [{ name: 's', type: 'cosign', verified: true, message: 'ok' }],
      },
    });
    const previous = {
      artifact: { url: 'oci://r/x', digest: d(2), resolvedAt: 't' },
      signers: [{ name: 's', type: 'cosign' as const, format: 'legacy' as const, verifiedAt: 'before' }],
    };
    expect(verifiedSigners([signed], previous, 'now')[0]?.verifiedAt).toBe('before');
    expect(verifiedSigners([signed], undefined, 'now')[0]?.verifiedAt).toBe('now');
  });
});

import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/conditions.ts';
import { stalled, waiting } from '../../../src/controller/reconcile-error.ts';
import {
  blockingHolds,
  buildConditions,
  gatedCondition,
  heldCondition,
  pinsKeepBack,
  quarantineConditions,
  scannedCondition,
  tagMutatedCondition,
  verifiedCondition,
} from '../../../src/controller/summary/conditions.ts';
import { check, d, heldTarget, now, object, state } from './fixtures.ts';

const types = (conditions: readonly { type: string }[]): string[] => conditions.map((c) => c.type);
const find = (conditions: readonly { type: string; reason: string }[], type: string) =>
  conditions.find((c) => c.type === type);

describe('condition builders', () => {
  it('Verified: the first failing verification names its reason and signers', () => {
    const failing = check({
      verification: {
        digest: d(2),
        verdict: 'Untrusted',
        reasons: ['UntrustedSigner'],
        signers: [{ name: 'release', type: 'cosign', verified: false, message: 'unknown key' }],
      },
    });
    const verified = verifiedCondition([failing]);
    expect(verified).toMatchObject({ status: 'False', reason: 'UntrustedSigner' });
    expect(verified.message).toContain('release: unknown key');
  });

  it('Verified: True naming each signer once, or NoSignatureRequired without spec.verify', () => {
    const signed = check({
      verification: {
        digest: d(2),
        verdict: 'Trusted',
        reasons: [],
        signers: [{ name: 'release', type: 'cosign', verified: true, message: 'ok' }],
      },
    });
    expect(verifiedCondition([signed, signed])).toEqual({
      status: 'True',
      reason: Reason.Verified,
      message: 'signed by release',
    });
    expect(verifiedCondition([check({})]).reason).toBe(Reason.NoSignatureRequired);
  });

  it.each([
    ['no scan', undefined, 'Unknown', Reason.NotScanned],
    [
      'a clean scan',
      { rendered: true, findings: [], failed: false, problems: [] },
      'True',
      Reason.ScanPassed,
    ],
    [
      'findings at the threshold',
      { rendered: true, findings: [], failed: true, problems: [] },
      'False',
      Reason.FindingsAtThreshold,
    ],
    [
      'a failed requirement',
      { rendered: true, findings: [], failed: false, problems: ['no SBOM'] },
      'False',
      Reason.ScanRequirementFailed,
    ],
  ])('Scanned with %s', (_what, scan, status, reason) => {
    expect(scannedCondition([check(scan ? { scan } : {})])).toMatchObject({ status, reason });
  });

  it('TagMutated stays True while the moved-to digest is not trusted, False once it is', () => {
    const moved = check({ previousDigest: d(1), verdict: 'Untrusted' });
    expect(tagMutatedCondition([moved])).toMatchObject({ status: 'True', reason: Reason.TagMutated });
    expect(tagMutatedCondition([{ ...moved, verdict: 'Trusted' }])).toMatchObject({
      status: 'False',
      reason: Reason.NoMutation,
    });
  });

  it('Held: a suspension holds; a pin alone is PinnedToVerified unless pins keep something back', () => {
    const pin = heldTarget('spec.ref.digest');
    expect(heldCondition([pin], false)).toMatchObject({ status: 'False', reason: Reason.PinnedToVerified });
    expect(heldCondition([pin], true)).toMatchObject({ status: 'True', reason: Reason.Held });
    expect(heldCondition([heldTarget('spec.suspend')], false)).toMatchObject({ status: 'True' });
    expect(heldCondition([], true)).toMatchObject({ status: 'False', reason: Reason.NotHeld });
    expect(blockingHolds([pin, heldTarget('spec.suspend', 'b')], false)).toHaveLength(1);
  });

  it('pins keep back a digest other than the trusted one that is not trusted, or an unresolved one', () => {
    const trusted = object({ trustedDigest: d(1) });
    expect(
      pinsKeepBack(state({ object: trusted, checks: [check({ digest: d(1), verdict: 'Error' })] })),
    ).toBe(false);
    expect(pinsKeepBack(state({ object: trusted, checks: [check({ verdict: 'Untrusted' })] }))).toBe(true);
    const failure = { url: 'oci://r/x', tag: '1', digest: undefined, error: stalled('X', 'x') };
    expect(pinsKeepBack(state({ object: trusted, failures: [failure] }))).toBe(true);
  });

  it('Gated: unchanged when Pin did not run, Pinned when all pinned, PinUnavailable naming the rest', () => {
    expect(gatedCondition(undefined)).toBeUndefined();
    expect(gatedCondition([])).toMatchObject({ status: 'True', reason: Reason.Pinned });
    const gated = gatedCondition([{ apiVersion: 'v', kind: 'HelmRelease', namespace: 'apps', name: 'web' }]);
    expect(gated).toMatchObject({ status: 'False', reason: Reason.PinUnavailable });
    expect(gated?.message).toContain('HelmRelease/apps/web');
  });
});

describe('buildConditions', () => {
  it('a trusted reconcile: Ready True, no Stalled or Reconciling, in kstatus order', () => {
    const previous = object({
      conditions: [
        { type: 'Stalled', status: 'True', reason: 'InvalidSpec', message: 'x', lastTransitionTime: 't' },
        { type: 'Reconciling', status: 'True', reason: 'Verifying', message: 'x', lastTransitionTime: 't' },
      ],
    });
    const conditions = buildConditions(state({ object: previous, checks: [check({ verdict: 'Trusted' })] }), {
      trusted: true,
      untrusted: undefined,
    });
    expect(types(conditions)).toEqual(['Ready', 'Verified', 'Scanned', 'TagMutated', 'Held']);
    expect(find(conditions, 'Ready')).toMatchObject({ status: 'True', reason: Reason.Trusted });
  });

  it('an untrusted artifact: Ready False with its reason', () => {
    const untrusted = check({ verdict: 'Untrusted', reason: 'SignatureMissing', message: 'no signature' });
    const conditions = buildConditions(state({ checks: [untrusted] }), { trusted: false, untrusted });
    expect(find(conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'SignatureMissing' });
  });

  it.each([
    ['Stalled', stalled(Reason.UnsupportedSource, 'no artifact'), 'Stalled', Reason.UnsupportedSource],
    ['Waiting', waiting('SourceNotReady', 'later', 1000), 'Reconciling', Reason.Waiting],
  ])('a %s error: Ready False with its reason, and %s', (_kind, error, present, reason) => {
    const conditions = buildConditions(state({ error }), { trusted: false, untrusted: undefined });
    expect(find(conditions, 'Ready')).toMatchObject({ status: 'False', reason: error.reason });
    expect(find(conditions, present)).toMatchObject({ status: 'True', reason });
    expect(types(conditions)).not.toContain(present === 'Stalled' ? 'Reconciling' : 'Stalled');
  });

  it('nothing checked and no error: Verified, Scanned and Ready keep their previous value', () => {
    const previous = object({
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Trusted', message: 'm', lastTransitionTime: 't' },
        { type: 'Verified', status: 'True', reason: 'Verified', message: 'm', lastTransitionTime: 't' },
      ],
    });
    const conditions = buildConditions(state({ object: previous }), { trusted: false, untrusted: undefined });
    expect(find(conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Trusted' });
    expect(find(conditions, 'Verified')).toMatchObject({ reason: 'Verified' });
    expect(types(conditions)).not.toContain('Scanned');
  });

  it('the quarantine record: Ready False and Reconciling True with Verifying, Held True', () => {
    const conditions = quarantineConditions({}, 3, now, [heldTarget('spec.ref.digest')], 'verifying x');
    expect(types(conditions)).toEqual(['Ready', 'Reconciling', 'Held']);
    expect(find(conditions, 'Ready')).toMatchObject({ status: 'False', reason: Reason.Verifying });
    expect(find(conditions, 'Held')).toMatchObject({ status: 'True', reason: Reason.Held });
  });
});

// The verdict module alone: every way a digest is judged, approvals, resume policy, errors and the
// fail-closed rule, as tables over plain data (verdict.ts is pure).
import { describe, expect, it } from 'vitest';
import type { ArtifactVerificationStatus, HeldTarget } from '../../src/api/artifact-verification.ts';
import { Reason } from '../../src/api/conditions.ts';
import { asReconcileError } from '../../src/controller/fail-closed.ts';
import { ReconcileError, stalled } from '../../src/controller/reconcile-error.ts';
import type { ScanSummary } from '../../src/controller/reconcile-state.ts';
import {
  decide,
  decideEnforcement,
  isTrusted,
  judge,
  recordsVerdict,
  type CheckedDigest,
  type CheckOutcome,
  type DecisionInput,
} from '../../src/controller/verdict.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import type { VerificationResult } from '../../src/verify/types.ts';

const GOOD = `sha256:${'a'.repeat(64)}`;
const EVIL = `sha256:${'e'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;

/** A status as an earlier reconcile that trusted `digest` for tag 3.1.0 would have left it. */
const trustedStatus = (digest: string): ArtifactVerificationStatus => ({
  trustedDigest: digest,
  history: [{ digest, tag: '3.1.0', firstSeen: '2026-12-04T11:00:00Z', verdict: 'Trusted' }],
  heldTargets: [],
});

const verification = (
  verdict: VerificationResult['verdict'],
  reasons: string[] = [],
): VerificationResult => ({
  digest: EVIL,
  verdict,
  reasons: reasons as VerificationResult['reasons'],
  signers: [
    {
      name: 'release-key',
      type: 'cosign',
      verified: verdict === 'Trusted',
      message: verdict === 'Trusted' ? 'verified' : 'no signature',
    },
  ] as VerificationResult['signers'],
});

const scan = (failed: boolean, problems: string[] = []): ScanSummary => ({
  rendered: true,
  findings: failed
    ? [{ rule: 'privileged', severity: 'critical', resource: 'Deployment/x', path: 'spec', message: 'm' }]
    : [],
  failed,
  problems,
});

const held = (method: HeldTarget['method']): HeldTarget => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'OCIRepository',
  namespace: 'apps',
  name: 'payment',
  method,
  since: '2026-12-04T11:30:00Z',
});

const boom = (): ReconcileError => new ReconcileError('Generic', Reason.RegistryError, 'blob answered 500');

describe('judge: one digest from its checks', () => {
  it.each<{ name: string; outcome: CheckOutcome; approved: boolean; want: object }>([
    { name: 'no checks configured', outcome: {}, approved: false, want: { verdict: 'Trusted' } },
    {
      name: 'signed and scanned clean',
      outcome: { verification: verification('Trusted'), scan: scan(false) },
      approved: false,
      want: { verdict: 'Trusted' },
    },
    {
      name: 'untrusted by signature',
      outcome: { verification: verification('Untrusted', ['SignatureMissing']) },
      approved: false,
      want: { verdict: 'Untrusted', reason: 'SignatureMissing', message: 'release-key: no signature' },
    },
    {
      name: 'untrusted by signature without a reason',
      outcome: { verification: verification('Untrusted') },
      approved: false,
      want: { verdict: 'Untrusted', reason: Reason.SignatureInvalid },
    },
    {
      name: 'untrusted by signature although the scan passed',
      outcome: { verification: verification('Untrusted', ['UntrustedSigner']), scan: scan(true) },
      approved: false,
      want: { verdict: 'Untrusted', reason: 'UntrustedSigner' },
    },
    {
      name: 'untrusted by findings',
      outcome: { verification: verification('Trusted'), scan: scan(true) },
      approved: false,
      want: { verdict: 'Untrusted', reason: Reason.FindingsAtThreshold, message: '1 finding(s)' },
    },
    {
      name: 'untrusted by a scan requirement',
      outcome: { scan: scan(false, ['no SBOM']) },
      approved: false,
      want: { verdict: 'Untrusted', reason: Reason.ScanRequirementFailed, message: '0 finding(s); no SBOM' },
    },
    {
      name: 'signatures that could not be read',
      outcome: { verification: verification('Error') },
      approved: false,
      want: { verdict: 'Error', reason: Reason.RegistryError, message: 'no signature' },
    },
    {
      name: 'an error while checking',
      outcome: { error: boom() },
      approved: false,
      want: { verdict: 'Error', reason: Reason.RegistryError, message: 'blob answered 500' },
    },
    {
      name: 'approved over an untrusted signature',
      outcome: { verification: verification('Untrusted', ['SignatureMissing']) },
      approved: true,
      want: { verdict: 'Trusted', reason: Reason.ApprovedManually },
    },
    {
      name: 'approved over findings',
      outcome: { scan: scan(true) },
      approved: true,
      want: { verdict: 'Trusted', reason: Reason.ApprovedManually },
    },
    {
      name: 'approved over unreadable signatures',
      outcome: { verification: verification('Error') },
      approved: true,
      want: { verdict: 'Trusted', reason: Reason.ApprovedManually },
    },
    {
      name: 'approved over an error while checking',
      outcome: { error: boom() },
      approved: true,
      want: { verdict: 'Trusted', reason: Reason.ApprovedManually, message: 'blob answered 500' },
    },
    {
      name: 'approved and passing (no reason needed)',
      outcome: { verification: verification('Trusted') },
      approved: true,
      want: { verdict: 'Trusted' },
    },
  ])('$name', ({ outcome, approved, want }) => {
    const judgement = judge(outcome, approved);
    expect(judgement).toMatchObject(want);
    if (!('reason' in want)) expect(judgement.reason).toBeUndefined();
  });

  it.each([
    ['the Kubernetes API', Object.assign(new Error('forbidden'), { code: 403 }), Reason.KubernetesError],
    ['the registry', new RegistryError('Unavailable', '503'), Reason.RegistryError],
    ['a bug', new TypeError('undefined is not a function'), Reason.InternalError],
    [
      'missing trust material',
      stalled(Reason.TrustMaterialMissing, 'no Secret'),
      Reason.TrustMaterialMissing,
    ],
  ])('an error from %s keeps its own reason', (_from, thrown, reason) => {
    expect(judge({ error: asReconcileError(thrown, 'checking') }, false)).toMatchObject({
      verdict: 'Error',
      reason,
    });
  });
});

const checked = (digest: string, outcome: CheckOutcome, approved = false): CheckedDigest => ({
  digest,
  tag: '3.1.0',
  approved,
  outcome,
});

const input = (partial: Partial<DecisionInput>): DecisionInput => ({
  status: undefined,
  action: 'Suspend',
  resume: 'Automatic',
  checked: [],
  failures: [],
  heldBefore: [],
  ...partial,
});

const failure = (digest: string | undefined) => ({
  url: 'oci://r/x',
  tag: '1',
  digest,
  error: new ReconcileError('Generic', Reason.RegistryError, '503'),
});

describe('decide: the verdicts and the enforcement of one reconcile', () => {
  const unsigned = { verification: verification('Untrusted', ['SignatureMissing']) };
  const signed = { verification: verification('Trusted') };

  it('trusted with Suspend releases', () => {
    const d = decide(input({ checked: [checked(GOOD, signed)] }));
    expect(d.enforcement).toEqual({ kind: 'Release' });
    expect(d.verdicts).toEqual([{ verdict: 'Trusted', judged: 'Trusted' }]);
  });

  it('trusted with Pin pins to the digest and the tag as a chart version', () => {
    const d = decide(input({ action: 'Pin', checked: [{ ...checked(GOOD, signed), tag: '1.0.0_b' }] }));
    expect(d.enforcement).toEqual({ kind: 'Pin', digest: GOOD, version: '1.0.0+b' });
  });

  it('trusted with Pin over several artifacts pins the first digest without a version', () => {
    const d = decide(input({ action: 'Pin', checked: [checked(GOOD, signed), checked(OTHER, signed)] }));
    expect(d.enforcement).toEqual({ kind: 'Pin', digest: GOOD, version: undefined });
  });

  it('untrusted holds and names the distrusted digest', () => {
    const d = decide(input({ checked: [checked(GOOD, signed), checked(EVIL, unsigned)] }));
    expect(d.enforcement).toEqual({ kind: 'Hold', distrusted: [EVIL] });
    expect(d.verdicts.map((v) => v.verdict)).toEqual(['Trusted', 'Untrusted']);
  });

  it('an error on a digest never trusted holds', () => {
    const d = decide(input({ status: trustedStatus(GOOD), checked: [checked(EVIL, { error: boom() })] }));
    expect(d.enforcement).toEqual({ kind: 'Hold', distrusted: [EVIL] });
    expect(d.verdicts[0]).toMatchObject({ verdict: 'Error', reason: Reason.RegistryError });
  });

  it('an error on the digest already trusted keeps the targets released (Keep)', () => {
    const d = decide(input({ status: trustedStatus(GOOD), checked: [checked(GOOD, { error: boom() })] }));
    expect(d.enforcement).toEqual({ kind: 'Keep' });
    expect(d.verdicts[0]?.verdict).toBe('Error');
  });

  it('a resolution failure of a never-trusted digest holds', () => {
    const d = decide(input({ status: trustedStatus(GOOD), failures: [failure(undefined)] }));
    expect(d.enforcement).toEqual({ kind: 'Hold', distrusted: [] });
  });

  it('a resolution failure attributed to the trusted digest keeps', () => {
    const d = decide(input({ status: trustedStatus(GOOD), failures: [failure(GOOD)] }));
    expect(d.enforcement).toEqual({ kind: 'Keep' });
  });

  it('approved over untrusted releases', () => {
    const d = decide(input({ checked: [checked(EVIL, unsigned, true)] }));
    expect(d.enforcement).toEqual({ kind: 'Release' });
    expect(d.verdicts[0]).toMatchObject({ verdict: 'Trusted', reason: Reason.ApprovedManually });
  });

  it('approved over an error releases', () => {
    const d = decide(input({ checked: [checked(EVIL, { error: boom() }, true)] }));
    expect(d.enforcement).toEqual({ kind: 'Release' });
    expect(d.verdicts[0]).toMatchObject({ verdict: 'Trusted', reason: Reason.ApprovedManually });
  });

  it('Manual resume with a suspension from before: awaiting approval, held, the checks still counted Trusted', () => {
    const d = decide(
      input({ resume: 'Manual', heldBefore: [held('spec.suspend')], checked: [checked(EVIL, signed)] }),
    );
    expect(d.enforcement).toEqual({ kind: 'Hold', distrusted: [] });
    expect(d.verdicts).toEqual([
      {
        verdict: 'Untrusted',
        reason: Reason.AwaitingApproval,
        message: `trusted again, but spec.resume is Manual: annotate tagguard.dev/approve=${EVIL} to release`,
        judged: 'Trusted',
      },
    ]);
  });

  it('Manual resume with the digest approved releases', () => {
    const d = decide(
      input({ resume: 'Manual', heldBefore: [held('spec.suspend')], checked: [checked(EVIL, signed, true)] }),
    );
    expect(d.enforcement).toEqual({ kind: 'Release' });
  });

  it('Manual resume with only a pin from before (a gate, not a hold) moves the pin', () => {
    const d = decide(
      input({
        action: 'Pin',
        resume: 'Manual',
        heldBefore: [held('spec.ref.digest')],
        checked: [checked(EVIL, signed)],
      }),
    );
    expect(d.enforcement).toMatchObject({ kind: 'Pin', digest: EVIL });
  });

  it('Manual resume with nothing held before (a quarantine of now) releases', () => {
    const d = decide(input({ resume: 'Manual', checked: [checked(EVIL, signed)] }));
    expect(d.enforcement).toEqual({ kind: 'Release' });
  });

  it('Manual resume does not turn an untrusted verdict into AwaitingApproval', () => {
    const d = decide(
      input({ resume: 'Manual', heldBefore: [held('spec.suspend')], checked: [checked(EVIL, unsigned)] }),
    );
    expect(d.verdicts[0]?.reason).toBe('SignatureMissing');
  });

  it.each([
    ['untrusted', unsigned],
    ['an error', { error: boom() }],
  ])('Warn releases every hold even when %s', (_what, outcome) => {
    const d = decide(
      input({ action: 'Warn', heldBefore: [held('spec.suspend')], checked: [checked(EVIL, outcome)] }),
    );
    expect(d.enforcement).toEqual({ kind: 'Release' });
  });

  it('nothing judged and nothing failed keeps', () => {
    expect(decide(input({})).enforcement).toEqual({ kind: 'Keep' });
  });
});

describe('isTrusted', () => {
  it.each([
    ['every verdict Trusted', [{ verdict: 'Trusted' as const }], undefined, true],
    ['one Untrusted', [{ verdict: 'Trusted' as const }, { verdict: 'Untrusted' as const }], undefined, false],
    ['an error elsewhere in the reconcile', [{ verdict: 'Trusted' as const }], boom(), false],
    ['nothing judged', [], undefined, false],
  ])('%s → %s', (_name, verdicts, error, want) => {
    expect(isTrusted(verdicts, error)).toBe(want);
  });
});

describe('recordsVerdict', () => {
  it.each([
    ['an error on the trusted digest (an outage)', GOOD, 'Error' as const, false],
    ['an error on a new digest', EVIL, 'Error' as const, true],
    ['Untrusted on the trusted digest (a revocation)', GOOD, 'Untrusted' as const, true],
    ['Trusted', EVIL, 'Trusted' as const, true],
  ])('%s → %s', (_name, digest, verdict, want) => {
    expect(recordsVerdict(trustedStatus(GOOD), digest, verdict)).toBe(want);
  });
});

describe('decideEnforcement (the fail-closed rule)', () => {
  const status = trustedStatus(GOOD);
  const failure = (digest: string | undefined) => ({
    url: 'oci://r/x',
    tag: '1',
    digest,
    error: stalled(Reason.InvalidSpec, 'x'),
  });
  it.each([
    {
      name: 'every check trusted',
      checks: [{ digest: EVIL, verdict: 'Trusted' as const }],
      failures: [],
      want: 'Release',
    },
    {
      name: 'an untrusted check',
      checks: [{ digest: GOOD, verdict: 'Untrusted' as const }],
      failures: [],
      want: 'Hold',
    },
    { name: 'a check with no verdict', checks: [{ digest: GOOD }], failures: [], want: 'Hold' },
    {
      name: 'an error on a new digest',
      checks: [{ digest: EVIL, verdict: 'Error' as const }],
      failures: [],
      want: 'Hold',
    },
    {
      name: 'an error on the trusted digest',
      checks: [{ digest: GOOD, verdict: 'Error' as const }],
      failures: [],
      want: 'Keep',
    },
    { name: 'an unresolved artifact last seen trusted', checks: [], failures: [failure(GOOD)], want: 'Keep' },
    { name: 'an unresolved artifact never seen', checks: [], failures: [failure(undefined)], want: 'Hold' },
    {
      name: 'a trusted check beside an unresolved artifact never seen',
      checks: [{ digest: GOOD, verdict: 'Trusted' as const }],
      failures: [failure(undefined)],
      want: 'Hold',
    },
    { name: 'nothing judged at all', checks: [], failures: [], want: 'Keep' },
  ])('$name → $want', ({ checks, failures, want }) => {
    expect(decideEnforcement(status, checks, failures)).toBe(want);
  });
});

// The verdict, decided here and nowhere else: from what the checks found (or the error that stopped them),
// the approvals, the resume policy and the digests trusted before, a verdict and a reason per artifact and
// what enforcement does with the targets. Pure: no I/O, no clock; the reconciler carries the decision out.
import type {
  ArtifactVerificationStatus,
  HeldTarget,
  HoldAction,
  ResumePolicy,
  Verdict,
} from '../api/artifact-verification.ts';
import { ANNOTATIONS } from '../api/artifact-verification.ts';
import { Reason } from '../api/conditions.ts';
import { isPinMethod } from '../enforce/hold-method.ts';
import type { VerificationResult } from '../verify/types.ts';
import { alreadyTrusted, type JudgementFailure } from './fail-closed.ts';
import type { ReconcileError } from './reconcile-error.ts';
import type { ScanSummary } from './reconcile-state.ts';

/** A verdict on one digest, with the reason (a condition reason) and message of one that is not Trusted. */
export interface Judgement {
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly message?: string;
}

/** What the checks of one digest gave: their results, or the error that stopped them. */
export type CheckOutcome =
  | { readonly verification?: VerificationResult; readonly scan?: ScanSummary; readonly error?: undefined }
  | { readonly error: ReconcileError };

/**
 * One digest's verdict from its checks. A signature that could not be read, or any error while checking,
 * is the verdict Error (no verdict could be reached: fail-closed); a failed signature, a finding at the
 * threshold or a failed scan requirement is Untrusted; a digest named by tagguard.dev/approve is Trusted
 * whatever the checks say (reason ApprovedManually when they did not pass).
 */
export const judge = (outcome: CheckOutcome, approved: boolean): Judgement => {
  if (outcome.error !== undefined) {
    const { error } = outcome;
    return approved
      ? { verdict: 'Trusted', reason: Reason.ApprovedManually, message: error.message }
      : { verdict: 'Error', reason: error.reason, message: error.message };
  }
  const { verification, scan } = outcome;
  const verifyFailed = verification !== undefined && verification.verdict !== 'Trusted';
  const scanFailed = scan !== undefined && (scan.failed || scan.problems.length > 0);
  if (approved)
    return verifyFailed || scanFailed
      ? { verdict: 'Trusted', reason: Reason.ApprovedManually }
      : { verdict: 'Trusted' };
  if (verification?.verdict === 'Error')
    // Signatures could not be read: no verdict on this digest. Fail closed for enforcement, retry.
    return {
      verdict: 'Error',
      reason: Reason.RegistryError,
      message: verification.signers.map((s) => s.message).join('; '),
    };
  if (verifyFailed)
    return {
      verdict: 'Untrusted',
      reason: verification.reasons[0] ?? Reason.SignatureInvalid,
      message: verification.signers.map((s) => `${s.name}: ${s.message}`).join('; '),
    };
  if (scan !== undefined && scanFailed)
    return {
      verdict: 'Untrusted',
      reason: scan.failed ? Reason.FindingsAtThreshold : Reason.ScanRequirementFailed,
      message: `${scan.findings.length} finding(s)${scan.problems.length ? `; ${scan.problems.join('; ')}` : ''}`,
    };
  return { verdict: 'Trusted' };
};

/** What enforcement does after the checks: hold, release (trusted), or leave every target as it is. */
export type EnforcementDecision = 'Hold' | 'Release' | 'Keep';

/** Whether an error on this digest holds the targets: always, unless the digest was already trusted. */
export const errorHolds = (
  status: ArtifactVerificationStatus | undefined,
  digest: string | undefined,
): boolean => !alreadyTrusted(status, digest);

/**
 * The fail-closed rule for one reconcile. `checks` are the artifacts judged (verdict per digest), `failures`
 * those that could not be resolved. Any Untrusted verdict holds; an Error (a check's or a failure's) holds
 * unless its digest was already trusted, which keeps a registry outage from holding what is already
 * running; an Error that does not hold leaves the targets as they are (a release needs every artifact
 * trusted now).
 */
export const decideEnforcement = (
  status: ArtifactVerificationStatus | undefined,
  checks: readonly { readonly digest: string; readonly verdict?: Verdict | undefined }[],
  failures: readonly JudgementFailure[],
): EnforcementDecision => {
  if (checks.some((c) => c.verdict === 'Untrusted' || c.verdict === undefined)) return 'Hold';
  const errors = [
    ...checks.filter((c) => c.verdict === 'Error').map((c) => c.digest),
    ...failures.map((f) => f.digest),
  ];
  if (errors.some((digest) => errorHolds(status, digest))) return 'Hold';
  if (errors.length > 0) return 'Keep';
  return checks.length > 0 ? 'Release' : 'Keep';
};

/**
 * What is done to the targets. Hold names the digests judged not Trusted now: a pin at one of them would
 * protect nothing, so Pin falls back to Suspend. Pin moves the pins to the trusted digest (and version, for
 * version pins); Release releases every hold; Keep leaves the targets as they are.
 */
export type Enforcement =
  | { readonly kind: 'Keep' }
  | { readonly kind: 'Hold'; readonly distrusted: readonly string[] }
  | { readonly kind: 'Pin'; readonly digest: string; readonly version: string | undefined }
  | { readonly kind: 'Release' };

/** One artifact whose checks ran in this reconcile. */
export interface CheckedDigest {
  readonly digest: string;
  readonly tag: string | undefined;
  /** tagguard.dev/approve names this digest. */
  readonly approved: boolean;
  readonly outcome: CheckOutcome;
}

export interface DecisionInput {
  readonly status: ArtifactVerificationStatus | undefined;
  readonly action: HoldAction;
  readonly resume: ResumePolicy;
  readonly checked: readonly CheckedDigest[];
  readonly failures: readonly JudgementFailure[];
  /** What was held before this reconcile (not the quarantine of a digest judged now). */
  readonly heldBefore: readonly HeldTarget[];
}

/** One artifact's verdict: what the status records, and what its checks alone said (the metric counts it). */
export interface ArtifactVerdict extends Judgement {
  readonly judged: Verdict;
}

export interface Decision {
  /** In the order of `checked`. */
  readonly verdicts: readonly ArtifactVerdict[];
  readonly enforcement: Enforcement;
}

/**
 * The verdicts and the enforcement of one reconcile. Warn releases every hold whatever the verdicts. With
 * spec.resume Manual, a return to trust does not release a hold (other than a pin) that was there before
 * this reconcile until a person approves the digest: the verdict is then Untrusted, AwaitingApproval, and
 * the targets stay held. A quarantine of a digest judged just now was never a hold of an untrusted digest
 * and is released.
 */
export const decide = (input: DecisionInput): Decision => {
  const { status, action, checked } = input;
  const judged: ArtifactVerdict[] = checked.map((c) => {
    const judgement = judge(c.outcome, c.approved);
    return { ...judgement, judged: judgement.verdict };
  });
  if (action === 'Warn') return { verdicts: judged, enforcement: { kind: 'Release' } };
  const decision = decideEnforcement(
    status,
    checked.map((c, i) => ({ digest: c.digest, verdict: judged[i]?.verdict })),
    input.failures,
  );
  if (decision === 'Keep') return { verdicts: judged, enforcement: { kind: 'Keep' } };
  if (decision === 'Hold')
    return {
      verdicts: judged,
      enforcement: {
        kind: 'Hold',
        distrusted: checked.filter((_, i) => judged[i]?.verdict !== 'Trusted').map((c) => c.digest),
      },
    };
  const awaitingApproval =
    input.resume === 'Manual' &&
    input.heldBefore.some((t) => !isPinMethod(t.method)) &&
    !checked.every((c) => c.approved);
  if (awaitingApproval)
    return {
      verdicts: checked.map((c, i) => ({
        verdict: 'Untrusted',
        reason: Reason.AwaitingApproval,
        message: `trusted again, but spec.resume is Manual: annotate ${ANNOTATIONS.approve}=${c.digest} to release`,
        judged: judged[i]?.judged ?? 'Trusted',
      })),
      enforcement: { kind: 'Hold', distrusted: [] },
    };
  const trusted = checked[0];
  if (action === 'Pin' && trusted !== undefined)
    return {
      verdicts: judged,
      enforcement: {
        kind: 'Pin',
        digest: trusted.digest,
        // The chart version of a trusted tag, for version pins (Helm pushes 1.0.0+b as tag 1.0.0_b).
        version: checked.length === 1 ? trusted.tag?.replace(/_/g, '+') : undefined,
      },
    };
  return { verdicts: judged, enforcement: { kind: 'Release' } };
};

/** The CR is trusted now: every artifact judged Trusted and no error anywhere in the reconcile. */
export const isTrusted = (
  verdicts: readonly { readonly verdict?: Verdict | undefined }[],
  error: ReconcileError | undefined,
): boolean => error === undefined && verdicts.length > 0 && verdicts.every((v) => v.verdict === 'Trusted');

/**
 * Whether this verdict goes into the digest's history. An error on a digest trusted before is an outage,
 * not a new verdict: its history keeps Trusted, so the next failure is judged the same way.
 */
export const recordsVerdict = (
  status: ArtifactVerificationStatus | undefined,
  digest: string,
  verdict: Verdict,
): boolean => !(verdict === 'Error' && alreadyTrusted(status, digest));

// The status fields besides conditions and history: the artifact shown, the trusted digest and when it was
// verified, the signers, the findings (at most 50, each field cut to the CRD's limits), the held targets and
// the last failure. Fields nothing in this reconcile spoke to keep their previous value. Pure.
import type {
  ArtifactVerificationStatus,
  Condition,
  Finding,
  HistoryEntry,
  SignerStatus,
} from '../../api/artifact-verification.ts';
import { Reason } from '../../api/conditions.ts';
import type { ArtifactCheck, ReconcileState } from '../reconcile-state.ts';
import { clip, shortDigest, stampOf } from './format.ts';

export const MAX_FINDINGS = 50;

const clipFinding = (f: Finding): Finding => ({
  rule: clip(f.rule, 63),
  severity: f.severity,
  resource: clip(f.resource, 512),
  path: clip(f.path, 1024),
  message: clip(f.message, 4096),
});

/** status.source: Kind/name of the GitOps object (Kind/namespace/name across namespaces), or the URL. */
export const sourceLabel = (object: ReconcileState['object']): string => {
  const ref = object.spec.sourceRef;
  if (!ref) return object.spec.artifact?.url ?? '';
  const namespace = ref.namespace ?? object.metadata.namespace;
  return namespace === object.metadata.namespace
    ? `${ref.kind}/${ref.name}`
    : `${ref.kind}/${namespace ?? ''}/${ref.name}`;
};

/** The signers that verified, each keeping the time it first verified this digest (no churn per reconcile). */
export const verifiedSigners = (
  checks: readonly ArtifactCheck[],
  previous: ArtifactVerificationStatus | undefined,
  stamp: string,
): SignerStatus[] =>
  checks.flatMap(
    (c) =>
      c.verification?.signers
        .filter((s) => s.verified)
        .map((s) => ({
          name: s.name,
          type: s.type,
          format: s.format ?? 'legacy',
          ...(s.identity ? { identity: clip(s.identity, 1024) } : {}),
          verifiedAt:
            (c.digest === previous?.artifact?.digest
              ? previous.signers?.find((p) => p.name === s.name && p.format === (s.format ?? 'legacy'))
                  ?.verifiedAt
              : undefined) ?? stamp,
        })) ?? [],
  );

export const buildStatus = (
  state: ReconcileState,
  verdict: { readonly trusted: boolean; readonly untrusted: ArtifactCheck | undefined },
  conditions: Condition[],
  history: HistoryEntry[],
): ArtifactVerificationStatus => {
  const { object, now, checks, error } = state;
  const { trusted, untrusted } = verdict;
  const previous = object.status;
  const generation = object.metadata.generation;
  const stamp = stampOf(now);
  const allFindings = checks.flatMap((c) => c.scan?.findings ?? []);
  const shown = untrusted ?? checks[0];
  const previouslyTrusted = previous?.trustedDigest;
  const trustedDigest = trusted ? checks[0]?.digest : previouslyTrusted;
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions,
    source: sourceLabel(object),
    ...(shown
      ? {
          artifact: {
            url: shown.url,
            ...(shown.tag ? { tag: shown.tag } : {}),
            digest: shown.digest,
            shortDigest: shortDigest(shown.digest),
            mediaType: shown.mediaType,
            // When the tag was first seen at this digest: the poller's later looks are not news, and
            // recording each would write the status of an unchanged CR every interval (issue 17).
            resolvedAt:
              previous?.artifact?.digest === shown.digest &&
              previous.artifact.url === shown.url &&
              previous.artifact.tag === shown.tag
                ? previous.artifact.resolvedAt
                : shown.resolvedAt,
          },
        }
      : previous?.artifact
        ? { artifact: previous.artifact }
        : {}),
    ...(trustedDigest ? { trustedDigest } : {}),
    ...(trusted
      ? {
          verifiedAt:
            trustedDigest === previouslyTrusted && previous?.verifiedAt ? previous.verifiedAt : stamp,
        }
      : previous?.verifiedAt
        ? { verifiedAt: previous.verifiedAt }
        : {}),
    ...(checks.length > 0
      ? {
          signers: verifiedSigners(checks, previous, stamp),
          findings: allFindings.slice(0, MAX_FINDINGS).map(clipFinding),
          findingsCount: allFindings.length,
        }
      : {
          ...(previous?.signers ? { signers: previous.signers } : {}),
          ...(previous?.findings ? { findings: previous.findings } : {}),
          ...(previous?.findingsCount !== undefined ? { findingsCount: previous.findingsCount } : {}),
        }),
    heldTargets: state.heldTargets,
    history,
    ...(untrusted
      ? {
          lastFailure: {
            digest: untrusted.digest,
            reason: untrusted.reason ?? Reason.Untrusted,
            message: clip(untrusted.message ?? '', 32768),
            time: stamp,
          },
        }
      : error
        ? { lastFailure: { reason: error.reason, message: clip(error.message, 32768), time: stamp } }
        : previous?.lastFailure
          ? { lastFailure: previous.lastFailure }
          : {}),
  };
};

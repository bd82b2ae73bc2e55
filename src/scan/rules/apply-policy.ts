// Applies the policy to findings: exceptions remove findings, failOn decides whether what is left fails.
import type { FailOn, Finding, ScanException } from '../../api/artifact-verification.ts';
import { atOrAbove } from './rule-catalog.ts';

export const DEFAULT_FAIL_ON: FailOn = 'high';

/** Without a namespace, an exception's "Kind/name" matches that resource in any namespace. */
const matches = (exception: ScanException, finding: Finding): boolean => {
  if (exception.rule !== finding.rule && exception.rule !== '*') return false;
  if (exception.resource === undefined || exception.resource === finding.resource) return true;
  const withoutNamespace = finding.resource.split('/').slice(-2).join('/');
  return exception.resource.split('/').length === 2 && exception.resource === withoutNamespace;
};

export const applyExceptions = (
  findings: readonly Finding[],
  exceptions: readonly ScanException[] = [],
): { kept: Finding[]; suppressed: number } => {
  const kept = findings.filter((finding) => !exceptions.some((exception) => matches(exception, finding)));
  return { kept, suppressed: findings.length - kept.length };
};

export const failsAt = (findings: readonly Finding[], failOn: FailOn = DEFAULT_FAIL_ON): boolean =>
  failOn !== 'none' && findings.some((finding) => atOrAbove(finding.severity, failOn));

import type { RuleParameters } from './parameters.js';
import type { IamUser } from './user.js';
import { type ComplianceType, evaluateUser, notApplicable, type Verdict } from './verdict.js';

/** A result Config already holds for this rule and one resource. */
export interface RecordedResult {
  readonly resourceId: string;
  readonly compliance: ComplianceType | 'INSUFFICIENT_DATA';
  readonly annotation: string | undefined;
}

/** One decision of the sweep, and whether it must be reported. */
export interface SweepDecision {
  readonly resourceId: string;
  readonly userName: string | undefined;
  readonly verdict: Verdict;
  /** new: no result yet; changed: verdict or annotation differs; stale: the user no longer exists. */
  readonly change: 'new' | 'changed' | 'unchanged' | 'stale';
}

/**
 * Decides the periodic sweep: a verdict for every user that exists, compared with what Config already holds,
 * and NOT_APPLICABLE for recorded users that no longer exist. Config charges per recorded evaluation, so
 * only new, changed and stale results are to be reported; an unchanged account costs nothing.
 */
export function planSweep(
  users: readonly IamUser[],
  params: RuleParameters,
  recorded: ReadonlyMap<string, RecordedResult>,
): SweepDecision[] {
  const decisions: SweepDecision[] = [];
  const present = new Set<string>();
  for (const user of users) {
    present.add(user.userId);
    const verdict = evaluateUser(user, params);
    const previous = recorded.get(user.userId);
    const change =
      previous === undefined
        ? 'new'
        : previous.compliance === verdict.compliance && (previous.annotation ?? '') === verdict.annotation
          ? 'unchanged'
          : 'changed';
    decisions.push({ resourceId: user.userId, userName: user.userName, verdict, change });
  }
  for (const previous of recorded.values()) {
    if (present.has(previous.resourceId) || previous.compliance === 'NOT_APPLICABLE') continue;
    decisions.push({
      resourceId: previous.resourceId,
      userName: undefined,
      verdict: notApplicable('The IAM user no longer exists.'),
      change: 'stale',
    });
  }
  return decisions;
}

import { isAwsManagedPolicyArn, type ManagedPolicyRef } from './user.js';

/** PutEvaluations rejects an Annotation longer than this. @see https://docs.aws.amazon.com/config/latest/APIReference/API_Evaluation.html */
export const ANNOTATION_MAX_LENGTH = 256;

/** One policy attached directly to a user, as the annotation names it. */
export interface DirectPolicy {
  readonly kind: 'managed' | 'inline';
  readonly name: string;
  readonly arn?: string;
}

/** AWS managed policies that grant administrative or identity-changing power: worth reading first. */
const PRIVILEGED_AWS_POLICIES = new Set([
  'AdministratorAccess',
  'PowerUserAccess',
  'IAMFullAccess',
  'AWSOrganizationsFullAccess',
]);

/**
 * Orders direct policies most important first: privileged AWS managed policies (admin, power user, full
 * access), then inline policies (invisible outside the user and never reviewed as a reusable policy), then
 * customer managed policies, then the remaining AWS managed policies. Ties keep name order so that the
 * annotation is stable between evaluations and unchanged results are not re-reported.
 */
export function rankDirectPolicies(
  managed: readonly ManagedPolicyRef[],
  inlineNames: readonly string[],
): DirectPolicy[] {
  const rank = (p: DirectPolicy): number => {
    if (p.kind === 'inline') return 1;
    const aws = p.arn !== undefined && isAwsManagedPolicyArn(p.arn);
    if (aws && (PRIVILEGED_AWS_POLICIES.has(p.name) || p.name.endsWith('FullAccess'))) return 0;
    return aws ? 3 : 2;
  };
  const all: DirectPolicy[] = [
    ...managed.map((m) => ({ kind: 'managed' as const, name: m.policyName, arn: m.policyArn })),
    ...inlineNames.map((name) => ({ kind: 'inline' as const, name })),
  ];
  return all.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, 'en'));
}

/**
 * Lists as many items as fit in `budget` characters after `prefix`, then "(+N more)" for the rest.
 * At least the first item is always named, shortened with "…" if it alone is too long.
 */
export function fitList(prefix: string, items: readonly string[], budget: number, suffix = ''): string {
  const fixed = prefix.length + suffix.length;
  let shown = 0;
  let body = '';
  for (const item of items) {
    const next = shown === 0 ? item : `${body}, ${item}`;
    const remaining = items.length - shown - 1;
    const more = remaining > 0 ? ` (+${remaining} more)` : '';
    if (fixed + next.length + more.length > budget) break;
    body = next;
    shown += 1;
  }
  if (shown === 0 && items.length > 0) {
    const more = items.length > 1 ? ` (+${items.length - 1} more)` : '';
    const room = Math.max(1, budget - fixed - more.length - 1);
    return clip(`${prefix}${(items[0] ?? '').slice(0, room)}…${more}${suffix}`, budget);
  }
  const hidden = items.length - shown;
  return clip(`${prefix}${body}${hidden > 0 ? ` (+${hidden} more)` : ''}${suffix}`, budget);
}

/** Guarantees the limit whatever the inputs were: the last character becomes "…" when cut. */
export function clip(text: string, max = ANNOTATION_MAX_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

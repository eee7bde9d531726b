import type { RuleParameters } from '../rule/parameters.js';
import type { IamUser } from '../rule/user.js';
import { type Exemption, evaluateUser, type Verdict } from '../rule/verdict.js';
import { IAM_USER_NO_POLICIES_CHECK, type IacAttachment, type IacUserCandidate } from './candidate.js';

/** One user found in infrastructure code, with the verdict the Config rule would give it once deployed. */
export interface IacFinding {
  readonly candidate: IacUserCandidate;
  /** The user exactly as the verdict judged it. */
  readonly user: IamUser;
  readonly verdict: Verdict;
}

/**
 * Judges every candidate with the rule's own verdict (`evaluateUser`) and parameters, so that check-template,
 * the CDK Aspect and the deployed Config rule agree. A Guard suppression becomes a visible exemption: on the
 * user's resource, or on every resource that attaches a counted policy. When the name may take several values
 * (Fn::If), the user is judged under each and the worst verdict is kept.
 */
export function judgeCandidates(
  candidates: readonly IacUserCandidate[],
  params: RuleParameters,
): IacFinding[] {
  return candidates.map((candidate) => {
    const user: IamUser = {
      ...candidate.user,
      managedPolicies: uniqueBy(
        candidate.attachments
          .filter((a) => a.kind === 'managed')
          .map((a) => ({ policyName: a.name, policyArn: a.arn ?? '(unknown)' })),
        (p) => p.policyName.toLowerCase(),
      ),
      inlinePolicyNames: uniqueBy(
        candidate.attachments.filter((a) => a.kind === 'inline').map((a) => a.name),
        (n) => n.toLowerCase(),
      ),
    };
    const suppression = suppressionOf(candidate, params);
    const verdicts = [candidate.user.userName, ...candidate.otherNames].map((userName) => ({
      user: { ...user, userName },
      verdict: evaluateUser({ ...user, userName }, params, suppression),
    }));
    const worst = verdicts.find((v) => v.verdict.compliance === 'NON_COMPLIANT') ?? verdicts[0];
    return { candidate, user: worst?.user ?? user, verdict: worst?.verdict ?? evaluateUser(user, params) };
  });
}

function suppressionOf(candidate: IacUserCandidate, params: RuleParameters): Exemption | undefined {
  const where = candidate.address ?? candidate.user.userName;
  if (candidate.suppressed) {
    return {
      kind: 'suppressed',
      by: `Metadata guard.SuppressedRules ${IAM_USER_NO_POLICIES_CHECK} on ${where}`,
    };
  }
  const counted = candidate.attachments.filter((a) => counts(a, params));
  if (counted.length > 0 && counted.every((a) => a.suppressed === true)) {
    const resources = [...new Set(counted.map((a) => a.from))].join(', ');
    return {
      kind: 'suppressed',
      by: `Metadata guard.SuppressedRules ${IAM_USER_NO_POLICIES_CHECK} on ${resources}`,
    };
  }
  return undefined;
}

function counts(a: IacAttachment, params: RuleParameters): boolean {
  return a.kind === 'managed' ? params.checkManagedPolicies : params.checkInlinePolicies;
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

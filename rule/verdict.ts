import { ANNOTATION_MAX_LENGTH, clip, type DirectPolicy, fitList, rankDirectPolicies } from './annotation.js';
import type { RuleParameters } from './parameters.js';
import { type IamUser, sameIamName, tagValue } from './user.js';

/** The compliance types this rule reports. @see https://docs.aws.amazon.com/config/latest/APIReference/API_Evaluation.html */
export type ComplianceType = 'COMPLIANT' | 'NON_COMPLIANT' | 'NOT_APPLICABLE';

/** Why a user is exempt, kept visible in the annotation so that auditors see every exception. */
export type Exemption =
  | { readonly kind: 'user-name' }
  | { readonly kind: 'path'; readonly prefix: string }
  | { readonly kind: 'tag'; readonly tagKey: string; readonly reason: string }
  | { readonly kind: 'ses-smtp-user' }
  | { readonly kind: 'suppressed'; readonly by: string };

/** The outcome for one user: what Config records, and the facts behind it for logs, tables and SARIF. */
export interface Verdict {
  readonly compliance: ComplianceType;
  /** At most ANNOTATION_MAX_LENGTH characters. */
  readonly annotation: string;
  /** The direct policies the rule counts against the user, most important first. */
  readonly directPolicies: readonly DirectPolicy[];
  /** Set when requiredGroupName is configured and the user is not in it. */
  readonly missingRequiredGroup?: string;
  readonly exemption?: Exemption;
}

/** Names of the users Amazon SES creates for SMTP credentials. */
const SES_SMTP_USER_NAME = /^ses-smtp-user\./;

/**
 * Decides whether one IAM user carries policies directly (Security Hub IAM.2). Pure: the same user and
 * parameters always give the same verdict and annotation, which the periodic sweep relies on to report
 * only what changed. A permissions boundary is not counted: it limits, it grants nothing.
 *
 * @see https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-2
 */
export function evaluateUser(user: IamUser, params: RuleParameters, extraExemption?: Exemption): Verdict {
  const counted = rankDirectPolicies(
    params.checkManagedPolicies ? user.managedPolicies : [],
    params.checkInlinePolicies ? user.inlinePolicyNames : [],
  );
  const exemption = extraExemption ?? findExemption(user, params);
  if (exemption !== undefined) {
    const why = describeExemption(exemption);
    const annotation =
      counted.length > 0
        ? fitList(`${why} Direct policies: `, counted.map(label), ANNOTATION_MAX_LENGTH)
        : clip(why);
    return { compliance: 'COMPLIANT', annotation, directPolicies: counted, exemption };
  }

  const required = params.requiredGroupName;
  const missingRequiredGroup =
    required !== undefined && !user.groupNames.some((g) => sameIamName(g, required)) ? required : undefined;

  if (counted.length === 0 && missingRequiredGroup === undefined) {
    const unchecked = describeUnchecked(user, params);
    return {
      compliance: 'COMPLIANT',
      annotation: clip(`No policies attached directly to the user.${unchecked}`),
      directPolicies: [],
    };
  }

  const groupNote =
    missingRequiredGroup !== undefined ? `Not a member of required group ${missingRequiredGroup}. ` : '';
  const annotation =
    counted.length > 0
      ? fitList(
          `${groupNote}${counted.length} ${counted.length === 1 ? 'policy' : 'policies'} attached directly: `,
          counted.map(label),
          ANNOTATION_MAX_LENGTH,
          '. Grant them through groups.',
        )
      : clip(`${groupNote}No policies attached directly.`);
  return {
    compliance: 'NON_COMPLIANT',
    annotation,
    directPolicies: counted,
    ...(missingRequiredGroup !== undefined ? { missingRequiredGroup } : {}),
  };
}

/** The verdict for resources this rule does not judge: deleted users, out-of-scope items, other types. */
export function notApplicable(reason: string): Verdict {
  return { compliance: 'NOT_APPLICABLE', annotation: clip(reason), directPolicies: [] };
}

/** Returns the first exemption that applies, in the order the parameters are documented. */
export function findExemption(user: IamUser, params: RuleParameters): Exemption | undefined {
  if (params.exemptUserNames.some((name) => sameIamName(name, user.userName))) return { kind: 'user-name' };
  const prefix = params.exemptPathPrefixes.find((p) => user.path.startsWith(p));
  if (prefix !== undefined) return { kind: 'path', prefix };
  if (params.exemptionTagKey !== undefined) {
    const reason = tagValue(user.tags, params.exemptionTagKey)?.trim() ?? '';
    if (reason !== '') return { kind: 'tag', tagKey: params.exemptionTagKey, reason };
  }
  if (params.exemptSesSmtpUsers && SES_SMTP_USER_NAME.test(user.userName)) return { kind: 'ses-smtp-user' };
  return undefined;
}

/** The exemption in words, as the annotation shows it. */
export function describeExemption(e: Exemption): string {
  switch (e.kind) {
    case 'user-name':
      return 'Exempt: user name listed in exemptUserNames.';
    case 'path':
      return `Exempt: path matches exemptPathPrefixes ${e.prefix}.`;
    case 'tag':
      return `Exempt by tag ${e.tagKey}: ${clip(e.reason, 120)}.`;
    case 'ses-smtp-user':
      return 'Exempt: Amazon SES SMTP credential user (exemptSesSmtpUsers).';
    case 'suppressed':
      return `Exempt: suppressed by ${e.by}.`;
  }
}

function describeUnchecked(user: IamUser, params: RuleParameters): string {
  const notes: string[] = [];
  if (!params.checkManagedPolicies && user.managedPolicies.length > 0)
    notes.push(`${user.managedPolicies.length} managed not checked`);
  if (!params.checkInlinePolicies && user.inlinePolicyNames.length > 0)
    notes.push(`${user.inlinePolicyNames.length} inline not checked`);
  return notes.length > 0 ? ` (${notes.join(', ')})` : '';
}

function label(p: DirectPolicy): string {
  return `${p.name} (${p.kind})`;
}

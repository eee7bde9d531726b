import type { IamUser } from '../rule/user.js';

/** Where a finding comes from: a CloudFormation template (JSON, YAML or CDK output) or a Terraform plan. */
export type IacSource = 'cloudformation' | 'terraform';

/**
 * The rule ID CloudFormation Guard users already write in `Metadata.guard.SuppressedRules`; the same ID names
 * the AWS managed Config rule and the SARIF rule, so one suppression convention covers every tool.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/iam-user-no-policies-check.html
 */
export const IAM_USER_NO_POLICIES_CHECK = 'IAM_USER_NO_POLICIES_CHECK';

/** One policy that a template or plan attaches directly to a user, and the resource that attaches it. */
export interface IacAttachment {
  readonly kind: 'managed' | 'inline';
  /** The policy name; for a value that cannot be known before deployment, a label saying why. */
  readonly name: string;
  /** Managed policies only: the ARN as far as it is known. */
  readonly arn?: string;
  /** The resource that makes the attachment: a logical ID or a Terraform address. */
  readonly from: string;
  /** 1-based line of that resource in the file, when the file has lines worth pointing at. */
  readonly line?: number;
  /** Set when the attaching resource carries a Guard suppression for this rule. */
  readonly suppressed?: boolean;
}

/**
 * A user as infrastructure code would create or change it, before the verdict: the adapters (CloudFormation,
 * Terraform) produce these, and judgeCandidates turns each into a finding with the rule's own verdict.
 */
export interface IacUserCandidate {
  readonly source: IacSource;
  readonly file: string;
  /** The user's own resource (logical ID or Terraform address); undefined for a user defined elsewhere. */
  readonly address: string | undefined;
  readonly line?: number;
  /** The user as the verdict sees it; its policies are filled in from `attachments` when judged. */
  readonly user: Omit<IamUser, 'managedPolicies' | 'inlinePolicyNames'>;
  /** Further names the user may get (an Fn::If over UserName): the worst verdict over all of them counts. */
  readonly otherNames: readonly string[];
  readonly attachments: readonly IacAttachment[];
  /** What could not be known from the file alone, said rather than guessed. */
  readonly notes: readonly string[];
  /** The user's own resource carries a Guard suppression for this rule. */
  readonly suppressed: boolean;
}

/** The ARN's last path segment is the policy name (`arn:aws:iam::aws:policy/job-function/ViewOnlyAccess`). */
export function policyNameFromArn(arn: string): string {
  const match = /:policy\/(.+)$/.exec(arn);
  const path = match?.[1] ?? arn;
  return path.slice(path.lastIndexOf('/') + 1) || arn;
}

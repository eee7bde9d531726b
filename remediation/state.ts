/**
 * The live IAM state the migration planner decides from. Read once per run by read-state.ts (one
 * GetAccountAuthorizationDetails pass plus GetAccountSummary) and never re-checked by the planner: policy
 * documents are already URL-decoded here.
 */

/** An inline policy with its decoded JSON document, exactly as IAM stores it. */
export interface InlinePolicy {
  readonly policyName: string;
  readonly document: string;
}

/** A managed policy attachment (AWS managed or customer managed). */
export interface AttachedPolicy {
  readonly policyName: string;
  readonly policyArn: string;
}

/** The user being migrated, with everything attached to it directly. */
export interface UserState {
  readonly userName: string;
  readonly userId: string;
  readonly arn: string;
  readonly path: string;
  readonly groupNames: readonly string[];
  readonly managedPolicies: readonly AttachedPolicy[];
  readonly inlinePolicies: readonly InlinePolicy[];
  /** Tag key to value (GetAccountAuthorizationDetails' UserDetail.Tags): the rule's exemption tag, a team tag. */
  readonly tags: Readonly<Record<string, string>>;
}

/** An IAM group of the account, with its members (user names) and what it grants. */
export interface GroupState {
  readonly groupName: string;
  readonly path: string;
  readonly memberNames: readonly string[];
  readonly managedPolicies: readonly AttachedPolicy[];
  readonly inlinePolicies: readonly InlinePolicy[];
}

/** A customer managed policy with its default version's decoded document. */
export interface CustomerManagedPolicy {
  readonly policyName: string;
  readonly policyArn: string;
  readonly path: string;
  readonly defaultDocument: string | undefined;
}

/** Everything the planner looks at for one user. */
export interface AccountState {
  readonly user: UserState;
  readonly groups: readonly GroupState[];
  readonly customerPolicies: readonly CustomerManagedPolicy[];
}

/**
 * The account's IAM quotas and current usage, from GetAccountSummary: never assumed, because some are
 * adjustable and AWS may change the others.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
export interface IamQuotas {
  /** AttachedPoliciesPerGroupQuota: managed policies one group can carry (10). */
  readonly attachedPoliciesPerGroup: number;
  /** GroupsPerUserQuota: groups one user can be in (10). */
  readonly groupsPerUser: number;
  /** PolicySizeQuota: characters of a managed policy document, whitespace not counted (6,144). */
  readonly policySize: number;
  /** GroupsQuota and Groups: groups the account may have and has. */
  readonly groupsQuota: number;
  readonly groups: number;
  /** PoliciesQuota and Policies: customer managed policies the account may have and has. */
  readonly policiesQuota: number;
  readonly policies: number;
}

/** What the caller asks for. */
export interface MigrationOptions {
  /** A job-function group the operator wants the user in (joined if it exists, created if not). */
  readonly groupName?: string | undefined;
  /**
   * Existing groups outside the migration's path that the plan may join when they grant nothing the user
   * lacks. Groups under the migration's path are always joinable; any other group only when named here or
   * as groupName: membership says what a person's job is, and the migration does not decide that alone.
   */
  readonly joinableGroups?: readonly string[] | undefined;
}

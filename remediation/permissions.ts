import { LEASE_PATH } from './lease.js';
import { MIGRATION_GROUP_PATH, MIGRATION_POLICY_PATH } from './naming.js';

/** One IAM action the migration function calls, and the narrowest resource IAM lets it be scoped to. */
export interface MigrationPermission {
  readonly action: `iam:${string}`;
  /**
   * The resource ARN pattern in CloudFormation Fn::Sub syntax (${AWS::Partition}, ${AWS::AccountId}), or "*"
   * for actions that have no resource-level permissions.
   */
  readonly resource: string;
  /** Why the function needs it (docs/remediation.md's least-privilege table is checked against this). */
  readonly why: string;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, filled in by the CDK app.
const account = 'arn:${AWS::Partition}:iam::${AWS::AccountId}';
const migrationGroups = `${account}:group${MIGRATION_GROUP_PATH}*`;
const migrationPolicies = `${account}:policy${MIGRATION_POLICY_PATH}*`;
const leases = `${account}:policy${LEASE_PATH}*`;
const anyGroup = `${account}:group/*`;
const anyUser = `${account}:user/*`;

/**
 * Every IAM action the migration needs, scoped as narrowly as IAM allows: the single source of truth for
 * the function's role (infra/) and docs/remediation.md. Creating and changing groups and policies is limited to the
 * dedicated path; the user-side actions cannot be, because any user may need migrating, and joining an
 * existing role group needs AddUserToGroup on any group.
 *
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
export const MIGRATION_IAM_PERMISSIONS: readonly MigrationPermission[] = [
  {
    action: 'iam:GetAccountAuthorizationDetails',
    resource: '*',
    why: 'Reads users, groups, memberships and policy documents in one paged pass, once per run: to resolve the user ID Config passes (no IAM API takes it) and to plan (which existing groups grant only what the user has, which set groups and migrated policies exist). No resource-level permissions exist for it.',
  },
  {
    action: 'iam:ListUsers',
    resource: '*',
    why: 'Resolves the user ID Config passes to a name (no IAM API takes an ID), to take that user’s lease before the full read. A listing of the whole account: scoped to "*" like GetAccountAuthorizationDetails.',
  },
  {
    action: 'iam:GetAccountSummary',
    resource: '*',
    why: 'Reads the quotas (policies per group, groups per user, policy size, groups and policies per account) so the plan stays within them. No resource-level permissions exist for it.',
  },
  {
    action: 'iam:ListGroupsForUser',
    resource: anyUser,
    why: 'Read-back: the user is in every group it was added to, before anything is removed from it.',
  },
  {
    action: 'iam:ListAttachedGroupPolicies',
    resource: anyGroup,
    why: 'Read-back: the groups this run attached to carry exactly those policies, and the groups the user relies on (joined ones, on any path) still carry its policies.',
  },
  {
    action: 'iam:GetGroupPolicy',
    resource: anyGroup,
    why: "Read-back: a group's inline policy the user relies on for one of its own (same document) is still there.",
  },
  {
    action: 'iam:ListAttachedUserPolicies',
    resource: anyUser,
    why: 'Read-back at the end: no managed policy is left on the user.',
  },
  {
    action: 'iam:ListUserPolicies',
    resource: anyUser,
    why: 'Read-back at the end: no inline policy is left on the user.',
  },
  {
    action: 'iam:CreatePolicy',
    resource: migrationPolicies,
    why: 'Turns an inline user policy into a customer managed policy under the dedicated path; and takes a lease (an unattached policy that grants nothing, under /policy-migration/leases/) so that overlapping runs exclude each other.',
  },
  {
    action: 'iam:DeletePolicy',
    resource: migrationPolicies,
    why: 'Releases a lease; in a rollback, deletes a policy this run created (only when nothing else attaches it).',
  },
  {
    action: 'iam:ListPolicies',
    resource: '*',
    why: 'Lists the leases of one key (PathPrefix under /policy-migration/leases/) to see whether another run holds it. No resource-level permissions exist for it.',
  },
  {
    action: 'iam:GetPolicy',
    resource: leases,
    why: 'Reads who holds a lease (its description) to name that run when this one reports in-progress.',
  },
  {
    action: 'iam:ListEntitiesForPolicy',
    resource: migrationPolicies,
    why: 'Rollback only, holding the policy’s lease: a policy this run created is deleted only when no group (another run’s) attaches it.',
  },
  {
    action: 'iam:CreateGroup',
    resource: migrationGroups,
    why: 'Creates policy-set groups (and a new GroupName) under the dedicated path.',
  },
  {
    action: 'iam:DeleteGroup',
    resource: migrationGroups,
    why: 'Rollback only: deletes a group this run created.',
  },
  {
    action: 'iam:AttachGroupPolicy',
    resource: migrationGroups,
    why: "Attaches the user's policies to the groups this run created; never to any other group.",
  },
  {
    action: 'iam:GetGroup',
    resource: migrationGroups,
    why: 'Rollback only: reads the members of a group this run built before stripping it, and leaves it whole if another user (a concurrent run with the same policy set) joined it meanwhile.',
  },
  {
    action: 'iam:DetachGroupPolicy',
    resource: migrationGroups,
    why: 'Rollback only: detaches what this run attached.',
  },
  {
    action: 'iam:AddUserToGroup',
    resource: anyGroup,
    why: 'Adds the user to its new groups and to existing groups that grant nothing it lacks, which may live on any path.',
  },
  {
    action: 'iam:RemoveUserFromGroup',
    resource: anyGroup,
    why: 'Rollback only: takes the user out of groups this run added it to.',
  },
  {
    action: 'iam:DetachUserPolicy',
    resource: anyUser,
    why: 'Removes the managed policies from the user once its groups are verified to grant them.',
  },
  {
    action: 'iam:DeleteUserPolicy',
    resource: anyUser,
    why: 'Removes the inline policies from the user once its groups are verified to grant them.',
  },
  {
    action: 'iam:AttachUserPolicy',
    resource: anyUser,
    why: 'Rollback only: re-attaches a managed policy this run detached, before the user leaves any group.',
  },
  {
    action: 'iam:PutUserPolicy',
    resource: anyUser,
    why: 'Rollback only: restores an inline policy this run deleted, with its original document.',
  },
];

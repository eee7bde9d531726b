import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  GetAccountSummaryCommand,
  type GroupDetail,
  type IAMClient,
  ListUsersCommand,
  type ManagedPolicyDetail,
  type UserDetail,
} from '@aws-sdk/client-iam';
import * as z from 'zod';
import { parseOrThrow } from '../rule/schemas/config-rule-event.js';
import { sameIamName } from '../rule/user.js';
import type {
  AccountState,
  AttachedPolicy,
  CustomerManagedPolicy,
  GroupState,
  IamQuotas,
  InlinePolicy,
  UserState,
} from './state.js';

/** How the caller names the user: Config remediation passes the user ID, people pass the name. */
export type UserSelector = { readonly userId: string } | { readonly userName: string };

/** GetAccountAuthorizationDetails returns at most this many entries per page. */
const PAGE_SIZE = 1000;

/** The raw account: every user, group and customer managed policy, documents decoded. */
export interface AccountSnapshot {
  readonly users: readonly UserState[];
  readonly groups: readonly GroupState[];
  readonly customerPolicies: readonly CustomerManagedPolicy[];
}

/**
 * Reads every user, group and customer managed policy in one GetAccountAuthorizationDetails pass (paged
 * with MaxItems 1000 until IsTruncated is false; IAM may return fewer items than asked with IsTruncated
 * true). Policy documents arrive URL-encoded and the JavaScript SDK does not decode them, so they are
 * decoded here. Group members come from the users' group lists (group details carry none).
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export async function readAccountSnapshot(iam: IAMClient): Promise<AccountSnapshot> {
  const userDetails: UserDetail[] = [];
  const groupDetails: GroupDetail[] = [];
  const policyDetails: ManagedPolicyDetail[] = [];
  let marker: string | undefined;
  do {
    const page: GetAccountAuthorizationDetailsCommandOutput = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: ['User', 'Group', 'LocalManagedPolicy'],
        MaxItems: PAGE_SIZE,
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
    );
    userDetails.push(...(page.UserDetailList ?? []));
    groupDetails.push(...(page.GroupDetailList ?? []));
    policyDetails.push(...(page.Policies ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && marker === undefined) {
      throw new Error('GetAccountAuthorizationDetails said IsTruncated but returned no Marker');
    }
  } while (marker !== undefined);
  return snapshotFromDetails(userDetails, groupDetails, policyDetails);
}

/**
 * The snapshot from GetAccountAuthorizationDetails entries, however they were obtained (read above, or
 * saved by `aws iam get-account-authorization-details` for an offline design). Documents must be
 * URL-encoded, as IAM returns them.
 */
export function snapshotFromDetails(
  userDetails: readonly UserDetail[],
  groupDetails: readonly GroupDetail[],
  policyDetails: readonly ManagedPolicyDetail[],
): AccountSnapshot {
  const users = userDetails.map(toUser);
  // Group details carry no members: index the users' group lists once (names compared case-insensitively).
  const members = new Map<string, string[]>();
  for (const u of users) {
    for (const g of u.groupNames)
      members.set(g.toLowerCase(), [...(members.get(g.toLowerCase()) ?? []), u.userName]);
  }
  const groups = groupDetails.map((g) => toGroup(g, members));
  const customerPolicies = policyDetails.map(toCustomerPolicy);
  return { users, groups, customerPolicies };
}

/**
 * Reads what the planner needs for one user: the account snapshot narrowed to that user, and the quotas.
 * No IAM API takes a user ID, so an ID is resolved by scanning the users read anyway. Returns undefined
 * when no such user exists (deleted since Config recorded it, or a typo).
 */
export async function readLiveState(
  iam: IAMClient,
  selector: UserSelector,
): Promise<{ state: AccountState; quotas: IamQuotas } | undefined> {
  const [snapshot, quotas] = await Promise.all([readAccountSnapshot(iam), readIamQuotas(iam)]);
  const user = findUser(snapshot.users, selector);
  if (user === undefined) return undefined;
  return { state: { user, groups: snapshot.groups, customerPolicies: snapshot.customerPolicies }, quotas };
}

/**
 * The user a selector names: IDs are matched exactly, names without regard to case (as IAM does). An ID
 * that matches no user is tried as a name, so that an operator may type the name into IAMResourceId.
 */
export function findUser(users: readonly UserState[], selector: UserSelector): UserState | undefined {
  const byName = (name: string) => users.find((u) => sameIamName(u.userName, name));
  return 'userId' in selector
    ? (users.find((u) => u.userId === selector.userId) ?? byName(selector.userId))
    : byName(selector.userName);
}

/**
 * The name of the user with this ID, from ListUsers pages (cheaper than the full read: no policies or
 * documents), for taking the user's lease before the full read. An ID that matches no user is tried as a
 * name, as findUser does. Undefined when neither matches.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html
 */
export async function resolveUserName(iam: IAMClient, userId: string): Promise<string | undefined> {
  let byName: string | undefined;
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new ListUsersCommand({ MaxItems: PAGE_SIZE, ...(marker !== undefined ? { Marker: marker } : {}) }),
    );
    for (const u of page.Users ?? []) {
      if (u.UserId === userId) return u.UserName;
      if (u.UserName !== undefined && sameIamName(u.UserName, userId)) byName = u.UserName;
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker !== undefined);
  return byName;
}

const quotaNumber = z.number().int().nonnegative();
/** The GetAccountSummary entries the migration depends on. */
const SummaryMapSchema = z.object({
  AttachedPoliciesPerGroupQuota: quotaNumber.min(1),
  GroupsPerUserQuota: quotaNumber.min(1),
  PolicySizeQuota: quotaNumber.min(1),
  GroupsQuota: quotaNumber,
  Groups: quotaNumber,
  PoliciesQuota: quotaNumber,
  Policies: quotaNumber,
});

/**
 * The account's IAM quotas and usage from GetAccountSummary.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
 */
export async function readIamQuotas(iam: IAMClient): Promise<IamQuotas> {
  const answer = await iam.send(new GetAccountSummaryCommand({}));
  const map = parseOrThrow(SummaryMapSchema, answer.SummaryMap ?? {}, 'GetAccountSummary answer');
  return {
    attachedPoliciesPerGroup: map.AttachedPoliciesPerGroupQuota,
    groupsPerUser: map.GroupsPerUserQuota,
    policySize: map.PolicySizeQuota,
    groupsQuota: map.GroupsQuota,
    groups: map.Groups,
    policiesQuota: map.PoliciesQuota,
    policies: map.Policies,
  };
}

/** IAM returns documents URL-encoded (RFC 3986); the JavaScript SDK v3 leaves them so. */
export function decodePolicyDocument(encoded: string): string {
  return decodeURIComponent(encoded);
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`GetAccountAuthorizationDetails returned ${what} without it`);
  return value;
}

function toAttached(list: UserDetail['AttachedManagedPolicies']): AttachedPolicy[] {
  return (list ?? []).map((p) => ({
    policyArn: required(p.PolicyArn, 'an attached policy'),
    policyName: p.PolicyName ?? nameFromArn(required(p.PolicyArn, 'an attached policy')),
  }));
}

function toInline(list: UserDetail['UserPolicyList']): InlinePolicy[] {
  return (list ?? []).map((p) => ({
    policyName: required(p.PolicyName, 'an inline policy name'),
    document: decodePolicyDocument(required(p.PolicyDocument, 'an inline policy document')),
  }));
}

function toUser(u: UserDetail): UserState {
  return {
    userName: required(u.UserName, 'a user name'),
    userId: required(u.UserId, 'a user ID'),
    arn: required(u.Arn, 'a user ARN'),
    path: u.Path ?? '/',
    groupNames: u.GroupList ?? [],
    managedPolicies: toAttached(u.AttachedManagedPolicies),
    inlinePolicies: toInline(u.UserPolicyList),
    // The exemption tag of the rule, and the team tag the group design names groups after.
    tags: Object.fromEntries((u.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

function toGroup(g: GroupDetail, members: ReadonlyMap<string, readonly string[]>): GroupState {
  const groupName = required(g.GroupName, 'a group name');
  return {
    groupName,
    path: g.Path ?? '/',
    memberNames: members.get(groupName.toLowerCase()) ?? [],
    managedPolicies: toAttached(g.AttachedManagedPolicies),
    inlinePolicies: toInline(g.GroupPolicyList),
  };
}

function toCustomerPolicy(p: ManagedPolicyDetail): CustomerManagedPolicy {
  const policyArn = required(p.Arn, 'a policy ARN');
  const defaultVersion = (p.PolicyVersionList ?? []).find((v) => v.IsDefaultVersion);
  return {
    policyArn,
    // moto leaves PolicyName out of LocalManagedPolicy details; the ARN ends with it.
    policyName: p.PolicyName ?? nameFromArn(policyArn),
    path: p.Path ?? '/',
    defaultDocument:
      defaultVersion?.Document !== undefined ? decodePolicyDocument(defaultVersion.Document) : undefined,
  };
}

function nameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

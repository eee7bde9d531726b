import {
  GetAccountSummaryCommand,
  type GroupDetail,
  type IAMClient,
  ListUsersCommand,
  type ManagedPolicyDetail,
  type UserDetail,
} from '@aws-sdk/client-iam';
import * as z from 'zod';
import { forEachAuthorizationDetailsPage } from '../rule/aws/iam.js';
import { parseOrThrow } from '../rule/schemas/config-rule-event.js';
import { sameIamName, tagRecord } from '../rule/user.js';
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

/** ListUsers returns at most this many users per page. */
const LIST_USERS_PAGE_SIZE = 1000;

/** The raw account: every user, group and customer managed policy, documents decoded. */
export interface AccountSnapshot {
  readonly users: readonly UserState[];
  readonly groups: readonly GroupState[];
  readonly customerPolicies: readonly CustomerManagedPolicy[];
}

const SNAPSHOT_FILTER = ['User', 'Group', 'LocalManagedPolicy'] as const;

/**
 * Reads every user, group and customer managed policy in one GetAccountAuthorizationDetails pass (paged
 * with MaxItems 1000 until IsTruncated is false; IAM may return fewer items than asked with IsTruncated
 * true). Policy documents arrive URL-encoded and the JavaScript SDK does not decode them, so they are
 * decoded here. Group members come from the users' group lists (group details carry none). Every user's
 * documents are kept: the account-wide group design needs them all; the migration of one user reads with
 * readLiveState, which keeps only that user's.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export async function readAccountSnapshot(iam: IAMClient): Promise<AccountSnapshot> {
  const userDetails: UserDetail[] = [];
  const groupDetails: GroupDetail[] = [];
  const policyDetails: ManagedPolicyDetail[] = [];
  await forEachAuthorizationDetailsPage(iam, SNAPSHOT_FILTER, (page) => {
    userDetails.push(...(page.UserDetailList ?? []));
    groupDetails.push(...(page.GroupDetailList ?? []));
    policyDetails.push(...(page.Policies ?? []));
  });
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
  const members = new GroupMembers();
  for (const u of users) members.add(u.userName, u.groupNames);
  const groups = groupDetails.map((g) => toGroup(g, members));
  const customerPolicies = policyDetails.map(toCustomerPolicy);
  return { users, groups, customerPolicies };
}

/** Group details carry no members: the users' group lists are indexed once (names compared case-insensitively). */
class GroupMembers {
  private readonly byGroup = new Map<string, string[]>();
  add(userName: string, groupNames: readonly string[]): void {
    for (const g of groupNames) {
      const key = g.toLowerCase();
      const list = this.byGroup.get(key);
      if (list === undefined) this.byGroup.set(key, [userName]);
      else list.push(userName);
    }
  }
  of(groupName: string): readonly string[] {
    return this.byGroup.get(groupName.toLowerCase()) ?? [];
  }
}

/**
 * What an AWS user ID looks like: IAM gives every user a unique ID starting with AIDA, followed by upper-case
 * letters and digits (21 characters today). An input of this shape is only ever matched as an ID.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
 */
export const IAM_USER_ID_SHAPE = /^AIDA[A-Z0-9]{12,124}$/;

/**
 * Whether `userId` may also be read as a user name when no user has that ID. An input shaped like a user ID
 * never is: the user it named is gone (deleted since Config recorded it), and a user who happens to be
 * named that string is someone else. Other inputs (what an operator types into IAMResourceId, or an
 * emulator's IDs, which are not AIDA-shaped) fall back to the name.
 */
export function mayBeUserName(userId: string): boolean {
  return !IAM_USER_ID_SHAPE.test(userId);
}

/**
 * Reads what the planner needs for one user: that user with its documents, every group with its members
 * and documents, every customer managed policy with its default document (the plan may reuse any of them
 * by name), and the quotas. Other users are reduced to their group memberships as each page arrives, so
 * memory grows with the number of users, not with their documents. No IAM API takes a user ID, so an ID
 * is resolved from the users read anyway. Returns undefined when no such user exists (deleted since Config
 * recorded it, or a typo).
 */
export async function readLiveState(
  iam: IAMClient,
  selector: UserSelector,
): Promise<{ state: AccountState; quotas: IamQuotas } | undefined> {
  const members = new GroupMembers();
  const groupDetails: GroupDetail[] = [];
  const customerPolicies: CustomerManagedPolicy[] = [];
  const candidates: UserState[] = [];
  const wanted = selectorMatcher(selector);
  const read = forEachAuthorizationDetailsPage(iam, SNAPSHOT_FILTER, (page) => {
    for (const u of page.UserDetailList ?? []) {
      const userName = required(u.UserName, 'a user name');
      members.add(userName, u.GroupList ?? []);
      if (wanted.byId(required(u.UserId, 'a user ID')) || wanted.byName(userName)) candidates.push(toUser(u));
    }
    groupDetails.push(...(page.GroupDetailList ?? []));
    for (const p of page.Policies ?? []) customerPolicies.push(toCustomerPolicy(p));
  });
  const [quotas] = await Promise.all([readIamQuotas(iam), read]);
  const user = findUser(candidates, selector);
  if (user === undefined) return undefined;
  const groups = groupDetails.map((g) => toGroup(g, members));
  return { state: { user, groups, customerPolicies }, quotas };
}

function selectorMatcher(selector: UserSelector) {
  if ('userName' in selector) {
    return { byId: () => false, byName: (name: string) => sameIamName(name, selector.userName) };
  }
  const fallback = mayBeUserName(selector.userId);
  return {
    byId: (id: string) => id === selector.userId,
    byName: (name: string) => fallback && sameIamName(name, selector.userId),
  };
}

/**
 * The user a selector names: IDs are matched exactly, names without regard to case (as IAM does). An ID
 * that matches no user is tried as a name only when it cannot be a user ID (see mayBeUserName), so that an
 * operator may type the name into IAMResourceId but a stale ID never selects another user.
 */
export function findUser(users: readonly UserState[], selector: UserSelector): UserState | undefined {
  const byName = (name: string) => users.find((u) => sameIamName(u.userName, name));
  if ('userName' in selector) return byName(selector.userName);
  const byId = users.find((u) => u.userId === selector.userId);
  if (byId !== undefined || !mayBeUserName(selector.userId)) return byId;
  return byName(selector.userId);
}

/**
 * The name of the user with this ID, from ListUsers pages (cheaper than the full read: no policies or
 * documents), for taking the user's lease before the full read. An ID that matches no user is tried as a
 * name only when it cannot be a user ID, as findUser does. Undefined when neither matches.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html
 */
export async function resolveUserName(iam: IAMClient, userId: string): Promise<string | undefined> {
  const fallback = mayBeUserName(userId);
  let byName: string | undefined;
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new ListUsersCommand({
        MaxItems: LIST_USERS_PAGE_SIZE,
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
    );
    for (const u of page.Users ?? []) {
      if (u.UserId === userId) return u.UserName;
      if (fallback && u.UserName !== undefined && sameIamName(u.UserName, userId)) byName = u.UserName;
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
    tags: tagRecord((u.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''] as const)),
  };
}

function toGroup(g: GroupDetail, members: GroupMembers): GroupState {
  const groupName = required(g.GroupName, 'a group name');
  return {
    groupName,
    path: g.Path ?? '/',
    memberNames: members.of(groupName),
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

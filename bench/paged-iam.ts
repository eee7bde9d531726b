import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  GetAccountAuthorizationDetailsCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  type UserDetail,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { readAccountUsers } from '../rule/aws/iam.js';
import { naivePerUserScan } from './naive-scan.js';

/** IAM's page size when a request names no MaxItems. */
const IAM_DEFAULT_MAX_ITEMS = 100;

function page<T>(items: readonly T[], marker: string | undefined, maxItems: number | undefined) {
  const start = marker === undefined ? 0 : Number(marker);
  const end = start + (maxItems ?? IAM_DEFAULT_MAX_ITEMS);
  return { slice: items.slice(start, end), IsTruncated: end < items.length, next: String(end) };
}

/**
 * An IAM client that answers from a snapshot of the emulated account, but pages the way IAM does (MaxItems,
 * default 100, with Marker and IsTruncated), because moto ignores MaxItems and answers every list in one page,
 * which would hide the cost of pagination. Per-user answers come from the same snapshot.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
function pagingIamClient(users: readonly UserDetail[]) {
  const iam = new IAMClient({ region: 'us-east-1' });
  const mock = mockClient(iam);
  const byName = new Map(users.map((u) => [u.UserName, u]));
  mock.on(GetAccountAuthorizationDetailsCommand).callsFake((input) => {
    const p = page(users, input.Marker, input.MaxItems);
    return {
      UserDetailList: p.slice,
      IsTruncated: p.IsTruncated,
      ...(p.IsTruncated ? { Marker: p.next } : {}),
    };
  });
  mock.on(ListUsersCommand).callsFake((input) => {
    const p = page(users, input.Marker, input.MaxItems);
    return {
      Users: p.slice.map((u) => ({ UserName: u.UserName, UserId: u.UserId, Path: u.Path })),
      IsTruncated: p.IsTruncated,
      ...(p.IsTruncated ? { Marker: p.next } : {}),
    };
  });
  mock.on(ListAttachedUserPoliciesCommand).callsFake((input) => {
    const p = page(byName.get(input.UserName)?.AttachedManagedPolicies ?? [], input.Marker, input.MaxItems);
    return {
      AttachedPolicies: p.slice,
      IsTruncated: p.IsTruncated,
      ...(p.IsTruncated ? { Marker: p.next } : {}),
    };
  });
  mock.on(ListUserPoliciesCommand).callsFake((input) => {
    const names = (byName.get(input.UserName)?.UserPolicyList ?? []).map((p) => p.PolicyName ?? '');
    const p = page(names, input.Marker, input.MaxItems);
    return { PolicyNames: p.slice, IsTruncated: p.IsTruncated, ...(p.IsTruncated ? { Marker: p.next } : {}) };
  });
  return { iam, mock };
}

/** IAM calls of each approach when IAM pages as AWS does. */
export interface PagedIamCalls {
  /** The rule's account reader (GetAccountAuthorizationDetails, MaxItems 1,000). */
  readonly rule: number;
  /** The naive scan: ListUsers pages plus its per-user calls. */
  readonly naive: number;
}

/**
 * Counts the IAM calls of the rule's reader and of the naive scan against IAM-style paging of `users` (the
 * emulated account's real users, see `accountSnapshot`), so the count docs/performance.md quotes for AWS is measured,
 * not derived.
 */
export async function pagedIamCalls(users: readonly UserDetail[]): Promise<PagedIamCalls> {
  const forRule = pagingIamClient(users);
  const read = await readAccountUsers(forRule.iam);
  if (read.length !== users.length) throw new Error(`paged read saw ${read.length} of ${users.length} users`);
  const rule = forRule.mock.calls().length;
  forRule.mock.restore();

  const forNaive = pagingIamClient(users);
  const config = new ConfigServiceClient({ region: 'us-east-1' });
  const configMock = mockClient(config);
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  const verdicts = await naivePerUserScan(forNaive.iam, config, 'paged', new Date());
  if (verdicts.size !== users.length) throw new Error(`paged naive scan saw ${verdicts.size} users`);
  const naive = forNaive.mock.calls().length;
  forNaive.mock.restore();
  configMock.restore();
  return { rule, naive };
}

/** The account's users as GetAccountAuthorizationDetails returns them, in one uncounted call to the emulator. */
export async function accountSnapshot(source: IAMClient): Promise<UserDetail[]> {
  const answer = await source.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User'] }));
  return answer.UserDetailList ?? [];
}

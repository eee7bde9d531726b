import {
  type EntityType,
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  type IAMClient,
  type UserDetail,
} from '@aws-sdk/client-iam';
import { type IamUser, tagRecord } from '../user.js';

/** GetAccountAuthorizationDetails returns at most this many entries per page. */
export const AUTHORIZATION_DETAILS_PAGE_SIZE = 1000;

/**
 * Walks GetAccountAuthorizationDetails for the given entity types, handing each page to `onPage` as it
 * arrives and keeping nothing itself: what survives a page is what `onPage` keeps, so a caller that needs
 * names only holds names, however large the documents are. IAM may return fewer items than asked for with
 * IsTruncated true, so pages are followed until IsTruncated is false.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export async function forEachAuthorizationDetailsPage(
  iam: IAMClient,
  filter: readonly EntityType[],
  onPage: (page: GetAccountAuthorizationDetailsCommandOutput) => void,
  abortSignal?: AbortSignal,
): Promise<void> {
  let marker: string | undefined;
  do {
    const page: GetAccountAuthorizationDetailsCommandOutput = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: [...filter],
        MaxItems: AUTHORIZATION_DETAILS_PAGE_SIZE,
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
      { abortSignal },
    );
    onPage(page);
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && marker === undefined) {
      throw new Error('GetAccountAuthorizationDetails said IsTruncated but returned no Marker');
    }
  } while (marker !== undefined);
}

/**
 * Reads every IAM user's entry of GetAccountAuthorizationDetails (groups, attached and inline policies with
 * their documents, tags) in ceil(users / 1000) calls: no per-user calls. Keeps the documents: for the local
 * run's listing; the rule reads with readAccountUsers, which does not.
 */
export async function readUserDetails(iam: IAMClient): Promise<UserDetail[]> {
  const users: UserDetail[] = [];
  await forEachAuthorizationDetailsPage(iam, ['User'], (page) => {
    users.push(...(page.UserDetailList ?? []));
  });
  return users;
}

/**
 * Reads every IAM user of the account as the verdict sees it: each page is reduced to names (policy names,
 * group names, tags) as it arrives, so the documents of one page at most are held at any time. An aborted
 * `abortSignal` stops the read (the call in flight and its retries) with an AbortError.
 */
export async function readAccountUsers(iam: IAMClient, abortSignal?: AbortSignal): Promise<IamUser[]> {
  const users: IamUser[] = [];
  await forEachAuthorizationDetailsPage(
    iam,
    ['User'],
    (page) => {
      for (const detail of page.UserDetailList ?? []) users.push(toIamUser(detail));
    },
    abortSignal,
  );
  return users;
}

/**
 * A copy of a string that shares no memory with the page it was cut from: V8 may keep a substring as a view
 * of its parent, which would keep every page's XML (documents included) alive through the names kept.
 */
function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function toIamUser(u: UserDetail): IamUser {
  if (u.UserId === undefined || u.UserName === undefined) {
    throw new Error('GetAccountAuthorizationDetails returned a user without UserId or UserName');
  }
  return {
    userId: detached(u.UserId),
    userName: detached(u.UserName),
    path: detached(u.Path ?? '/'),
    groupNames: (u.GroupList ?? []).map(detached),
    managedPolicies: (u.AttachedManagedPolicies ?? []).map((p) => ({
      policyName: detached(p.PolicyName ?? ''),
      policyArn: detached(p.PolicyArn ?? ''),
    })),
    inlinePolicyNames: (u.UserPolicyList ?? []).map((p) => detached(p.PolicyName ?? '')),
    tags: tagRecord((u.Tags ?? []).map((t) => [detached(t.Key ?? ''), detached(t.Value ?? '')] as const)),
  };
}

import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  type IAMClient,
  type UserDetail,
} from '@aws-sdk/client-iam';
import type { IamUser } from '../user.js';

/** GetAccountAuthorizationDetails returns at most this many entries per page. */
export const AUTHORIZATION_DETAILS_PAGE_SIZE = 1000;

/**
 * Reads every IAM user's entry of GetAccountAuthorizationDetails (groups, attached and inline policies with
 * their documents, tags) in ceil(users / 1000) calls: no per-user calls. IAM may return fewer items than
 * asked for with IsTruncated true, so pages are followed until IsTruncated is false.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export async function readUserDetails(iam: IAMClient): Promise<UserDetail[]> {
  const users: UserDetail[] = [];
  let marker: string | undefined;
  do {
    const page: GetAccountAuthorizationDetailsCommandOutput = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: ['User'],
        MaxItems: AUTHORIZATION_DETAILS_PAGE_SIZE,
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
    );
    users.push(...(page.UserDetailList ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && marker === undefined) {
      throw new Error('GetAccountAuthorizationDetails said IsTruncated but returned no Marker');
    }
  } while (marker !== undefined);
  return users;
}

/** Reads every IAM user of the account as the verdict sees it (see readUserDetails). */
export async function readAccountUsers(iam: IAMClient): Promise<IamUser[]> {
  return (await readUserDetails(iam)).map(toIamUser);
}

function toIamUser(u: UserDetail): IamUser {
  if (u.UserId === undefined || u.UserName === undefined) {
    throw new Error('GetAccountAuthorizationDetails returned a user without UserId or UserName');
  }
  return {
    userId: u.UserId,
    userName: u.UserName,
    path: u.Path ?? '/',
    groupNames: u.GroupList ?? [],
    managedPolicies: (u.AttachedManagedPolicies ?? []).map((p) => ({
      policyName: p.PolicyName ?? '',
      policyArn: p.PolicyArn ?? '',
    })),
    inlinePolicyNames: (u.UserPolicyList ?? []).map((p) => p.PolicyName ?? ''),
    tags: Object.fromEntries((u.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

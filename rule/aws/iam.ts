import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { IamUser } from '../user.js';

/** GetAccountAuthorizationDetails returns at most this many entries per page. */
export const AUTHORIZATION_DETAILS_PAGE_SIZE = 1000;

/**
 * Reads every IAM user of the account, with groups, attached and inline policies and tags, in
 * ceil(users / 1000) GetAccountAuthorizationDetails calls: no per-user calls. IAM may return fewer items
 * than asked for with IsTruncated true, so pages are followed until IsTruncated is false.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export async function readAccountUsers(iam: IAMClient): Promise<IamUser[]> {
  const users: IamUser[] = [];
  let marker: string | undefined;
  do {
    const page: GetAccountAuthorizationDetailsCommandOutput = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: ['User'],
        MaxItems: AUTHORIZATION_DETAILS_PAGE_SIZE,
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
    );
    for (const u of page.UserDetailList ?? []) {
      if (u.UserId === undefined || u.UserName === undefined) {
        throw new Error('GetAccountAuthorizationDetails returned a user without UserId or UserName');
      }
      users.push({
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
      });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && marker === undefined) {
      throw new Error('GetAccountAuthorizationDetails said IsTruncated but returned no Marker');
    }
  } while (marker !== undefined);
  return users;
}

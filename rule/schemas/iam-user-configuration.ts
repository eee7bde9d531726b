import * as z from 'zod/mini';
import { type IamUser, tagRecord } from '../user.js';

/**
 * The `configuration` of an AWS::IAM::User configuration item. Strict on what the verdict reads (lists of
 * groups, attached managed policies and inline policies must be present as arrays: a missing list would
 * otherwise read as "no policies" and pass a user unseen), tolerant of everything else.
 *
 * @example
 * { "path": "/", "userName": "ConfigRuleTest", "userId": "AIDAABCDEFGHIJKLMNOPQ",
 *   "arn": "arn:aws:iam::123456789123:user/ConfigRuleTest", "createDate": "2023-07-13T13:03:52.000Z",
 *   "userPolicyList": [], "groupList": [], "attachedManagedPolicies": [], "permissionsBoundary": null, "tags": [] }
 * @see https://docs.aws.amazon.com/config/latest/developerguide/iam-user.html
 */
export const IamUserConfigurationSchema = z.object({
  userName: z.string().check(z.minLength(1)),
  userId: z.string().check(z.minLength(1)),
  arn: z.optional(z.string()),
  path: z._default(z.string().check(z.startsWith('/')), '/'),
  groupList: z.array(z.string()),
  attachedManagedPolicies: z.array(
    z.object({ policyName: z.string().check(z.minLength(1)), policyArn: z.string().check(z.minLength(1)) }),
  ),
  /** policyDocument is URL-encoded JSON; the verdict never reads it, and it is never logged. */
  userPolicyList: z.array(
    z.object({ policyName: z.string().check(z.minLength(1)), policyDocument: z.optional(z.string()) }),
  ),
  /** A boundary caps permissions and grants none: it is not a policy attachment. */
  permissionsBoundary: z.optional(z.unknown()),
  tags: z.pipe(
    z.nullish(z.array(z.object({ key: z.string(), value: z.nullish(z.string()) }))),
    z.transform((tags) => tags ?? []),
  ),
});
export type IamUserConfiguration = z.infer<typeof IamUserConfigurationSchema>;

/** Converts a parsed configuration into the verdict's view of a user. */
export function iamUserFromConfiguration(c: IamUserConfiguration): IamUser {
  return {
    userId: c.userId,
    userName: c.userName,
    path: c.path,
    groupNames: c.groupList,
    managedPolicies: c.attachedManagedPolicies,
    inlinePolicyNames: c.userPolicyList.map((p) => p.policyName),
    tags: tagRecord(c.tags.map((t) => [t.key, t.value ?? ''] as const)),
  };
}

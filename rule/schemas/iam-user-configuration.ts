import * as z from 'zod/mini';
import { IAM_USER_NAME } from '../parameters.js';
import { type IamUser, tagRecord } from '../user.js';

/** A managed policy ARN: AWS managed (account "aws") or customer managed (a 12-digit account). */
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/;

/** Tags as a list of key and value; null or absent on items recorded before IAM users had tags. */
const TagsSchema = z.pipe(
  z.nullish(z.array(z.object({ key: z.string(), value: z.nullish(z.string()) }))),
  z.transform((tags) => (tags ?? []).map((t) => [t.key, t.value ?? ''] as const)),
);

/**
 * The `configuration` of an AWS::IAM::User configuration item. Strict on what the verdict reads: the user
 * name and ID, the lists of groups, attached managed policies (name and ARN) and inline policy names must be
 * present with their documented types (a missing list would otherwise read as "no policies" and pass a user
 * unseen). Tolerant of everything it does not read: unknown fields are dropped, and an inline policy's
 * `policyDocument` may be a URL-encoded string, an already-parsed object (as older items and AWS's own RDK
 * examples carry it) or absent.
 *
 * @example
 * { "path": "/", "userName": "ConfigRuleTest", "userId": "AIDAABCDEFGHIJKLMNOPQ",
 *   "arn": "arn:aws:iam::123456789123:user/ConfigRuleTest", "createDate": "2023-07-13T13:03:52.000Z",
 *   "userPolicyList": [], "groupList": [], "attachedManagedPolicies": [], "permissionsBoundary": null, "tags": [] }
 * @see https://docs.aws.amazon.com/config/latest/developerguide/iam-user.html
 */
export const IamUserConfigurationSchema = z.object({
  userName: z
    .string()
    .check(z.regex(IAM_USER_NAME, 'expected an IAM user name (1-64 of letters, digits, +=,.@_-)')),
  userId: z.string().check(z.regex(/^\w{1,128}$/, 'expected an IAM user ID (letters and digits)')),
  arn: z.optional(z.unknown()),
  path: z._default(z.string().check(z.startsWith('/', 'expected an IAM path starting with "/"')), '/'),
  groupList: z.array(z.string().check(z.minLength(1))),
  attachedManagedPolicies: z.array(
    z.object({
      policyName: z.string().check(z.minLength(1)),
      policyArn: z.string().check(z.regex(POLICY_ARN, 'expected an IAM managed policy ARN')),
    }),
  ),
  /** policyDocument: the verdict never reads it, and it is never logged. */
  userPolicyList: z.array(
    z.object({ policyName: z.string().check(z.minLength(1)), policyDocument: z.optional(z.unknown()) }),
  ),
  /** A boundary caps permissions and grants none: it is not a policy attachment. */
  permissionsBoundary: z.optional(z.unknown()),
  tags: TagsSchema,
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
    tags: tagRecord(c.tags),
  };
}

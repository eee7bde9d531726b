import type { GroupDetail, ManagedPolicyDetail, UserDetail } from '@aws-sdk/client-iam';
import * as z from 'zod';
import { InputError, parseOrThrow } from '../../rule/schemas/config-rule-event.js';
import { isAwsManagedPolicyArn } from '../../rule/user.js';
import { type AccountSnapshot, snapshotFromDetails } from '../read-state.js';
import type { IamQuotas } from '../state.js';

/**
 * The offline input of `plan --input FILE`: what `aws iam get-account-authorization-details` prints, so
 * that a design can be made (and reviewed) without credentials for the account. Pure: text in, snapshot out.
 *
 * @see https://docs.aws.amazon.com/cli/latest/reference/iam/get-account-authorization-details.html
 */

/**
 * IAM's default quotas, used when the account's own (GetAccountSummary) are not at hand: a saved
 * authorization-details file does not carry them. Usage counts are taken from the file.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
export const IAM_DEFAULT_QUOTAS = {
  attachedPoliciesPerGroup: 10,
  groupsPerUser: 10,
  policySize: 6144,
  groupsQuota: 300,
  policiesQuota: 1500,
} as const;

/**
 * A policy document as the two producers write it: the AWS CLI decodes documents to JSON objects; the SDK
 * (and a file built from its answers) leaves URL-encoded strings. Plain JSON text is accepted too.
 */
const DocumentSchema = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);
const AttachedSchema = z.object({ PolicyName: z.string().optional(), PolicyArn: z.string().min(1) });
const InlineSchema = z.object({ PolicyName: z.string().min(1), PolicyDocument: DocumentSchema });
const UserSchema = z.object({
  UserName: z.string().min(1),
  UserId: z.string().min(1),
  Arn: z.string().min(1),
  Path: z.string().optional(),
  GroupList: z.array(z.string()).optional(),
  AttachedManagedPolicies: z.array(AttachedSchema).optional(),
  UserPolicyList: z.array(InlineSchema).optional(),
  Tags: z.array(z.object({ Key: z.string(), Value: z.string() })).optional(),
});
const GroupSchema = z.object({
  GroupName: z.string().min(1),
  Path: z.string().optional(),
  AttachedManagedPolicies: z.array(AttachedSchema).optional(),
  GroupPolicyList: z.array(InlineSchema).optional(),
});
const PolicySchema = z.object({
  PolicyName: z.string().optional(),
  Arn: z.string().min(1),
  Path: z.string().optional(),
  PolicyVersionList: z
    .array(z.object({ Document: DocumentSchema.optional(), IsDefaultVersion: z.boolean().optional() }))
    .optional(),
});
const FileSchema = z.object({
  UserDetailList: z.array(UserSchema),
  GroupDetailList: z.array(GroupSchema).default([]),
  Policies: z.array(PolicySchema).default([]),
  IsTruncated: z.boolean().optional(),
});

/** Back to IAM's wire form (URL-encoded text), which snapshotFromDetails decodes. */
function encoded(document: string | Record<string, unknown>, where: string): string {
  if (typeof document !== 'string') return encodeURIComponent(JSON.stringify(document));
  if (document.trimStart().startsWith('{')) return encodeURIComponent(document);
  try {
    const text = decodeURIComponent(document);
    JSON.parse(text);
  } catch {
    throw new InputError(`${where}: the policy document is neither JSON nor URL-encoded JSON`);
  }
  return document;
}

/**
 * Parses the JSON text of a saved authorization-details answer into the snapshot the design reads.
 * AWS managed policies in `Policies` (the CLI lists them unless --filter leaves them out) are dropped: the
 * design refers to them by ARN only.
 *
 * @throws InputError naming the file and the field that is wrong.
 */
export function parseAuthorizationDetails(text: string, source: string): AccountSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${source} is not valid JSON (${(error as Error).message})`);
  }
  const file = parseOrThrow(
    FileSchema,
    raw,
    `${source} (expected the output of aws iam get-account-authorization-details)`,
  );
  if (file.IsTruncated === true) {
    throw new InputError(
      `${source} holds one page of a truncated answer (IsTruncated): save the whole answer (the AWS CLI pages by itself unless --no-paginate or --max-items is given)`,
    );
  }
  const inline = (list: z.infer<typeof InlineSchema>[] | undefined, owner: string) =>
    (list ?? []).map((p) => ({
      PolicyName: p.PolicyName,
      PolicyDocument: encoded(p.PolicyDocument, `${owner} inline policy ${p.PolicyName}`),
    }));
  const users: UserDetail[] = file.UserDetailList.map((u) => ({
    ...u,
    UserPolicyList: inline(u.UserPolicyList, `user ${u.UserName}`),
  }));
  const groups: GroupDetail[] = file.GroupDetailList.map((g) => ({
    ...g,
    GroupPolicyList: inline(g.GroupPolicyList, `group ${g.GroupName}`),
  }));
  const policies: ManagedPolicyDetail[] = file.Policies.filter((p) => !isAwsManagedPolicyArn(p.Arn)).map(
    (p) => ({
      ...p,
      PolicyVersionList: (p.PolicyVersionList ?? []).map((v) => ({
        ...(v.IsDefaultVersion !== undefined ? { IsDefaultVersion: v.IsDefaultVersion } : {}),
        ...(v.Document !== undefined ? { Document: encoded(v.Document, `policy ${p.Arn}`) } : {}),
      })),
    }),
  );
  return snapshotFromDetails(users, groups, policies);
}

/** The quotas of an offline design: IAM's defaults, with the usage the file shows. */
export function defaultQuotasFor(snapshot: AccountSnapshot): IamQuotas {
  return {
    ...IAM_DEFAULT_QUOTAS,
    groups: snapshot.groups.length,
    policies: snapshot.customerPolicies.length,
  };
}

import { createHash } from 'node:crypto';

/**
 * The IAM path of every group the migration creates. IAM groups cannot be tagged, so the path is how
 * people (and the function's IAM policy) recognise them.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-friendly-names
 */
export const MIGRATION_GROUP_PATH = '/policy-migration/';
/** The IAM path of every customer managed policy the migration creates from an inline policy. */
export const MIGRATION_POLICY_PATH = '/policy-migration/';

/** Prefixes of the names the migration derives from content; both names stay far below IAM's 128. */
export const POLICY_SET_GROUP_PREFIX = 'policy-set-';
export const INLINE_POLICY_PREFIX = 'inline-';
/** Hex digits of SHA-256 kept in a name: 96 bits, and an existing group is checked before it is joined. */
const HASH_DIGITS = 24;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_DIGITS);
}

/**
 * The group name for a set of grants: the same set gives the same name in every run and for every user,
 * so users with identical direct policies converge on one group instead of one group per person.
 */
export function policySetGroupName(grantKeys: readonly string[]): string {
  return `${POLICY_SET_GROUP_PREFIX}${digest([...grantKeys].sort().join('\n'))}`;
}

/** The managed policy name for an inline document: identical documents give one policy. */
export function inlinePolicyManagedName(canonicalDocument: string): string {
  return `${INLINE_POLICY_PREFIX}${digest(canonicalDocument)}`;
}

/** The ARN a customer managed policy gets, known before it is created. */
export function customerPolicyArn(partition: string, accountId: string, path: string, name: string): string {
  return `arn:${partition}:iam::${accountId}:policy${path}${name}`;
}

/** Partition and account ID from any IAM ARN (arn:aws:iam::123456789012:user/alice). */
export function arnAccount(arn: string): { partition: string; accountId: string } {
  const match = /^arn:([\w-]+):iam::(\d{12}):/.exec(arn);
  if (match === null) throw new Error(`not an IAM ARN with an account ID: ${arn}`);
  return { partition: match[1] as string, accountId: match[2] as string };
}

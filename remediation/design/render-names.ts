import { createHash } from 'node:crypto';
import type { DesignPlan, DesignPolicyRef } from './design-types.js';

/**
 * Names the Terraform and CloudFormation renderers give to things: resource addresses and logical IDs
 * derived from IAM names. IAM names allow `+=,.@` which neither tool accepts in an identifier, so a name
 * that has to be changed gets a short hash of the original: `a.b` and `a_b` must never meet in one address.
 */

/** Eight hex digits of SHA-256: enough to keep the names of one plan apart, short enough to read. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * Assigns each name an identifier made by `clean`, unique within the list: a name that `clean` kept whole
 * (`lossless`) gets a readable identifier; a changed one, or one whose identifier meets another's without
 * regard to case, gets the hash of its name appended. Depends only on the set of names, never on their order.
 */
function uniqueIdentifiers(
  names: readonly string[],
  clean: (name: string) => string,
  lossless: (name: string) => boolean,
  join: (base: string, hash: string) => string,
): ReadonlyMap<string, string> {
  const sorted = [...new Set(names)].sort();
  const seen = new Map<string, number>();
  for (const name of sorted) {
    const key = clean(name).toLowerCase();
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return new Map(
    sorted.map((name) => {
      const id = clean(name);
      const plain = lossless(name) && seen.get(id.toLowerCase()) === 1;
      return [name, plain ? id : join(id, shortHash(name))];
    }),
  );
}

/** A Terraform identifier: letters, digits, `_` and `-`, starting with a letter or `_`. */
function terraformIdentifier(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z_]/.test(replaced) ? replaced : `_${replaced}`;
}

/** A CloudFormation logical ID: alphanumeric, at most 255 characters. */
function logicalIdPart(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('')
    .slice(0, 200);
}

/** The identifiers one plan's groups, new policies and users get, in both tools. */
export interface PlanIdentifiers {
  /** Terraform resource name of a group (aws_iam_group.<id>), by group name. */
  readonly tfGroup: ReadonlyMap<string, string>;
  /**
   * Terraform name of a policy of the plan, by policy key, from its policy name: the aws_iam_policy of a new
   * one, and the second half of every aws_iam_group_policy_attachment's name.
   */
  readonly tfPolicy: ReadonlyMap<string, string>;
  /** Terraform resource name of a user's membership (aws_iam_user_group_membership.<id>), by user name. */
  readonly tfUser: ReadonlyMap<string, string>;
  /** CloudFormation logical ID of a group, by group name. */
  readonly cfnGroup: ReadonlyMap<string, string>;
  /** CloudFormation logical ID of a new managed policy, by policy key. */
  readonly cfnPolicy: ReadonlyMap<string, string>;
  /** CloudFormation logical ID of a group's UserToGroupAddition, by group name. */
  readonly cfnMembers: ReadonlyMap<string, string>;
}

/** Keys of the policies the plan creates, sorted. */
export function newPolicyKeys(plan: DesignPlan): string[] {
  return Object.keys(plan.policies)
    .filter((k) => plan.policies[k]?.kind === 'new-managed')
    .sort();
}

/** Every user name that is a member of some group of the plan, sorted. */
export function memberNames(plan: DesignPlan): string[] {
  return [...new Set(plan.groups.flatMap((g) => g.members))].sort();
}

/**
 * The identifiers for one plan. Prefixes keep the kinds apart in CloudFormation (one namespace for all
 * logical IDs); Terraform separates them by resource type already.
 */
export function planIdentifiers(plan: DesignPlan): PlanIdentifiers {
  const groups = plan.groups.map((g) => g.name);
  const policies = newPolicyKeys(plan);
  const tf = (names: readonly string[], label: (name: string) => string = (n) => n) =>
    uniqueIdentifiers(
      names,
      (n) => terraformIdentifier(label(n)),
      (n) => terraformIdentifier(label(n)) === label(n),
      (id, hash) => `${id}_${hash}`,
    );
  const policyName = (key: string) => plan.policies[key]?.policyName ?? key;
  const cfn = (prefix: string, names: readonly string[]) =>
    uniqueIdentifiers(
      names,
      (n) => `${prefix}${logicalIdPart(n)}`,
      // Capitalising a letter loses nothing: IAM names compare without regard to case.
      (n) => /^[A-Za-z0-9]{1,200}$/.test(n),
      (id, hash) => `${id}${hash.toUpperCase()}`,
    );
  return {
    tfGroup: tf(groups),
    tfPolicy: tf(Object.keys(plan.policies), policyName),
    tfUser: tf(memberNames(plan)),
    cfnGroup: cfn('Group', groups),
    cfnPolicy: cfn('Policy', policies),
    cfnMembers: cfn('Members', groups),
  };
}

/** The path of a managed policy from its ARN (`arn:aws:iam::1:policy/a/b/name` has path `/a/b/`). */
export function policyPath(ref: DesignPolicyRef): string {
  const resource = ref.policyArn.slice(ref.policyArn.indexOf(':policy') + ':policy'.length);
  return resource.slice(0, resource.lastIndexOf('/') + 1) || '/';
}

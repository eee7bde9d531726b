/**
 * What the verdict needs to know about one IAM user, whatever it was read from: a Config configuration
 * item, a GetAccountAuthorizationDetails page, a CloudFormation template or a Terraform plan.
 */
export interface IamUser {
  /** The unique ID (AIDA… in AWS); Config's resourceId for AWS::IAM::User. */
  readonly userId: string;
  readonly userName: string;
  /** The IAM path, always starting and ending with "/". */
  readonly path: string;
  readonly groupNames: readonly string[];
  readonly managedPolicies: readonly ManagedPolicyRef[];
  readonly inlinePolicyNames: readonly string[];
  /** Tag key to value: build it with `tagRecord` and read it with `tagValue` (keys are untrusted text). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface ManagedPolicyRef {
  readonly policyName: string;
  readonly policyArn: string;
}

/** True for AWS managed policies (arn:<partition>:iam::aws:policy/…), which customers cannot edit. */
export function isAwsManagedPolicyArn(arn: string): boolean {
  return /^arn:[\w-]+:iam::aws:policy\//.test(arn);
}

/** Case-insensitive name comparison, as IAM treats user and group names. */
export function sameIamName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * A tag record with no prototype, so that a tag key such as `__proto__` is stored as a key like any other
 * (assigning `__proto__` on a plain object would replace its prototype instead). Later duplicates win, as IAM
 * cannot return duplicates anyway.
 */
export function tagRecord(entries: Iterable<readonly [string, string]>): Record<string, string> {
  const tags = Object.create(null) as Record<string, string>;
  for (const [key, value] of entries) tags[key] = value;
  return tags;
}

/**
 * The value of the tag `key`, or undefined when the user carries no such tag. Reads own keys only: a tag
 * key is untrusted text, and `constructor`, `toString` or `__proto__` must never reach Object.prototype.
 */
export function tagValue(tags: Readonly<Record<string, string>>, key: string): string | undefined {
  if (!Object.hasOwn(tags, key)) return undefined;
  const value: unknown = tags[key];
  return typeof value === 'string' ? value : undefined;
}

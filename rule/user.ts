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
  /** Tag key to value. */
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

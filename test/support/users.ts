import type { IamUser } from '../../rule/user.js';

/** An IAM user for table-driven tests: no policies, no groups, unless the overrides say otherwise. */
export function user(overrides: Partial<IamUser> = {}): IamUser {
  return {
    userId: 'AIDAEXAMPLEUSER000001',
    userName: 'alice',
    path: '/',
    groupNames: [],
    managedPolicies: [],
    inlinePolicyNames: [],
    tags: {},
    ...overrides,
  };
}

export const ADMIN = {
  policyName: 'AdministratorAccess',
  policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
};
export const S3_READ = {
  policyName: 'AmazonS3ReadOnlyAccess',
  policyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
};
export const CUSTOMER = {
  policyName: 'deploy-app',
  policyArn: 'arn:aws:iam::123456789012:policy/deploy-app',
};

import { App, Aspects, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { IamUserPolicyGuard } from '../infra/iam-user-policy-guard.js';
import { RuleParameterError } from '../rule/parameters.js';

/** A fresh app and stack with the guard added, as a user of the project adds it to their own app. */
function guarded(ruleParameters?: Record<string, string>) {
  const app = new App();
  const stack = new Stack(app, 'Team');
  Aspects.of(app).add(new IamUserPolicyGuard(ruleParameters !== undefined ? { ruleParameters } : {}));
  return { app, stack };
}
const errors = (stack: Stack) =>
  Annotations.fromStack(stack)
    .findError('*', Match.anyValue())
    .map((m) => ({ path: m.id, message: String(m.entry.data) }));
const infos = (stack: Stack) =>
  Annotations.fromStack(stack)
    .findInfo('*', Match.anyValue())
    .map((m) => ({ path: m.id, message: String(m.entry.data) }));

describe('IamUserPolicyGuard (CDK Aspect)', () => {
  it('a user created with managedPolicies fails synthesis with an error on the CfnUser naming the policy', () => {
    const { stack } = guarded();
    new iam.User(stack, 'Deployer', {
      userName: 'deployer',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess')],
    });
    expect(errors(stack)).toEqual([
      {
        path: '/Team/Deployer/Resource',
        message: expect.stringMatching(
          /^\[IAM_USER_NO_POLICIES_CHECK\] IAM user deployer would carry policies directly: 1 policy attached directly: AdministratorAccess \(managed\)/,
        ),
      },
    ]);
  });

  it('user.addToPolicy (the DefaultPolicy CfnPolicy) is reported on both the user and the policy', () => {
    const { stack } = guarded();
    const user = new iam.User(stack, 'Reader', { userName: 'reader' });
    user.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    expect(errors(stack).map((e) => e.path)).toEqual([
      '/Team/Reader/Resource',
      '/Team/Reader/DefaultPolicy/Resource',
    ]);
  });

  it('a ManagedPolicy attached through its users is reported on the CfnManagedPolicy too', () => {
    const { stack } = guarded();
    const user = new iam.User(stack, 'Builder', { userName: 'builder' });
    new iam.ManagedPolicy(stack, 'BuildPolicy', {
      managedPolicyName: 'build',
      users: [user],
      statements: [new iam.PolicyStatement({ actions: ['codebuild:StartBuild'], resources: ['*'] })],
    });
    expect(
      errors(stack)
        .map((e) => e.path)
        .sort(),
    ).toEqual(['/Team/BuildPolicy/Resource', '/Team/Builder/Resource']);
    expect(errors(stack)[0]?.message).toContain('build (managed)');
  });

  it('a CfnUserPolicy (L1) attaching an inline policy is reported', () => {
    const { stack } = guarded();
    const user = new iam.CfnUser(stack, 'Legacy', { userName: 'legacy' });
    new iam.CfnUserPolicy(stack, 'LegacyInline', {
      userName: user.ref,
      policyName: 'legacy-inline',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
      },
    });
    expect(
      errors(stack)
        .map((e) => e.path)
        .sort(),
    ).toEqual(['/Team/Legacy', '/Team/LegacyInline']);
  });

  it('a user whose permissions come from a group passes', () => {
    const { stack } = guarded();
    const group = new iam.Group(stack, 'Developers', {
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
    });
    new iam.User(stack, 'Dev', { userName: 'dev', groups: [group] });
    expect(errors(stack)).toEqual([]);
  });

  it('the exemption tag set with Tags.of applies, and the exemption is shown as info rather than hidden', () => {
    const { stack } = guarded({ exemptionTagKey: 'break-glass' });
    const user = new iam.User(stack, 'Emergency', {
      userName: 'emergency',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess')],
    });
    Tags.of(user).add('break-glass', 'SEC-99 approved');
    expect(errors(stack)).toEqual([]);
    expect(infos(stack)).toEqual([
      {
        path: '/Team/Emergency/Resource',
        message: expect.stringContaining('Exempt by tag break-glass: SEC-99 approved.'),
      },
    ]);
  });

  it('a Guard suppression in the CfnUser metadata is honoured as a visible exemption', () => {
    const { stack } = guarded();
    const user = new iam.User(stack, 'Integration', { userName: 'integration' });
    user.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] }));
    (user.node.defaultChild as iam.CfnUser).cfnOptions.metadata = {
      guard: { SuppressedRules: ['IAM_USER_NO_POLICIES_CHECK'] },
    };
    expect(errors(stack)).toEqual([]);
    expect(infos(stack)[0]?.message).toContain('Exempt: suppressed by Metadata guard.SuppressedRules');
  });

  it('invalid rule parameters throw where the guard is created, naming the parameter', () => {
    expect(() => new IamUserPolicyGuard({ ruleParameters: { exemptUserName: 'x' } })).toThrow(
      RuleParameterError,
    );
    expect(() => new IamUserPolicyGuard({ ruleParameters: { checkManagedPolicies: 'yes' } })).toThrow(
      /checkManagedPolicies/,
    );
  });
});

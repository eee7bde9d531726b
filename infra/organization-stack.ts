import { Aws, CfnOutput, CfnParameter, Stack, Validations } from 'aws-cdk-lib';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import { CfnOrganizationConfigRule } from 'aws-cdk-lib/aws-config';
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { OperationsAlarms } from './alarms.js';
import { deploymentSettings, RULE_DESCRIPTION, RULE_TRIGGERS, type RuleStackProps } from './deployment.js';
import { CENTRAL_ROLE_PARAMETER, MEMBER_ROLE_NAME, memberRoleTemplateBody } from './member-role-stack.js';
import { RuleFunction } from './rule-function.js';
import { acknowledgeRuleCallWildcards, ruleCallStatements } from './rule-permissions.js';
import { ruleInputParameters } from './settings.js';

/**
 * The rule for a whole AWS Organization, deployed in the Config delegated administrator account: one rule
 * function, an organization Config rule that AWS Config creates in every member account, and a
 * service-managed StackSet that gives every member account (new ones automatically) the role the function
 * assumes there. The organization's ID and the OUs to target are CloudFormation parameters, so the stack
 * synthesizes without knowing them.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/config-rule-multi-account-deployment.html
 */
export class OrganizationStack extends Stack {
  readonly ruleFunction: RuleFunction;
  readonly organizationRule: CfnOrganizationConfigRule;
  readonly memberRoles: CfnStackSet;

  constructor(scope: Construct, id: string, props: RuleStackProps = {}) {
    super(scope, id, props);
    const settings = deploymentSettings(this, props);

    const organizationId = new CfnParameter(this, 'OrganizationId', {
      type: 'String',
      description:
        'Your AWS Organizations ID (o-...): only Config rules of its accounts may invoke the function',
      allowedPattern: '^o-[a-z0-9]{10,32}$',
    }).valueAsString;
    const targetOus = new CfnParameter(this, 'TargetOrganizationalUnitIds', {
      type: 'CommaDelimitedList',
      description:
        'Where the member role StackSet deploys: the root ID (r-...) for every account, or OU IDs (ou-...)',
    }).valueAsList;

    this.ruleFunction = new RuleFunction(this, 'Rule', { memberRoleName: MEMBER_ROLE_NAME });
    const fn = this.ruleFunction.function;
    const role = this.ruleFunction.role;

    // The organization rule runs in this account too: the rule's calls here, on any rule of this account
    // (Config names the organization rule's local copy itself).
    const ownCalls = new Policy(this, 'RuleCalls', {
      roles: [role],
      statements: ruleCallStatements(),
    });
    acknowledgeRuleCallWildcards(ownCalls);
    // Member accounts: only the member role, and only in accounts of this organization.
    const assumeMemberRoles = new Policy(this, 'AssumeMemberRoles', {
      roles: [role],
      statements: [
        new PolicyStatement({
          sid: 'AssumeMemberRoleInOrganizationAccounts',
          effect: Effect.ALLOW,
          actions: ['sts:AssumeRole'],
          resources: [`arn:${Aws.PARTITION}:iam::*:role/${MEMBER_ROLE_NAME}`],
          conditions: { StringEquals: { 'aws:ResourceOrgID': organizationId } },
        }),
      ],
    });
    Validations.of(assumeMemberRoles).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${MEMBER_ROLE_NAME}]`,
      reason:
        'The member accounts are not known in advance (new accounts join automatically); the account wildcard is limited to this organization by the aws:ResourceOrgID condition and to the one well-known role name.',
    });

    // Who may invoke the function: AWS Config, on behalf of an account of this organization. A resource
    // policy (rather than AWS::Lambda::Permission, which has no such condition) carries aws:SourceOrgID.
    const invokePolicy = new CfnResourcePolicy(this, 'InvokeFromOrganizationConfig', {
      resourceArn: fn.functionArn,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ConfigRulesOfThisOrganization',
            Effect: 'Allow',
            Principal: { Service: 'config.amazonaws.com' },
            Action: 'lambda:InvokeFunction',
            Resource: fn.functionArn,
            Condition: { StringEquals: { 'aws:SourceOrgID': organizationId } },
          },
        ],
      },
    });

    this.memberRoles = new CfnStackSet(this, 'MemberRoles', {
      stackSetName: `${Stack.of(this).stackName}-MemberRole`,
      description: 'Role the central iam-user-no-direct-policies rule assumes in each member account',
      permissionModel: 'SERVICE_MANAGED',
      callAs: settings.stackSetCallAs,
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
        regionConcurrencyType: 'PARALLEL',
      },
      parameters: [{ parameterKey: CENTRAL_ROLE_PARAMETER, parameterValue: role.roleArn }],
      // IAM roles are global: one Region (this one) is enough.
      stackInstancesGroup: [
        { deploymentTargets: { organizationalUnitIds: targetOus }, regions: [Aws.REGION] },
      ],
      templateBody: memberRoleTemplateBody(),
    });

    this.organizationRule = new CfnOrganizationConfigRule(this, 'OrganizationConfigRule', {
      organizationConfigRuleName: settings.ruleName,
      excludedAccounts: [...settings.excludedAccounts],
      organizationCustomRuleMetadata: {
        description: RULE_DESCRIPTION,
        lambdaFunctionArn: fn.functionArn,
        organizationConfigRuleTriggerTypes: [...RULE_TRIGGERS],
        resourceTypesScope: ['AWS::IAM::User'],
        inputParameters: JSON.stringify(ruleInputParameters(settings.ruleParameters)),
        maximumExecutionFrequency: settings.periodicFrequency,
      },
    });
    // Config checks that it may invoke the function; the member roles should exist before the first run.
    this.organizationRule.node.addDependency(invokePolicy);
    this.organizationRule.node.addDependency(this.memberRoles);

    const alarms = new OperationsAlarms(this, 'Alarms', {
      ...(settings.alarmTopicArn !== undefined ? { alarmTopicArn: settings.alarmTopicArn } : {}),
    });
    alarms.watchFunctionErrors(
      'RuleErrors',
      fn,
      `The organization rule ${settings.ruleName} failed for some account: results may be stale. See its log group (each entry names the account).`,
    );

    new CfnOutput(this, 'RuleFunctionArn', { value: fn.functionArn });
    new CfnOutput(this, 'RuleRoleArn', {
      value: role.roleArn,
      description: `Deploy ${MEMBER_ROLE_NAME} with this as ${CENTRAL_ROLE_PARAMETER} in the management account`,
    });
  }
}

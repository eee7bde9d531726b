import { Annotations, Aws, Stack, Validations } from 'aws-cdk-lib';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnOrganizationConfigRule } from 'aws-cdk-lib/aws-config';
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { warnAboutRegion } from './account-deployment.js';
import { OperationsAlarms } from './alarms.js';
import { RULE_DESCRIPTION, RULE_TRIGGERS } from './deployment.js';
import { CENTRAL_ROLE_PARAMETER, MEMBER_ROLE_NAME, memberRoleTemplateBody } from './member-role-stack.js';
import { RuleFunction } from './rule-function.js';
import { acknowledgeRuleCallWildcards, ruleCallStatements } from './rule-permissions.js';
import {
  DEFAULT_SETTINGS,
  type PeriodicFrequency,
  type RuleParameterValues,
  ruleInputParameters,
  ruleParameterProblem,
} from './settings.js';

/** Properties of the organization deployment. */
export interface IamUserNoDirectPoliciesOrganizationProps {
  /** Your AWS Organizations ID (o-...): only Config rules of its accounts may invoke the function. */
  readonly organizationId: string;
  /** Where the member role StackSet deploys: the root ID (r-...) for every account, or OU IDs (ou-...). */
  readonly targetOrganizationalUnitIds: readonly string[];
  /** The organization Config rule's name. @default 'iam-user-no-direct-policies' */
  readonly ruleName?: string;
  /** How often the periodic sweep re-reads every user. @default 'TwentyFour_Hours' */
  readonly periodicFrequency?: PeriodicFrequency;
  /** The rule's parameters (names from RULE_PARAMETERS, string values). @default {} */
  readonly ruleParameters?: RuleParameterValues;
  /** Accounts the organization rule leaves out. @default [] */
  readonly excludedAccounts?: readonly string[];
  /** Whether the StackSet is created as the delegated administrator. @default 'DELEGATED_ADMIN' */
  readonly stackSetCallAs?: 'SELF' | 'DELEGATED_ADMIN';
  /** An existing SNS topic the alarm notifies. @default - the alarm changes state without notifying */
  readonly alarmTopicArn?: string;
}

/**
 * The rule for a whole AWS Organization, added to a stack in the Config delegated administrator account: one
 * rule function, an organization Config rule that AWS Config creates in every member account, and a
 * service-managed StackSet that gives every member account (new ones automatically) the role the function
 * assumes there.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/config-rule-multi-account-deployment.html
 */
export class IamUserNoDirectPoliciesOrganization extends Construct {
  /** The organization Config rule. */
  readonly rule: CfnOrganizationConfigRule;
  /** The rule's Lambda function, its role and log group. */
  readonly ruleFunction: RuleFunction;
  /** The StackSet that deploys the member role to every target account. */
  readonly memberRoles: CfnStackSet;
  /** The alarm on the rule function's errors. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: IamUserNoDirectPoliciesOrganizationProps) {
    super(scope, id);
    const ruleName = props.ruleName ?? DEFAULT_SETTINGS.ruleName;
    const periodicFrequency = props.periodicFrequency ?? DEFAULT_SETTINGS.periodicFrequency;
    const problem = ruleParameterProblem(props.ruleParameters ?? {});
    if (problem !== undefined) Annotations.of(this).addError(problem);
    const ruleParameters = problem === undefined ? (props.ruleParameters ?? {}) : {};
    warnAboutRegion(this);

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
          conditions: { StringEquals: { 'aws:ResourceOrgID': props.organizationId } },
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
            Condition: { StringEquals: { 'aws:SourceOrgID': props.organizationId } },
          },
        ],
      },
    });

    this.memberRoles = new CfnStackSet(this, 'MemberRoles', {
      stackSetName: `${Stack.of(this).stackName}-MemberRole`,
      description: 'Role the central iam-user-no-direct-policies rule assumes in each member account',
      permissionModel: 'SERVICE_MANAGED',
      callAs: props.stackSetCallAs ?? DEFAULT_SETTINGS.stackSetCallAs,
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
        {
          deploymentTargets: { organizationalUnitIds: [...props.targetOrganizationalUnitIds] },
          regions: [Aws.REGION],
        },
      ],
      templateBody: memberRoleTemplateBody(),
    });

    this.rule = new CfnOrganizationConfigRule(this, 'OrganizationConfigRule', {
      organizationConfigRuleName: ruleName,
      excludedAccounts: [...(props.excludedAccounts ?? [])],
      organizationCustomRuleMetadata: {
        description: RULE_DESCRIPTION,
        lambdaFunctionArn: fn.functionArn,
        organizationConfigRuleTriggerTypes: [...RULE_TRIGGERS],
        resourceTypesScope: ['AWS::IAM::User'],
        inputParameters: JSON.stringify(ruleInputParameters(ruleParameters)),
        maximumExecutionFrequency: periodicFrequency,
      },
    });
    // Config checks that it may invoke the function; the member roles should exist before the first run.
    this.rule.node.addDependency(invokePolicy);
    this.rule.node.addDependency(this.memberRoles);

    const alarms = new OperationsAlarms(this, 'Alarms', {
      ...(props.alarmTopicArn !== undefined ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });
    this.alarms = [
      alarms.watchFunctionErrors(
        'RuleErrors',
        fn,
        `The organization rule ${ruleName} failed for some account: results may be stale. See its log group (each entry names the account).`,
      ),
    ];
  }
}

import { CfnOutput, CfnParameter, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { deploymentSettings, type RuleStackProps } from './deployment.js';
import { CENTRAL_ROLE_PARAMETER, MEMBER_ROLE_NAME } from './member-role-stack.js';
import { IamUserNoDirectPoliciesOrganization } from './organization-deployment.js';

/**
 * The project's own organization stack: the IamUserNoDirectPoliciesOrganization construct with the settings
 * from CDK context. The organization's ID and the OUs to target are CloudFormation parameters, so the stack
 * synthesizes without knowing them.
 */
export class OrganizationStack extends Stack {
  readonly deployment: IamUserNoDirectPoliciesOrganization;

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
    // 'Default' is left out of logical IDs: the resources keep the IDs they had when the stack built them itself.
    this.deployment = new IamUserNoDirectPoliciesOrganization(this, 'Default', {
      organizationId,
      targetOrganizationalUnitIds: targetOus,
      ruleName: settings.ruleName,
      periodicFrequency: settings.periodicFrequency,
      ruleParameters: settings.ruleParameters,
      excludedAccounts: settings.excludedAccounts,
      stackSetCallAs: settings.stackSetCallAs,
      ...(settings.alarmTopicArn !== undefined ? { alarmTopicArn: settings.alarmTopicArn } : {}),
    });
    const { ruleFunction } = this.deployment;
    new CfnOutput(this, 'RuleFunctionArn', { value: ruleFunction.function.functionArn });
    new CfnOutput(this, 'RuleRoleArn', {
      value: ruleFunction.role.roleArn,
      description: `Deploy ${MEMBER_ROLE_NAME} with this as ${CENTRAL_ROLE_PARAMETER} in the management account`,
    });
  }
}

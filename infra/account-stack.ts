import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { IamUserNoDirectPolicies } from './account-deployment.js';
import { deploymentSettings, type RuleStackProps } from './deployment.js';

/** Properties of the account stack. */
export interface AccountStackProps extends RuleStackProps {
  /** Leave the rule to a conformance pack (see IamUserNoDirectPoliciesProps.createRule). @default true */
  readonly createRule?: boolean;
}

/**
 * The project's own account stack: the IamUserNoDirectPolicies construct with the settings from CDK context,
 * and the outputs the CLI, the conformance pack and an operator need. Deploy it in the Region that records
 * global IAM types.
 */
export class AccountStack extends Stack {
  readonly deployment: IamUserNoDirectPolicies;

  constructor(scope: Construct, id: string, props: AccountStackProps = {}) {
    super(scope, id, props);
    const settings = deploymentSettings(this, props);
    // 'Default' is left out of logical IDs: the resources keep the IDs they had when the stack built them itself.
    this.deployment = new IamUserNoDirectPolicies(this, 'Default', {
      ruleName: settings.ruleName,
      periodicFrequency: settings.periodicFrequency,
      ruleParameters: settings.ruleParameters,
      automaticRemediation: settings.automaticRemediation,
      ...(settings.alarmTopicArn !== undefined ? { alarmTopicArn: settings.alarmTopicArn } : {}),
      createRule: props.createRule ?? !settings.ruleFromConformancePack,
    });
    const { rule, ruleFunction, remediation } = this.deployment;
    new CfnOutput(this, 'RuleFunctionArn', { value: ruleFunction.function.functionArn });
    if (rule !== undefined) new CfnOutput(this, 'ConfigRuleName', { value: rule.ref });
    new CfnOutput(this, 'RemediationDocumentName', { value: remediation.document.ref });
    new CfnOutput(this, 'AutomationAssumeRoleArn', { value: remediation.automationRole.roleArn });
  }

  /** The rule function (a shortcut for `deployment.ruleFunction`). */
  get ruleFunction() {
    return this.deployment.ruleFunction;
  }
}

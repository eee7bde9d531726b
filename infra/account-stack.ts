import { CfnOutput, Stack } from 'aws-cdk-lib';
import { CfnConfigRule } from 'aws-cdk-lib/aws-config';
import { Policy, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { OperationsAlarms } from './alarms.js';
import { deploymentSettings, RULE_DESCRIPTION, RULE_TRIGGERS, type RuleStackProps } from './deployment.js';
import { Remediation } from './remediation.js';
import { RuleFunction } from './rule-function.js';
import { acknowledgeRuleCallWildcards, ruleCallStatements } from './rule-permissions.js';
import { ruleInputParameters } from './settings.js';

/**
 * The rule for one account: the function, the custom Config rule (changes and a periodic sweep, scoped to
 * AWS::IAM::User), the remediation, and the alarms. Deploy it in the Region that records global IAM types.
 */
export class AccountStack extends Stack {
  readonly ruleFunction: RuleFunction;
  readonly configRule: CfnConfigRule;
  readonly remediation: Remediation;

  constructor(scope: Construct, id: string, props: RuleStackProps = {}) {
    super(scope, id, props);
    const settings = deploymentSettings(this, props);

    this.ruleFunction = new RuleFunction(this, 'Rule');
    const fn = this.ruleFunction.function;
    // Only this account's AWS Config may invoke the function (confused-deputy protection).
    fn.addPermission('ConfigInvoke', {
      principal: new ServicePrincipal('config.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: this.account,
    });

    this.configRule = new CfnConfigRule(this, 'ConfigRule', {
      configRuleName: settings.ruleName,
      description: RULE_DESCRIPTION,
      scope: { complianceResourceTypes: ['AWS::IAM::User'] },
      inputParameters: ruleInputParameters(settings.ruleParameters),
      maximumExecutionFrequency: settings.periodicFrequency,
      source: {
        owner: 'CUSTOM_LAMBDA',
        sourceIdentifier: fn.functionArn,
        sourceDetails: RULE_TRIGGERS.map((messageType) => ({
          eventSource: 'aws.config',
          messageType,
          ...(messageType === 'ScheduledNotification'
            ? { maximumExecutionFrequency: settings.periodicFrequency }
            : {}),
        })),
      },
    });
    // Config checks that it may invoke the function when the rule is created.
    this.configRule.node.addDependency(fn.permissionsNode.findChild('ConfigInvoke'));

    // Results of any rule of this account, not only this.configRule: a conformance pack's rule (see
    // infra/conformance-pack.ts) runs the same function, and Config chooses its ARN.
    const ruleCalls = new Policy(this, 'RuleCalls', {
      roles: [this.ruleFunction.role],
      statements: ruleCallStatements(),
    });
    acknowledgeRuleCallWildcards(ruleCalls);

    this.remediation = new Remediation(this, 'Remediation', {
      configRuleName: this.configRule.ref,
      automatic: settings.automaticRemediation,
      ruleInputParameters: ruleInputParameters(settings.ruleParameters),
    });

    const alarms = new OperationsAlarms(this, 'Alarms', {
      ...(settings.alarmTopicArn !== undefined ? { alarmTopicArn: settings.alarmTopicArn } : {}),
    });
    alarms.watchFunctionErrors(
      'RuleErrors',
      fn,
      `The ${settings.ruleName} rule function failed: AWS Config results for IAM users may be stale. See its log group.`,
    );

    alarms.watchFunctionErrors(
      'RemediationErrors',
      this.remediation.migrationFunction.function,
      "A remediation (moving an IAM user's policies to groups) failed and was rolled back. See the Automation execution and the migration function's log group.",
    );
    alarms.watchAutomationFailures(
      'RemediationFailures',
      this.remediation.document.ref,
      'A remediation Automation execution failed, timed out or was cancelled (including a rejected approval). See Systems Manager > Automation.',
    );

    new CfnOutput(this, 'RuleFunctionArn', { value: fn.functionArn });
    new CfnOutput(this, 'ConfigRuleName', { value: this.configRule.ref });
    new CfnOutput(this, 'RemediationDocumentName', { value: this.remediation.document.ref });
    new CfnOutput(this, 'AutomationAssumeRoleArn', { value: this.remediation.automationRole.roleArn });
  }
}

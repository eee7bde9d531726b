import { Annotations, CfnOutput, Stack, type StackProps, Token } from 'aws-cdk-lib';
import { CfnConfigRule } from 'aws-cdk-lib/aws-config';
import { Policy, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { OperationsAlarms } from './alarms.js';
import { globalIamRecordingWarning } from './regions.js';
import { Remediation } from './remediation.js';
import { RuleFunction } from './rule-function.js';
import { acknowledgeRuleCallWildcards, ruleCallStatements } from './rule-permissions.js';
import {
  DEFAULT_SETTINGS,
  type DeploymentSettings,
  ruleInputParameters,
  ruleParameterProblem,
} from './settings.js';

/** The trigger types of the rule: every change (oversized ones too) and the periodic sweep. */
export const RULE_TRIGGERS = [
  'ConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeNotification',
  'ScheduledNotification',
] as const;

export const RULE_DESCRIPTION =
  'IAM users must not carry policies directly (Security Hub IAM.2): NON_COMPLIANT when a user has attached managed or inline policies.';

/** Properties of the account deployment. */
export interface AccountStackProps extends StackProps {
  /** @default DEFAULT_SETTINGS */
  readonly settings?: DeploymentSettings;
  /** Problems found while reading the settings, reported as synthesis errors on this stack. @default [] */
  readonly settingsProblems?: readonly string[];
}

/**
 * The rule for one account: the function, the custom Config rule (changes and a periodic sweep, scoped to
 * AWS::IAM::User), the remediation, and the alarms. Deploy it in the Region that records global IAM types.
 */
export class AccountStack extends Stack {
  readonly ruleFunction: RuleFunction;
  readonly configRule: CfnConfigRule;
  readonly remediation: Remediation;

  constructor(scope: Construct, id: string, props: AccountStackProps = {}) {
    super(scope, id, props);
    const settings = props.settings ?? DEFAULT_SETTINGS;
    for (const problem of props.settingsProblems ?? []) Annotations.of(this).addError(problem);
    const parameterProblem = ruleParameterProblem(settings.ruleParameters);
    if (parameterProblem !== undefined) Annotations.of(this).addError(parameterProblem);
    warnAboutRegion(this);

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
    alarms.notifyAutomationFailures('RemediationFailures', this.remediation.document.ref);

    new CfnOutput(this, 'RuleFunctionArn', { value: fn.functionArn });
    new CfnOutput(this, 'ConfigRuleName', { value: this.configRule.ref });
    new CfnOutput(this, 'RemediationDocumentName', { value: this.remediation.document.ref });
    new CfnOutput(this, 'AutomationAssumeRoleArn', { value: this.remediation.automationRole.roleArn });
  }
}

/** Synthesis warns when the Region cannot record IAM users, and notes it when the Region is not known. */
export function warnAboutRegion(stack: Stack): void {
  const region = Token.isUnresolved(stack.region) ? undefined : stack.region;
  const warning = globalIamRecordingWarning(region);
  if (warning === undefined) return;
  if (region === undefined) Annotations.of(stack).addInfo(warning);
  else Annotations.of(stack).addWarningV2('iam-user-no-direct-policies:global-iam-region', warning);
}

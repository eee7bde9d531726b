import { Annotations, Stack, Token } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnConfigRule } from 'aws-cdk-lib/aws-config';
import { Policy, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { OperationsAlarms } from './alarms.js';
import { RULE_DESCRIPTION, RULE_TRIGGERS } from './deployment.js';
import { globalIamRecordingWarning } from './regions.js';
import { Remediation } from './remediation.js';
import { RuleFunction } from './rule-function.js';
import { acknowledgeRuleCallWildcards, ruleCallStatements } from './rule-permissions.js';
import {
  DEFAULT_SETTINGS,
  type PeriodicFrequency,
  type RuleParameterValues,
  ruleInputParameters,
  ruleParameterProblem,
} from './settings.js';

/** Properties of the account deployment: the rule's parameters and the deployment's settings. */
export interface IamUserNoDirectPoliciesProps {
  /** The Config rule's name. @default 'iam-user-no-direct-policies' */
  readonly ruleName?: string;
  /** How often the periodic sweep re-reads every user. @default 'TwentyFour_Hours' */
  readonly periodicFrequency?: PeriodicFrequency;
  /**
   * The rule's parameters, as AWS Config passes them (names from RULE_PARAMETERS, string values), e.g.
   * `{ exemptUserNames: 'breakglass' }`. Invalid values are a synthesis error on this construct.
   * @default {} (every parameter at its default)
   */
  readonly ruleParameters?: RuleParameterValues;
  /** Remediate non-compliant users without an operator. @default false */
  readonly automaticRemediation?: boolean;
  /** An existing SNS topic the alarms notify. @default - the alarms change state without notifying */
  readonly alarmTopicArn?: string;
  /**
   * Create the Config rule (and its remediation configuration). Leave it out when a conformance pack
   * deploys the rule: the function, the runbook and its role are still created for the pack to use, so no
   * user is evaluated or remediated twice.
   * @default true
   */
  readonly createRule?: boolean;
}

/**
 * The rule for one AWS account: the rule function, the custom Config rule (every change of an IAM user and a
 * periodic sweep), the remediation runbook with its role (manual unless `automaticRemediation`), and alarms
 * on failures. Add it to a stack in the Region that records global IAM resource types.
 *
 * @example
 * new IamUserNoDirectPolicies(stack, 'IamUserPolicies', { ruleParameters: { exemptUserNames: 'breakglass' } });
 */
export class IamUserNoDirectPolicies extends Construct {
  /** The Config rule; undefined with `createRule: false`. */
  readonly rule: CfnConfigRule | undefined;
  /** The rule's Lambda function, its role and log group. */
  readonly ruleFunction: RuleFunction;
  /** The migration function, the runbook, the role Automation runs as and the remediation configuration. */
  readonly remediation: Remediation;
  /** The SSM Automation runbook that moves a user's policies to groups. */
  readonly runbook: CfnDocument;
  /** The alarms: rule function errors, migration function errors, failed Automation executions. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: IamUserNoDirectPoliciesProps = {}) {
    super(scope, id);
    const ruleName = props.ruleName ?? DEFAULT_SETTINGS.ruleName;
    const periodicFrequency = props.periodicFrequency ?? DEFAULT_SETTINGS.periodicFrequency;
    const problem = ruleParameterProblem(props.ruleParameters ?? {});
    // Invalid parameters stop synthesis (naming them); the stack is still built, with the defaults.
    if (problem !== undefined) Annotations.of(this).addError(problem);
    const ruleParameters = problem === undefined ? (props.ruleParameters ?? {}) : {};
    warnAboutRegion(this);

    this.ruleFunction = new RuleFunction(this, 'Rule');
    const fn = this.ruleFunction.function;
    const stack = Stack.of(this);
    // Only this account's AWS Config may invoke the function (confused-deputy protection).
    fn.addPermission('ConfigInvoke', {
      principal: new ServicePrincipal('config.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: stack.account,
    });

    if (props.createRule ?? true) {
      this.rule = new CfnConfigRule(this, 'ConfigRule', {
        configRuleName: ruleName,
        description: RULE_DESCRIPTION,
        scope: { complianceResourceTypes: ['AWS::IAM::User'] },
        inputParameters: ruleInputParameters(ruleParameters),
        maximumExecutionFrequency: periodicFrequency,
        source: {
          owner: 'CUSTOM_LAMBDA',
          sourceIdentifier: fn.functionArn,
          sourceDetails: RULE_TRIGGERS.map((messageType) => ({
            eventSource: 'aws.config',
            messageType,
            ...(messageType === 'ScheduledNotification'
              ? { maximumExecutionFrequency: periodicFrequency }
              : {}),
          })),
        },
      });
      // Config checks that it may invoke the function when the rule is created.
      this.rule.node.addDependency(fn.permissionsNode.findChild('ConfigInvoke'));
    }

    // Results of any rule of this account, not only this.rule: a conformance pack's rule (see
    // infra/conformance-pack.ts) runs the same function, and Config chooses its ARN.
    const ruleCalls = new Policy(this, 'RuleCalls', {
      roles: [this.ruleFunction.role],
      statements: ruleCallStatements(),
    });
    acknowledgeRuleCallWildcards(ruleCalls);

    this.remediation = new Remediation(this, 'Remediation', {
      ...(this.rule !== undefined ? { configRuleName: this.rule.ref } : {}),
      automatic: props.automaticRemediation ?? false,
      ruleInputParameters: ruleInputParameters(ruleParameters),
    });
    this.runbook = this.remediation.document;

    const alarms = new OperationsAlarms(this, 'Alarms', {
      ...(props.alarmTopicArn !== undefined ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });
    this.alarms = [
      alarms.watchFunctionErrors(
        'RuleErrors',
        fn,
        `The ${ruleName} rule function failed: AWS Config results for IAM users may be stale. See its log group.`,
      ),
      alarms.watchFunctionErrors(
        'RemediationErrors',
        this.remediation.migrationFunction.function,
        "A remediation (moving an IAM user's policies to groups) failed and was rolled back. See the Automation execution and the migration function's log group.",
      ),
      alarms.watchAutomationFailures(
        'RemediationFailures',
        this.remediation.document.ref,
        'A remediation Automation execution failed, timed out or was cancelled (including a rejected approval). See Systems Manager > Automation.',
      ).alarm,
    ];
  }
}

/** Synthesis warns when the Region cannot record IAM users, and notes it when the Region is not known. */
export function warnAboutRegion(scope: Construct): void {
  const stack = Stack.of(scope);
  const region = Token.isUnresolved(stack.region) ? undefined : stack.region;
  const warning = globalIamRecordingWarning(region);
  if (warning === undefined) return;
  if (region === undefined) Annotations.of(scope).addInfo(warning);
  else Annotations.of(scope).addWarningV2('iam-user-no-direct-policies:global-iam-region', warning);
}

import { Annotations, type Stack, type StackProps } from 'aws-cdk-lib';
import { DEFAULT_SETTINGS, type DeploymentSettings } from './settings.js';

/**
 * The trigger types of the rule, whichever way it is deployed (account stack, organization rule,
 * conformance pack): every change (oversized ones too) and the periodic sweep.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config-rules.html
 */
export const RULE_TRIGGERS = [
  'ConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeNotification',
  'ScheduledNotification',
] as const;

/** The Config rule's description, whichever way it is deployed. */
export const RULE_DESCRIPTION =
  'IAM users must not carry policies directly (Security Hub IAM.2): NON_COMPLIANT when a user has attached managed or inline policies.';

/** Properties of the stacks that deploy the rule (account and organization). */
export interface RuleStackProps extends StackProps {
  /** @default DEFAULT_SETTINGS */
  readonly settings?: DeploymentSettings;
  /** Problems found while reading the settings, reported as synthesis errors on the stack. @default [] */
  readonly settingsProblems?: readonly string[];
}

/**
 * The settings a rule stack deploys with. Problems with them become synthesis errors on the stack (the CDK
 * way: `cdk synth` and `cdk deploy` stop, naming them); the constructs check the rule parameters and the Region.
 */
export function deploymentSettings(stack: Stack, props: RuleStackProps): DeploymentSettings {
  for (const problem of props.settingsProblems ?? []) Annotations.of(stack).addError(problem);
  return props.settings ?? DEFAULT_SETTINGS;
}

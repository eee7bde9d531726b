import { Annotations, type Stack, type StackProps, Token } from 'aws-cdk-lib';
import { globalIamRecordingWarning } from './regions.js';
import { DEFAULT_SETTINGS, type DeploymentSettings, ruleParameterProblem } from './settings.js';

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
 * way: `cdk synth` and `cdk deploy` stop, naming them), and a Region that cannot record IAM users a warning.
 */
export function deploymentSettings(stack: Stack, props: RuleStackProps): DeploymentSettings {
  const settings = props.settings ?? DEFAULT_SETTINGS;
  for (const problem of props.settingsProblems ?? []) Annotations.of(stack).addError(problem);
  const parameterProblem = ruleParameterProblem(settings.ruleParameters);
  if (parameterProblem !== undefined) Annotations.of(stack).addError(parameterProblem);
  warnAboutRegion(stack);
  return settings;
}

/** Synthesis warns when the Region cannot record IAM users, and notes it when the Region is not known. */
function warnAboutRegion(stack: Stack): void {
  const region = Token.isUnresolved(stack.region) ? undefined : stack.region;
  const warning = globalIamRecordingWarning(region);
  if (warning === undefined) return;
  if (region === undefined) Annotations.of(stack).addInfo(warning);
  else Annotations.of(stack).addWarningV2('iam-user-no-direct-policies:global-iam-region', warning);
}

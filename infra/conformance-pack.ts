import { RULE_PARAMETERS, type RuleParameterName } from '../rule/parameters.js';
import { RULE_DESCRIPTION, RULE_TRIGGERS } from './deployment.js';
import { DEFAULT_SETTINGS, type DeploymentSettings, ruleInputParameters } from './settings.js';

/** The template parameter that carries the rule function's ARN (output RuleFunctionArn of a stack). */
export const FUNCTION_ARN_PARAMETER = 'RuleFunctionArn';
export const DOCUMENT_PARAMETER = 'RemediationDocumentName';
export const AUTOMATION_ROLE_PARAMETER = 'AutomationAssumeRoleArn';

/** Pack parameter names must be alphanumeric: the rule parameter's name with its first letter capitalised. */
export const packParameterName = (name: RuleParameterName): string =>
  `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

/**
 * A conformance pack template with the rule and its (manual) remediation. The function, the Automation
 * document and its role come from a deployed stack and are template parameters, as are the rule's
 * parameters (defaults from the deployment settings). It serves `aws configservice put-conformance-pack` in
 * the account of the stack whose outputs it is given (deployed with `ruleFromConformancePack`, so that the
 * stack creates no rule of its own). With `organization`, the variant for `put-organization-conformance-pack`:
 * the organization stack's function, and no remediation resource (the runbook and its role exist only in the
 * account of a stack).
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/conformance-pack-organization-apis.html
 * @see https://docs.aws.amazon.com/config/latest/developerguide/custom-conformance-pack.html
 */
export function conformancePackTemplate(
  settings: DeploymentSettings = DEFAULT_SETTINGS,
  { organization = false }: { readonly organization?: boolean } = {},
): Record<string, unknown> {
  const defaults = ruleInputParameters(settings.ruleParameters);
  const ruleParameters = Object.keys(RULE_PARAMETERS) as RuleParameterName[];
  const functionArn = {
    Type: 'String',
    Description: `ARN of the rule function (output RuleFunctionArn of the ${organization ? 'IamUserNoDirectPolicies-Organization' : 'IamUserNoDirectPolicies'} stack)`,
    AllowedPattern: '^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\\d{12}:function:[\\w-]{1,64}$',
  };
  const parameters: Record<string, unknown> = {
    [FUNCTION_ARN_PARAMETER]: functionArn,
  };
  const remediationParameters: Record<string, unknown> = {
    [DOCUMENT_PARAMETER]: {
      Type: 'String',
      Description: 'Name of the remediation Automation document (output RemediationDocumentName)',
    },
    [AUTOMATION_ROLE_PARAMETER]: {
      Type: 'String',
      Description: 'ARN of the role the Automation document runs as (output AutomationAssumeRoleArn)',
      AllowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$',
    },
  };
  if (!organization) Object.assign(parameters, remediationParameters);
  for (const name of ruleParameters) {
    parameters[packParameterName(name)] = {
      Type: 'String',
      Default: defaults[name] ?? '',
      Description: RULE_PARAMETERS[name].description,
    };
  }
  const remediation = {
    IamUserNoDirectPoliciesRemediation: {
      Type: 'AWS::Config::RemediationConfiguration',
      Properties: {
        ConfigRuleName: { Ref: 'IamUserNoDirectPolicies' },
        TargetType: 'SSM_DOCUMENT',
        TargetId: { Ref: DOCUMENT_PARAMETER },
        // Manual: an operator chooses Remediate for a user; nothing changes on its own.
        Automatic: false,
        Parameters: {
          AutomationAssumeRole: { StaticValue: { Values: [{ Ref: AUTOMATION_ROLE_PARAMETER }] } },
          IAMResourceId: { ResourceValue: { Value: 'RESOURCE_ID' } },
          // The document only plans by default; choosing Remediate means apply.
          DryRun: { StaticValue: { Values: ['false'] } },
        },
      },
    },
  };
  return {
    Description: organization
      ? 'AWS Config rule iam-user-no-direct-policies (Security Hub IAM.2) for every account of an organization'
      : 'AWS Config rule iam-user-no-direct-policies (Security Hub IAM.2) with its manual remediation',
    Parameters: parameters,
    Resources: {
      IamUserNoDirectPolicies: {
        Type: 'AWS::Config::ConfigRule',
        Properties: {
          ConfigRuleName: settings.ruleName,
          Description: RULE_DESCRIPTION,
          Scope: { ComplianceResourceTypes: ['AWS::IAM::User'] },
          InputParameters: Object.fromEntries(ruleParameters.map((n) => [n, { Ref: packParameterName(n) }])),
          MaximumExecutionFrequency: settings.periodicFrequency,
          Source: {
            Owner: 'CUSTOM_LAMBDA',
            SourceIdentifier: { Ref: FUNCTION_ARN_PARAMETER },
            SourceDetails: RULE_TRIGGERS.map((messageType) => ({
              EventSource: 'aws.config',
              MessageType: messageType,
              ...(messageType === 'ScheduledNotification'
                ? { MaximumExecutionFrequency: settings.periodicFrequency }
                : {}),
            })),
          },
        },
      },
      ...(organization ? {} : remediation),
    },
  };
}

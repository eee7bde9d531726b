import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';

/**
 * Every AWS action the rule calls, and nothing else: reporting (PutEvaluations), fetching oversized items
 * (GetResourceConfigHistory), reading its own recorded results for the sweep (GetComplianceDetailsByConfigRule)
 * and reading all users in one paginated call (GetAccountAuthorizationDetails). Read-only on IAM.
 */
export const RULE_ACTIONS = [
  'config:PutEvaluations',
  'config:GetResourceConfigHistory',
  'config:GetComplianceDetailsByConfigRule',
  'iam:GetAccountAuthorizationDetails',
] as const;

/**
 * The statements that allow the rule's calls. Only GetComplianceDetailsByConfigRule can be limited to a
 * resource (the rule's ARN); the other three have no resource-level permissions, so IAM requires "*".
 *
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsconfig.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
export function ruleCallStatements(configRuleArn: string): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'ReportAndReadConfigurationItems',
      effect: Effect.ALLOW,
      actions: ['config:PutEvaluations', 'config:GetResourceConfigHistory'],
      resources: ['*'],
    }),
    new PolicyStatement({
      sid: 'ReadOwnRuleResults',
      effect: Effect.ALLOW,
      actions: ['config:GetComplianceDetailsByConfigRule'],
      resources: [configRuleArn],
    }),
    new PolicyStatement({
      sid: 'ReadIamUsers',
      effect: Effect.ALLOW,
      actions: ['iam:GetAccountAuthorizationDetails'],
      resources: ['*'],
    }),
  ];
}

/** Why the "*" resources above are acceptable: the cdk-nag suppression reason, written once. */
export const RULE_WILDCARD_REASON =
  'config:PutEvaluations, config:GetResourceConfigHistory and iam:GetAccountAuthorizationDetails support no resource-level permissions (Service Authorization Reference), so IAM accepts only "*" for them; every action is named, none is a write to IAM.';

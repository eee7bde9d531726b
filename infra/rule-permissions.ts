import { Aws, Validations } from 'aws-cdk-lib';
import { Effect, type Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';

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
 * Every Config rule of the account and Region the policy is deployed in. Rule ARNs end in an ID Config
 * chooses (`config-rule/config-rule-ab12cd`), and the same function serves rules this project does not
 * create: the conformance pack's and, in organization mode, the local copy of the organization rule.
 */
export const THIS_ACCOUNTS_CONFIG_RULES = `arn:${Aws.PARTITION}:config:${Aws.REGION}:${Aws.ACCOUNT_ID}:config-rule/*`;

/**
 * The statements that allow the rule's calls. Only GetComplianceDetailsByConfigRule can be limited to a
 * resource (rules of this account); the other three have no resource-level permissions, so IAM requires "*".
 *
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsconfig.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
export function ruleCallStatements(configRuleArn: string = THIS_ACCOUNTS_CONFIG_RULES): PolicyStatement[] {
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
const RULE_WILDCARD_REASON =
  'config:PutEvaluations, config:GetResourceConfigHistory and iam:GetAccountAuthorizationDetails support no resource-level permissions (Service Authorization Reference), so IAM accepts only "*" for them; every action is named, none is a write to IAM.';

/**
 * Acknowledges, with their reasons, the cdk-nag findings a rule-call policy scoped to "any rule of this
 * account" raises.
 */
export function acknowledgeRuleCallWildcards(policy: Policy): void {
  Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: RULE_WILDCARD_REASON });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:config:<AWS::Region>:<AWS::AccountId>:config-rule/*]',
    reason:
      "AWS Config gives each rule an ARN of its own choosing, and the function also serves rules this stack does not create (a conformance pack's rule, the organization rule's copy in each account), so their ARNs are not known in advance; the statement allows only reading compliance results of this account's rules.",
  });
}

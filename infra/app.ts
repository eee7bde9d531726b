import { Annotations, type App, Aspects, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AccountStack } from './account-stack.js';
import { IamUserPolicyGuard } from './iam-user-policy-guard.js';
import { MemberRoleStack } from './member-role-stack.js';
import { OrganizationStack } from './organization-stack.js';
import { readSettings } from './settings.js';

/** The stack names `cdk deploy STACK` picks from. */
export const STACK_NAMES = {
  account: 'IamUserNoDirectPolicies',
  organization: 'IamUserNoDirectPolicies-Organization',
  memberRole: 'IamUserNoDirectPolicies-MemberRole',
} as const;

/** What the app entry passes in: the CDK App (with its context) and the target environment, if known. */
export interface AppOptions {
  readonly app: App;
  readonly env?: Environment;
}

/**
 * Builds every stack into `app`: the account deployment and the organization deployment, so both are
 * always synthesized and tested. cdk-nag's AwsSolutions checks run over all of them.
 */
export function buildApp({ app, env }: AppOptions): App {
  const read = readSettings((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  const problems = read.ok ? [] : read.problems;
  const common = {
    settings: read.settings,
    settingsProblems: problems,
    ...(env !== undefined ? { env } : {}),
  };
  new AccountStack(app, STACK_NAMES.account, {
    ...common,
    description: 'AWS Config custom rule: IAM users must not carry policies directly (Security Hub IAM.2)',
  });
  new OrganizationStack(app, STACK_NAMES.organization, {
    ...common,
    description: 'AWS Config organization rule: IAM users must not carry policies directly, in every account',
  });
  const memberRole = new MemberRoleStack(app, STACK_NAMES.memberRole, {
    ...(env !== undefined ? { env } : {}),
    description:
      'Member role for the organization rule, for accounts the StackSet does not reach (management account)',
  });
  // A bad setting stops the whole app, whichever stack is asked for.
  for (const problem of problems) Annotations.of(memberRole).addError(problem);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  Aspects.of(app).add(new IamUserPolicyGuard({ ruleParameters: read.settings.ruleParameters }));
  return app;
}

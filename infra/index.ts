// The package's entry point (`import { IamUserNoDirectPolicies } from 'iam-user-no-direct-policies'`): the
// constructs a CDK app adds, the Aspect that stops direct policies at synth, and the facts they are built on.

export { RULE_PARAMETERS, type RuleParameterName } from '../rule/parameters.js';
export { IamUserNoDirectPolicies, type IamUserNoDirectPoliciesProps } from './account-deployment.js';
export { conformancePackTemplate } from './conformance-pack.js';
export { IamUserPolicyGuard, type IamUserPolicyGuardProps } from './iam-user-policy-guard.js';
export { MEMBER_ROLE_NAME, MemberRoleStack } from './member-role-stack.js';
export {
  IamUserNoDirectPoliciesOrganization,
  type IamUserNoDirectPoliciesOrganizationProps,
} from './organization-deployment.js';
export { PERIODIC_FREQUENCIES, type PeriodicFrequency, type RuleParameterValues } from './settings.js';

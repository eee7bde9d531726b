import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BundledFunction } from './bundled-function.js';
import { RULE_ENTRY } from './bundling.js';

/** Properties of the rule's Lambda function. */
export interface RuleFunctionProps {
  /**
   * Organization mode: the role the function assumes in each member account (set as MEMBER_ROLE_NAME).
   * @default - single account: the function evaluates only its own account
   */
  readonly memberRoleName?: string;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

/**
 * The rule function's memory, in MB. Measured (`npm run bench -- --only memory`, docs/reliability.md): a
 * scheduled sweep of 20,000 users, each with IAM's maximum of 2,048 characters of inline policy, peaks at
 * 179 MiB RSS in the bundled function (134 MiB at 5,000 users, IAM's default user quota). The benchmark's
 * target is to stay under half of the function's memory, so that a larger page or a slower garbage
 * collection never meets the limit: 512 MB (Lambda also gives more CPU with more memory, which shortens
 * the sweep's JSON and XML work).
 */
export const RULE_FUNCTION_MEMORY_MB = 512;

/**
 * The rule's Lambda function (rule/handler.ts). A sweep of a large account reads every user, hence five
 * minutes. The caller grants the AWS calls, since which rule ARN they concern depends on the deployment.
 */
export class RuleFunction extends BundledFunction {
  constructor(scope: Construct, id: string, props: RuleFunctionProps = {}) {
    super(scope, id, {
      entry: RULE_ENTRY,
      bundleName: 'rule',
      memorySize: RULE_FUNCTION_MEMORY_MB,
      description: 'AWS Config custom rule: IAM users must not carry policies directly (Security Hub IAM.2)',
      ...(props.memberRoleName !== undefined
        ? { environment: { MEMBER_ROLE_NAME: props.memberRoleName } }
        : {}),
      ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
    });
  }
}

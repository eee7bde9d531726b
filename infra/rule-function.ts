import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLING, REPO_ROOT, RULE_ENTRY } from './bundling.js';

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
 * The rule's Lambda function: bundled with esbuild (ESM, minified, source maps, SDK clients bundled),
 * Node.js 24 on arm64, with its own log group and a role that can write only to that log group. The caller
 * grants the AWS calls, since which rule ARN they concern depends on the deployment.
 */
export class RuleFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RuleFunctionProps = {}) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'AWS Config rule iam-user-no-direct-policies: reads IAM users, reports evaluations',
    });
    // Instead of AWSLambdaBasicExecutionRole (any log group): only this function's log group.
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'WriteOwnLogs',
        effect: Effect.ALLOW,
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: RULE_ENTRY,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}/package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      // A sweep of a large account reads every user; Config's own invocation limit is far above this.
      timeout: Duration.minutes(5),
      role: this.role,
      logGroup: this.logGroup,
      description: 'AWS Config custom rule: IAM users must not carry policies directly (Security Hub IAM.2)',
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.memberRoleName !== undefined ? { MEMBER_ROLE_NAME: props.memberRoleName } : {}),
      },
      bundling: BUNDLING,
    });
  }
}

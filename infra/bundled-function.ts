import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLING, REPO_ROOT } from './bundling.js';

/** Properties of one of the project's Lambda functions. */
export interface BundledFunctionProps {
  /** The TypeScript entry point exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** Megabytes. @default 256 */
  readonly memorySize?: number;
  /** @default {} (NODE_OPTIONS for source maps is always set) */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

/**
 * A project Lambda function: bundled with esbuild (ESM, minified, source maps, SDK clients bundled), on the
 * pinned Node.js 24 runtime (not NODEJS_LATEST, which moves under you) on arm64, with its own log group and
 * a role of its own that can write only to that log group. Callers add exactly the AWS calls it makes.
 */
export class BundledFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
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
      entry: props.entry,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}/package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(5),
      role: this.role,
      logGroup: this.logGroup,
      description: props.description,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: BUNDLING,
    });
  }
}

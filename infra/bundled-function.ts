import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLING, PREBUILT_BUNDLES, REPO_ROOT } from './bundling.js';

/** Properties of one of the project's Lambda functions. */
export interface BundledFunctionProps {
  /** The TypeScript entry point exporting `handler`. */
  readonly entry: string;
  /**
   * The folder of the entry's prebuilt bundle (index.mjs) under PREBUILT_BUNDLES, used where the sources are
   * not: in the installed package, so that a user's `cdk synth` needs neither esbuild nor TypeScript.
   */
  readonly bundleName: string;
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
  readonly function: LambdaFunction;
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
    const common = {
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(5),
      role: this.role,
      logGroup: this.logGroup,
      description: props.description,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    };
    this.function = existsSync(props.entry)
      ? new NodejsFunction(this, 'Function', {
          ...common,
          entry: props.entry,
          handler: 'handler',
          projectRoot: REPO_ROOT,
          depsLockFilePath: `${REPO_ROOT}/package-lock.json`,
          bundling: BUNDLING,
        })
      : new LambdaFunction(this, 'Function', {
          ...common,
          code: Code.fromAsset(join(PREBUILT_BUNDLES, props.bundleName)),
          handler: 'index.handler',
        });
  }
}

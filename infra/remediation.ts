import { Aws, Duration, Fn, Validations } from 'aws-cdk-lib';
import { CfnRemediationConfiguration } from 'aws-cdk-lib/aws-config';
import { Effect, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { automationDocumentContent } from '../remediation/automation-document.js';
import { RULE_PARAMETERS_ENV } from '../remediation/function-environment.js';
import { MIGRATION_IAM_PERMISSIONS } from '../remediation/permissions.js';
import { BundledFunction } from './bundled-function.js';
import { MIGRATION_ENTRY } from './bundling.js';

/**
 * Automatic remediation limits, deliberately conservative: a user is tried at most twice, ten minutes apart,
 * and Config runs at most 10% of the rule's non-compliant users at once and stops when 10% fail.
 *
 * @see https://docs.aws.amazon.com/config/latest/APIReference/API_RemediationConfiguration.html
 */
export const AUTOMATIC_REMEDIATION_LIMITS = {
  maximumAutomaticAttempts: 2,
  retryAttemptSeconds: 600,
  concurrentExecutionRatePercentage: 10,
  errorPercentage: 10,
} as const;

/**
 * The migration function's memory, in MB. Measured (`npm run bench -- --only memory`, docs/reliability.md): a
 * dry run planning one user in an account of 20,000 users, each with IAM's maximum of 2,048 characters of
 * inline policy, and 299 groups and 1,499 customer managed policies (one short of IAM's default quotas) with
 * every document at IAM's maximum size and five versions of each policy, peaks at 311 MiB RSS in the bundled
 * function (305 MiB at 5,000 users): the customer managed policies' pages, every version with its document,
 * weigh most, not the users. The default 256 MB would not hold that read. The target is to stay under half
 * of the function's memory, as for the rule (a real run also keeps the first read's state while it reads again
 * under the policy set's lease): 1024 MB.
 */
export const MIGRATION_FUNCTION_MEMORY_MB = 1024;

/** Properties of the remediation. */
export interface RemediationProps {
  /**
   * The Config rule (its name) whose non-compliant users the remediation fixes.
   * @default - no remediation configuration: the runbook, its role and the function only (a conformance
   * pack brings the rule and its remediation configuration)
   */
  readonly configRuleName?: string;
  /** Remediate without an operator. @default false */
  readonly automatic?: boolean;
  /**
   * The deployed rule's InputParameters, passed to the migration function so that it refuses the users the
   * rule exempts. @default {} (the rule's defaults)
   */
  readonly ruleInputParameters?: Readonly<Record<string, string>>;
}

/**
 * The remediation: the migration function, the SSM Automation document that invokes it, the role
 * Automation runs as (trusted only by Systems Manager in this account, allowed only to invoke that
 * function), and the Config remediation configuration that passes the user's ID (RESOURCE_ID) as
 * IAMResourceId. Manual unless `automatic`: an operator chooses Remediate, or runs the document.
 */
export class Remediation extends Construct {
  readonly migrationFunction: BundledFunction;
  readonly document: CfnDocument;
  readonly automationRole: Role;
  /** The Config remediation configuration; undefined without `configRuleName`. */
  readonly configuration: CfnRemediationConfiguration | undefined;

  constructor(scope: Construct, id: string, props: RemediationProps = {}) {
    super(scope, id);
    this.migrationFunction = new BundledFunction(this, 'Migration', {
      entry: MIGRATION_ENTRY,
      bundleName: 'migration',
      description: "Moves an IAM user's policies to groups without changing anyone's permissions (IAM.2)",
      // An aws:invokeLambdaFunction step waits at most 300 seconds.
      timeout: Duration.seconds(300),
      memorySize: MIGRATION_FUNCTION_MEMORY_MB,
      environment: { [RULE_PARAMETERS_ENV]: JSON.stringify(props.ruleInputParameters ?? {}) },
    });
    const migrationCalls = new Policy(this, 'MigrationCalls', {
      roles: [this.migrationFunction.role],
      statements: migrationStatements(),
    });
    acknowledgeMigrationWildcards(migrationCalls);

    this.document = new CfnDocument(this, 'Document', {
      documentType: 'Automation',
      documentFormat: 'JSON',
      // A new version on update, so the document keeps its name (and the remediation its target).
      updateMethod: 'NewVersion',
      content: automationDocumentContent(this.migrationFunction.function.functionName),
    });

    this.automationRole = new Role(this, 'AutomationRole', {
      // Only Systems Manager acting for this account may assume it (confused-deputy protection).
      assumedBy: new ServicePrincipal('ssm.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: {
          'aws:SourceArn': `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:automation-execution/*`,
        },
      }),
      description: 'Runs the IAM.2 remediation Automation document: may only invoke the migration function',
    });
    this.automationRole.addToPolicy(
      new PolicyStatement({
        sid: 'InvokeMigrationFunction',
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [this.migrationFunction.function.functionArn],
      }),
    );

    const automatic = props.automatic ?? false;
    if (props.configRuleName === undefined) {
      this.configuration = undefined;
      return;
    }
    this.configuration = new CfnRemediationConfiguration(this, 'Configuration', {
      configRuleName: props.configRuleName,
      targetType: 'SSM_DOCUMENT',
      targetId: this.document.ref,
      automatic,
      parameters: {
        AutomationAssumeRole: { StaticValue: { Values: [this.automationRole.roleArn] } },
        IAMResourceId: { ResourceValue: { Value: 'RESOURCE_ID' } },
        // The document only plans by default; choosing Remediate (or automatic remediation) means apply.
        DryRun: { StaticValue: { Values: ['false'] } },
      },
      maximumAutomaticAttempts: AUTOMATIC_REMEDIATION_LIMITS.maximumAutomaticAttempts,
      retryAttemptSeconds: AUTOMATIC_REMEDIATION_LIMITS.retryAttemptSeconds,
      executionControls: {
        ssmControls: {
          concurrentExecutionRatePercentage: AUTOMATIC_REMEDIATION_LIMITS.concurrentExecutionRatePercentage,
          errorPercentage: AUTOMATIC_REMEDIATION_LIMITS.errorPercentage,
        },
      },
    });
  }
}

/** The migration role's statements, built from MIGRATION_IAM_PERMISSIONS: one statement per resource. */
function migrationStatements(): PolicyStatement[] {
  const byResource = new Map<string, string[]>();
  for (const p of MIGRATION_IAM_PERMISSIONS) {
    byResource.set(p.resource, [...(byResource.get(p.resource) ?? []), p.action]);
  }
  return [...byResource].map(
    ([resource, actions]) =>
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions,
        resources: [resource === '*' ? '*' : Fn.sub(resource)],
      }),
  );
}

/** Acknowledges each wildcard resource of the migration role, with the reasons remediation/permissions.ts gives. */
function acknowledgeMigrationWildcards(policy: Policy): void {
  const byResource = new Map<string, string[]>();
  for (const p of MIGRATION_IAM_PERMISSIONS) {
    if (!p.resource.includes('*')) continue;
    byResource.set(p.resource, [...(byResource.get(p.resource) ?? []), `${p.action}: ${p.why}`]);
  }
  for (const [resource, whys] of byResource) {
    // cdk-nag writes ${AWS::Partition} as <AWS::Partition> in finding IDs.
    const finding = resource.replace(/\$\{([^}]+)\}/g, '<$1>');
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${finding}]`,
      reason: whys.join(' '),
    });
  }
}

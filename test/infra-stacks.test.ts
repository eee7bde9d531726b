import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Policy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AccountStack } from '../infra/account-stack.js';
import { buildApp, STACK_NAMES } from '../infra/app.js';
import { MEMBER_ROLE_NAME } from '../infra/member-role-stack.js';
import { AUTOMATIC_REMEDIATION_LIMITS } from '../infra/remediation.js';
import { RULE_ACTIONS, ruleCallStatements } from '../infra/rule-permissions.js';
import { readSettings } from '../infra/settings.js';
import { ensurePythonTools } from '../local/python-env.js';
import { MIGRATION_IAM_PERMISSIONS } from '../remediation/permissions.js';
import { RULE_PARAMETERS } from '../rule/parameters.js';

const ACCOUNT = '111111111111';
const env = { account: ACCOUNT, region: 'eu-west-1' };
const outdirs: string[] = [];
const newOutdir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'infra-test-'));
  outdirs.push(dir);
  return dir;
};

let app: App;
let assembly: CloudAssembly;
let account: Template;
let organization: Template;
let memberRole: Template;
const stack = (name: string) => app.node.findChild(name) as Stack;

beforeAll(() => {
  // Synthesized once for the whole file: bundling the functions is the slow part.
  app = buildApp({
    app: new App({ outdir: newOutdir(), context: { exemptUserNames: 'breakglass', alarmTopicArn: '' } }),
    env,
  });
  assembly = app.synth();
  account = Template.fromStack(stack(STACK_NAMES.account));
  organization = Template.fromStack(stack(STACK_NAMES.organization));
  memberRole = Template.fromStack(stack(STACK_NAMES.memberRole));
});

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The Allow statements of the IAM policies attached to roles whose logical ID starts with `rolePrefix`. */
function allowStatements(template: Template, rolePrefix = ''): Statement[] {
  const roleIds = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) =>
    id.startsWith(rolePrefix),
  );
  const statements: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles ?? []) as { Ref: string }[];
    if (!roles.some((r) => roleIds.includes(r.Ref))) continue;
    statements.push(
      ...policy.Properties.PolicyDocument.Statement.filter((st: { Effect: string }) => st.Effect === 'Allow'),
    );
  }
  return statements;
}
const actionsOf = (template: Template, rolePrefix = '') =>
  allowStatements(template, rolePrefix).flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));

describe('the account stack', () => {
  it('runs the rule on Node.js 24 (pinned, not NODEJS_LATEST) on arm64 from an ESM bundle', () => {
    const fn = (stack(STACK_NAMES.account) as AccountStack).ruleFunction.function;
    expect(fn.runtime.name).toBe('nodejs24.x');
    expect(fn.runtime.isVariable).toBe(false);
    account.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
  });

  it('bundles the SDK clients into one minified .mjs file with a source map and no CommonJS require', () => {
    const dirs = readdirSync(assembly.directory).filter((d) => d.startsWith('asset.'));
    const ruleBundle = dirs
      .map((d) => join(assembly.directory, d))
      .find(
        (d) =>
          readdirSync(d).includes('index.mjs') &&
          // Only the rule reports evaluations (the migration function also reads the account).
          readFileSync(join(d, 'index.mjs'), 'utf8').includes('PutEvaluations'),
      );
    expect(ruleBundle).toBeDefined();
    const files = readdirSync(ruleBundle as string);
    expect(files).toEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map']));
    const code = readFileSync(join(ruleBundle as string, 'index.mjs'), 'utf8');
    // Assertions on booleans: a failure must not print half a megabyte of minified code.
    expect(/from\s*"@aws-sdk\//.test(code), 'SDK imports left external').toBe(false);
    expect(
      /__require|typeof require<"u"/.test(code),
      'esbuild require shim: add a createRequire banner',
    ).toBe(false);
    // Imports cleanly as an ES module in a fresh Node process: what Lambda does on a cold start.
    const load = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(ruleBundle as string, 'index.mjs'))}); console.log(typeof m.handler);`,
      ],
      { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'eu-west-1' } },
    );
    expect(load.stdout.trim(), load.stderr).toBe('function');
    // Minified: a handful of very long lines (the few line breaks are inside the SDK's template strings).
    expect(code.length / code.split('\n').length, 'minified').toBeGreaterThan(2000);
    // The size budget: 400 KiB (test/perf-counts.test.ts pins the exact bytes within 5%).
    expect(code.length).toBeLessThanOrEqual(409_600);
  });

  it('gives the function its own log group with a retention period', () => {
    account.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    account.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^RuleLogs') } },
    });
  });

  it('scopes the custom rule to IAM users, fired by changes (oversized too) and every 24 hours', () => {
    account.hasResourceProperties('AWS::Config::ConfigRule', {
      ConfigRuleName: 'iam-user-no-direct-policies',
      Scope: { ComplianceResourceTypes: ['AWS::IAM::User'] },
      MaximumExecutionFrequency: 'TwentyFour_Hours',
      Source: {
        Owner: 'CUSTOM_LAMBDA',
        SourceIdentifier: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RuleFunction'), 'Arn'] },
        SourceDetails: [
          { EventSource: 'aws.config', MessageType: 'ConfigurationItemChangeNotification' },
          { EventSource: 'aws.config', MessageType: 'OversizedConfigurationItemChangeNotification' },
          {
            EventSource: 'aws.config',
            MessageType: 'ScheduledNotification',
            MaximumExecutionFrequency: 'TwentyFour_Hours',
          },
        ],
      },
    });
  });

  it('passes the rule parameters from CDK context, every other parameter at its default', () => {
    const input = Object.values(account.findResources('AWS::Config::ConfigRule'))[0]?.Properties
      .InputParameters;
    expect(input).toEqual({
      exemptUserNames: 'breakglass',
      checkManagedPolicies: RULE_PARAMETERS.checkManagedPolicies.default,
      checkInlinePolicies: RULE_PARAMETERS.checkInlinePolicies.default,
      exemptSesSmtpUsers: RULE_PARAMETERS.exemptSesSmtpUsers.default,
    });
  });

  it('lets only this account’s AWS Config invoke the function', () => {
    account.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'config.amazonaws.com',
      SourceAccount: ACCOUNT,
    });
    account.resourceCountIs('AWS::Lambda::Permission', 1);
  });

  it('grants the rule role exactly the rule’s calls and its own logs: no wildcard actions, no IAM writes, no managed policies', () => {
    const actions = new Set(actionsOf(account, 'RuleRole'));
    expect(actions).toEqual(new Set([...RULE_ACTIONS, 'logs:CreateLogStream', 'logs:PutLogEvents']));
    for (const action of actions) expect(action).not.toContain('*');
    for (const role of Object.values(account.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('limits reading recorded results to rules of this account, so the conformance pack’s rule on the same function can sweep too', () => {
    // The pack's rule gets an ARN Config chooses (config-rule/config-rule-<id>), unknown to this stack.
    const read = allowStatements(account, 'RuleRole').find(
      (s) => s.Action === 'config:GetComplianceDetailsByConfigRule',
    );
    expect(read?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':config:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':config-rule/*',
        ],
      ],
    });
  });

  it('alarms on the first rule-function error', () => {
    account.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('the remediation', () => {
  it('deploys the Automation document with the migration function’s name filled in', () => {
    account.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Automation',
      Content: Match.objectLike({
        schemaVersion: '0.3',
        mainSteps: Match.arrayWith([
          Match.objectLike({
            action: 'aws:invokeLambdaFunction',
            inputs: Match.objectLike({
              FunctionName: { Ref: Match.stringLikeRegexp('^RemediationMigrationFunction') },
            }),
          }),
        ]),
      }),
    });
  });

  it('is manual by default and passes the user ID Config gives as IAMResourceId, applying (not a dry run)', () => {
    account.hasResourceProperties('AWS::Config::RemediationConfiguration', {
      ConfigRuleName: { Ref: 'ConfigRule' },
      TargetType: 'SSM_DOCUMENT',
      TargetId: { Ref: Match.stringLikeRegexp('^RemediationDocument') },
      Automatic: false,
      Parameters: {
        AutomationAssumeRole: {
          StaticValue: {
            Values: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^RemediationAutomationRole'), 'Arn'] }],
          },
        },
        IAMResourceId: { ResourceValue: { Value: 'RESOURCE_ID' } },
        DryRun: { StaticValue: { Values: ['false'] } },
      },
    });
  });

  it('limits automatic attempts, retries and concurrency conservatively', () => {
    account.hasResourceProperties('AWS::Config::RemediationConfiguration', {
      MaximumAutomaticAttempts: AUTOMATIC_REMEDIATION_LIMITS.maximumAutomaticAttempts,
      RetryAttemptSeconds: AUTOMATIC_REMEDIATION_LIMITS.retryAttemptSeconds,
      ExecutionControls: {
        SsmControls: {
          ConcurrentExecutionRatePercentage: AUTOMATIC_REMEDIATION_LIMITS.concurrentExecutionRatePercentage,
          ErrorPercentage: AUTOMATIC_REMEDIATION_LIMITS.errorPercentage,
        },
      },
    });
  });

  it('runs the Automation as a role only Systems Manager in this account may assume, allowed only to invoke the migration function', () => {
    account.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'ssm.amazonaws.com' },
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          },
        ],
      },
    });
    expect(allowStatements(account, 'RemediationAutomationRole')).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RemediationMigrationFunction/), 'Arn'] },
      }),
    ]);
  });

  it('gives the migration function exactly the IAM actions remediation/permissions.ts lists', () => {
    const iamActions = actionsOf(account, 'RemediationMigrationRole').filter((a) => a.startsWith('iam:'));
    expect(new Set(iamActions)).toEqual(new Set(MIGRATION_IAM_PERMISSIONS.map((p) => p.action)));
    for (const action of actionsOf(account, 'RemediationMigrationRole')) expect(action).not.toContain('*');
  });

  it('alarms on a failed remediation', () => {
    account.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^RemediationMigrationFunction') } },
      ],
    });
  });
});

describe('the organization stacks', () => {
  it('create an organization rule for IAM users that invokes the central function', () => {
    organization.hasResourceProperties('AWS::Config::OrganizationConfigRule', {
      OrganizationConfigRuleName: 'iam-user-no-direct-policies',
      OrganizationCustomRuleMetadata: {
        LambdaFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RuleFunction'), 'Arn'] },
        OrganizationConfigRuleTriggerTypes: [
          'ConfigurationItemChangeNotification',
          'OversizedConfigurationItemChangeNotification',
          'ScheduledNotification',
        ],
        ResourceTypesScope: ['AWS::IAM::User'],
        MaximumExecutionFrequency: 'TwentyFour_Hours',
        InputParameters: Match.serializedJson(Match.objectLike({ exemptUserNames: 'breakglass' })),
      },
    });
    const rule = Object.values(organization.findResources('AWS::Config::OrganizationConfigRule'))[0];
    expect(rule?.DependsOn).toEqual(expect.arrayContaining(['InvokeFromOrganizationConfig', 'MemberRoles']));
  });

  it('let AWS Config invoke the function only on behalf of accounts of the organization', () => {
    organization.hasResourceProperties('AWS::Lambda::ResourcePolicy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'config.amazonaws.com' },
            Action: 'lambda:InvokeFunction',
            Condition: { StringEquals: { 'aws:SourceOrgID': { Ref: 'OrganizationId' } } },
          },
        ],
      },
    });
    // Mixing Lambda::Permission with Lambda::ResourcePolicy overwrites one with the other.
    organization.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  it('let the function assume only the member role, only in accounts of the organization', () => {
    const assume = allowStatements(organization).filter((s) => s.Action === 'sts:AssumeRole');
    expect(assume).toEqual([
      expect.objectContaining({
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::*:role/${MEMBER_ROLE_NAME}`]],
        },
        Condition: { StringEquals: { 'aws:ResourceOrgID': { Ref: 'OrganizationId' } } },
      }),
    ]);
    organization.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MEMBER_ROLE_NAME }) },
    });
  });

  it('deploy the member role to every account of the target OUs with a service-managed, auto-deploying StackSet', () => {
    organization.hasResourceProperties('AWS::CloudFormation::StackSet', {
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'DELEGATED_ADMIN',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      Parameters: [
        {
          ParameterKey: 'CentralRuleRoleArn',
          ParameterValue: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RuleRole'), 'Arn'] },
        },
      ],
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: { Ref: 'TargetOrganizationalUnitIds' } },
          Regions: [{ Ref: 'AWS::Region' }],
        },
      ],
    });
    const body = Object.values(organization.findResources('AWS::CloudFormation::StackSet'))[0]?.Properties
      .TemplateBody as string;
    expect(JSON.parse(body).Resources).toEqual(memberRole.toJSON().Resources);
  });

  it('make a member role that only the central function’s role may assume, allowed exactly the rule’s calls', () => {
    memberRole.hasResourceProperties('AWS::IAM::Role', {
      RoleName: MEMBER_ROLE_NAME,
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { Ref: 'CentralRuleRoleArn' } } },
        ],
      },
    });
    expect(new Set(actionsOf(memberRole))).toEqual(new Set(RULE_ACTIONS));
  });
});

describe('settings and Regions', () => {
  const synthAccount = (context: Record<string, unknown>, region = 'eu-west-1') => {
    const read = readSettings((key) => context[key]);
    // No bundling for these probes: only their templates matter, and bundling is the slow part.
    const scope = new App({ outdir: newOutdir(), context: { 'aws:cdk:bundling-stacks': [] } });
    return new AccountStack(scope, 'Probe', {
      env: { account: ACCOUNT, region },
      settings: read.settings,
      settingsProblems: read.ok ? [] : read.problems,
    });
  };

  it('an invalid rule parameter in context is a synthesis error that names it', () => {
    const probe = synthAccount({ exemptPathPrefixes: 'no-slashes' });
    Annotations.fromStack(probe).hasError('*', Match.stringLikeRegexp('exemptPathPrefixes'));
  });

  it('an unknown periodic frequency is a synthesis error that names the context key', () => {
    const probe = synthAccount({ periodicFrequency: 'Every_Minute' });
    Annotations.fromStack(probe).hasError('*', Match.stringLikeRegexp('context "periodicFrequency"'));
  });

  it('a periodic frequency from context is used by the rule', () => {
    const probe = synthAccount({ periodicFrequency: 'Six_Hours' });
    Template.fromStack(probe).hasResourceProperties('AWS::Config::ConfigRule', {
      MaximumExecutionFrequency: 'Six_Hours',
    });
  });

  it('automatic remediation only when asked for in context', () => {
    Template.fromStack(synthAccount({ automaticRemediation: 'true' })).hasResourceProperties(
      'AWS::Config::RemediationConfiguration',
      { Automatic: true },
    );
  });

  it('an alarm topic from context receives the alarms and failed Automation executions', () => {
    const probe = synthAccount({ alarmTopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:security-alerts` });
    const template = Template.fromStack(probe);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [`arn:aws:sns:eu-west-1:${ACCOUNT}:security-alerts`],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        'detail-type': ['EC2 Automation Execution Status-change Notification'],
        detail: { Status: ['Failed', 'TimedOut', 'Cancelled'] },
      },
      Targets: [Match.objectLike({ Arn: `arn:aws:sns:eu-west-1:${ACCOUNT}:security-alerts` })],
    });
  });

  it('an alarm fires on failed, timed-out or cancelled remediation executions, with or without a topic', () => {
    const template = Template.fromStack(synthAccount({}));
    const rules = template.findResources('AWS::Events::Rule');
    const [ruleId, rule] = Object.entries(rules)[0] ?? [];
    expect(rule?.Properties.EventPattern).toMatchObject({
      source: ['aws.ssm'],
      detail: { Status: ['Failed', 'TimedOut', 'Cancelled'] },
    });
    expect(rule?.Properties.Targets).toBeUndefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'TriggeredRules',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: ruleId } }],
      Threshold: 1,
    });
  });

  it('failed Automation executions reach the topic through a role allowed only to publish to it', () => {
    // The topic is not this stack's: its resource policy, which EventBridge would otherwise need, is not ours to change.
    const topicArn = `arn:aws:sns:eu-west-1:${ACCOUNT}:security-alerts`;
    const probe = synthAccount({ alarmTopicArn: topicArn });
    const template = Template.fromStack(probe);
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0];
    const roleId = (rule?.Properties.Targets[0].RoleArn as { 'Fn::GetAtt': string[] } | undefined)?.[
      'Fn::GetAtt'
    ]?.[0];
    expect(roleId).toBeTypeOf('string');
    const role = template.findResources('AWS::IAM::Role')[roleId ?? ''];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' } }),
    ]);
    expect(allowStatements(template, roleId)).toEqual([
      expect.objectContaining({ Action: 'sns:Publish', Resource: topicArn }),
    ]);
    expect(new AwsSolutionsChecks(probe).validateScope(probe).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('synthesis warns when the Region cannot record IAM users', () => {
    const probe = synthAccount({}, 'ap-south-2');
    Annotations.fromStack(probe).hasWarning(
      '*',
      Match.stringLikeRegexp('cannot record IAM users.*ap-south-2'),
    );
  });

  it('synthesis does not warn in a Region that records IAM users', () => {
    const probe = synthAccount({}, 'eu-west-1');
    Annotations.fromStack(probe).hasNoWarning('*', Match.anyValue());
  });
});

describe('checks over the synthesized templates', () => {
  it('cdk-nag AwsSolutions finds nothing unacknowledged in any stack', () => {
    for (const name of Object.values(STACK_NAMES)) {
      const report = new AwsSolutionsChecks(app).validateScope(stack(name));
      expect(report.violations.map((v) => `${name}: ${v.ruleName}`)).toEqual([]);
    }
  });

  it('cdk-nag reports the rule’s wildcard resources when they are not acknowledged (the check is live)', () => {
    const probe = new Stack(new App({ outdir: newOutdir() }), 'Unacknowledged');
    new Policy(probe, 'RuleCalls', {
      roles: [new Role(probe, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') })],
      statements: ruleCallStatements('arn:aws:config:eu-west-1:111111111111:config-rule/config-rule-abc'),
    });
    const report = new AwsSolutionsChecks(probe).validateScope(probe);
    expect(report.violations.map((v) => v.ruleName)).toEqual(['AwsSolutions-IAM5[Resource::*]']);
  });

  it('cfn-lint passes every synthesized template and the conformance pack', () => {
    const { cfnLint } = ensurePythonTools();
    const dir = newOutdir();
    const pack = spawnSync('npm', ['run', '--silent', 'conformance-pack'], { encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    writeFileSync(join(dir, 'conformance-pack.yaml'), pack.stdout);
    const templates = Object.values(STACK_NAMES).map((name) =>
      join(assembly.directory, `${name}.template.json`),
    );
    // W3005: the CDK adds DependsOn on the role alongside the GetAtt, on purpose (the role's policy must exist first).
    const lint = spawnSync(
      cfnLint,
      ['--ignore-checks', 'W3005', '--', ...templates, join(dir, 'conformance-pack.yaml')],
      {
        encoding: 'utf8',
      },
    );
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });
});

describe('the conformance pack', () => {
  let pack: {
    Parameters: Record<string, unknown>;
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  beforeAll(() => {
    const run = spawnSync('npm', ['run', '--silent', 'conformance-pack'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    pack = parse(run.stdout);
  });

  it('is YAML on stdout with the rule, whose function ARN is a template parameter', () => {
    expect(pack.Parameters).toHaveProperty('RuleFunctionArn');
    expect(pack.Resources.IamUserNoDirectPolicies).toMatchObject({
      Type: 'AWS::Config::ConfigRule',
      Properties: {
        Scope: { ComplianceResourceTypes: ['AWS::IAM::User'] },
        Source: { Owner: 'CUSTOM_LAMBDA', SourceIdentifier: { Ref: 'RuleFunctionArn' } },
      },
    });
  });

  it('exposes every rule parameter as a pack parameter with its default', () => {
    for (const [name, spec] of Object.entries(RULE_PARAMETERS)) {
      const packName = `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
      expect(pack.Parameters[packName]).toMatchObject({ Type: 'String', Default: spec.default });
    }
  });

  it('remediates manually, passing the user ID as IAMResourceId', () => {
    expect(pack.Resources.IamUserNoDirectPoliciesRemediation).toMatchObject({
      Type: 'AWS::Config::RemediationConfiguration',
      Properties: {
        Automatic: false,
        TargetType: 'SSM_DOCUMENT',
        Parameters: {
          IAMResourceId: { ResourceValue: { Value: 'RESOURCE_ID' } },
          DryRun: { StaticValue: { Values: ['false'] } },
        },
      },
    });
  });
});

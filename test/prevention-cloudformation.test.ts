import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkTexts } from '../prevent/check.js';
import type { IacFinding } from '../prevent/judge.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { InputError } from '../rule/schemas/config-rule-event.js';
import { policyNames, user } from './support/findings.js';

const FIXTURE = 'test/fixtures/templates/hand-written.yaml';
const handWritten = readFileSync(FIXTURE, 'utf8');
const defaults = parseRuleParameters({});

function check(text: string, params = defaults, file = 'template.yaml'): IacFinding[] {
  return checkTexts([{ file, text }], params);
}
/** The 1-based line of the first line of `text` that starts (after indentation) with `start`. */
const lineOf = (text: string, start: string) =>
  text.split('\n').findIndex((l) => l.trimStart().startsWith(start)) + 1;

describe('check-template on a hand-written CloudFormation YAML template', () => {
  const findings = check(handWritten, defaults, FIXTURE);

  it('a user with ManagedPolicyArns is NON_COMPLIANT, with names read through !Sub, !FindInMap and parameter defaults', () => {
    const deploy = user(findings, 'deploy-prod');
    expect(deploy.verdict.compliance).toBe('NON_COMPLIANT');
    expect(policyNames(deploy)).toEqual(
      expect.arrayContaining(['AmazonS3ReadOnlyAccess (managed)', 'ReadOnlyAccess (managed)']),
    );
    expect(deploy.user.path).toBe('/service/');
  });

  it('an !If attaches when either branch attaches, even the branch the parameter defaults do not choose', () => {
    expect(policyNames(user(findings, 'deploy-prod'))).toContain('AdministratorAccess (managed)');
  });

  it('a policy ARN imported from another stack still counts, and the finding says it is unknown rather than guessing', () => {
    const deploy = user(findings, 'deploy-prod');
    expect(deploy.verdict.directPolicies).toHaveLength(4);
    expect(deploy.candidate.notes.join('\n')).toMatch(
      /Fn::ImportValue.*parameter SharedPolicyExport has no default/,
    );
  });

  it('inline Policies on the user and an AWS::IAM::ManagedPolicy naming the user in Users both count', () => {
    const reporting = user(findings, 'reporting');
    expect(reporting.verdict.compliance).toBe('NON_COMPLIANT');
    expect(policyNames(reporting)).toEqual(['artifacts-write (managed)', 'read-reports (inline)']);
    expect(reporting.candidate.attachments.find((a) => a.name === 'artifacts-write')?.from).toBe(
      'ArtifactsPolicy',
    );
  });

  it('an AWS::IAM::Policy reaches a user of the template through !Ref, and a user without UserName is judged by its logical ID', () => {
    const generated = user(findings, 'GeneratedNameUser');
    expect(policyNames(generated)).toContain('shared-inline (inline)');
    expect(generated.candidate.notes.join('\n')).toMatch(/no UserName/);
  });

  it('an AWS::IAM::UserPolicy under a Condition counts, with a note that it exists only when the condition holds', () => {
    const generated = user(findings, 'GeneratedNameUser');
    expect(policyNames(generated)).toContain('prod-debug (inline)');
    expect(generated.candidate.notes.join('\n')).toMatch(
      /prod-debug from ProdOnlyUserPolicy \(only when condition IsProd is true\)/,
    );
  });

  it('a user named in Users but defined elsewhere is reported at the attaching resource, saying what is not known', () => {
    const robot = user(findings, 'ops-robot');
    expect(robot.verdict.compliance).toBe('NON_COMPLIANT');
    expect(robot.candidate.address).toBeUndefined();
    expect(robot.candidate.line).toBe(lineOf(handWritten, 'SharedInlinePolicy:'));
    expect(robot.candidate.notes.join('\n')).toMatch(/not defined in this file/);
  });

  it('a Users entry from a parameter without a default is reported as a user not known before deployment', () => {
    const unknownUser = findings.find((f) =>
      f.candidate.notes.some((n) => /ExistingUserName has no default/.test(n)),
    );
    expect(unknownUser?.verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('a user with only groups is COMPLIANT', () => {
    expect(user(findings, 'analyst').verdict.compliance).toBe('COMPLIANT');
  });

  it('a Guard suppression in Metadata is an exemption that names the suppression and still lists the policies', () => {
    const legacy = user(findings, 'legacy-integration');
    expect(legacy.verdict.compliance).toBe('COMPLIANT');
    expect(legacy.verdict.exemption).toEqual({
      kind: 'suppressed',
      by: 'Metadata guard.SuppressedRules IAM_USER_NO_POLICIES_CHECK on LegacyIntegrationUser',
    });
    expect(legacy.verdict.annotation).toContain('AmazonSQSFullAccess (managed)');
  });

  it('without exemption parameters the tagged and /emergency/ users are NON_COMPLIANT', () => {
    expect(user(findings, 'break-glass-admin').verdict.compliance).toBe('NON_COMPLIANT');
    expect(user(findings, 'emergency-operator').verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('the rule parameters exempt by tag and by path exactly as the Config rule does', () => {
    const exempt = check(
      handWritten,
      parseRuleParameters({ exemptionTagKey: 'break-glass', exemptPathPrefixes: '/emergency/' }),
      FIXTURE,
    );
    expect(user(exempt, 'break-glass-admin').verdict.exemption).toEqual({
      kind: 'tag',
      tagKey: 'break-glass',
      reason: 'SEC-1234 approved emergency access',
    });
    expect(user(exempt, 'emergency-operator').verdict.exemption).toEqual({
      kind: 'path',
      prefix: '/emergency/',
    });
  });

  it('exemptUserNames matches the resolved user name without regard to case', () => {
    const exempt = check(handWritten, parseRuleParameters({ exemptUserNames: 'DEPLOY-PROD' }), FIXTURE);
    expect(user(exempt, 'deploy-prod').verdict.exemption).toEqual({ kind: 'user-name' });
  });

  it('requiredGroupName is met through an AWS::IAM::UserToGroupAddition that names the group by !Ref', () => {
    const required = check(handWritten, parseRuleParameters({ requiredGroupName: 'analysts' }), FIXTURE);
    expect(user(required, 'analyst').verdict.compliance).toBe('COMPLIANT');
    expect(user(required, 'reporting').verdict.missingRequiredGroup).toBe('analysts');
  });

  it('each finding points at the line of the user resource', () => {
    expect(user(findings, 'deploy-prod').candidate.line).toBe(lineOf(handWritten, 'DeployUser:'));
    expect(user(findings, 'reporting').candidate.line).toBe(lineOf(handWritten, 'ReportingUser:'));
  });
});

describe('check-template on small templates', () => {
  const json = JSON.stringify(
    {
      Resources: {
        Alice: {
          Type: 'AWS::IAM::User',
          Properties: { UserName: 'alice', ManagedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] },
        },
      },
    },
    null,
    2,
  );

  it('a JSON template gets the same verdict, with line numbers', () => {
    const [alice] = check(json, defaults, 'template.json');
    expect(alice?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(alice?.candidate.line).toBe(lineOf(json, '"Alice"'));
  });

  it('a suppression on the only attaching AWS::IAM::Policy exempts the user; on one of two it does not', () => {
    const template = (suppressSecond: boolean) => `
Resources:
  Bob:
    Type: AWS::IAM::User
    Properties: { UserName: bob }
  First:
    Type: AWS::IAM::Policy
    Metadata: { guard: { SuppressedRules: [IAM_USER_NO_POLICIES_CHECK] } }
    Properties: { PolicyName: first, PolicyDocument: {}, Users: [!Ref Bob] }
  Second:
    Type: AWS::IAM::Policy
    ${suppressSecond ? 'Metadata: { guard: { SuppressedRules: [IAM_USER_NO_POLICIES_CHECK] } }' : ''}
    Properties: { PolicyName: second, PolicyDocument: {}, Users: [bob] }
`;
    const [both] = check(template(true));
    expect(both?.verdict.exemption).toEqual({
      kind: 'suppressed',
      by: 'Metadata guard.SuppressedRules IAM_USER_NO_POLICIES_CHECK on First, Second',
    });
    const [one] = check(template(false));
    expect(one?.verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('a suppression of another rule changes nothing', () => {
    const [carol] = check(`
Resources:
  Carol:
    Type: AWS::IAM::User
    Metadata: { guard: { SuppressedRules: [IAM_NO_INLINE_POLICY_CHECK] } }
    Properties: { UserName: carol, Policies: [{ PolicyName: p, PolicyDocument: {} }] }
`);
    expect(carol?.verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('a user name chosen by !If is judged under both names: exempting one name is not enough', () => {
    const text = `
Conditions: { Blue: !Equals [a, a] }
Resources:
  Dana:
    Type: AWS::IAM::User
    Properties:
      UserName: !If [Blue, dana-blue, dana-green]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
`;
    expect(check(text, parseRuleParameters({ exemptUserNames: 'dana-blue' }))[0]?.verdict.compliance).toBe(
      'NON_COMPLIANT',
    );
    expect(
      check(text, parseRuleParameters({ exemptUserNames: 'dana-blue,dana-green' }))[0]?.verdict.compliance,
    ).toBe('COMPLIANT');
  });

  it('checkManagedPolicies "false" leaves a managed-only user COMPLIANT, as in the rule', () => {
    const [alice] = check(json, parseRuleParameters({ checkManagedPolicies: 'false' }));
    expect(alice?.verdict.compliance).toBe('COMPLIANT');
  });
});

describe('check-template on input it cannot read', () => {
  it('a YAML syntax error is an InputError naming the file and the line', () => {
    expect(() => check('Resources:\n  A: [unclosed\n', defaults, 'broken.yaml')).toThrow(
      /broken\.yaml: cannot be parsed as JSON or YAML \(line \d+\)/,
    );
  });

  it('a document without Resources (and not a Terraform plan) is rejected', () => {
    expect(() => check('{"AWSTemplateFormatVersion": "2010-09-09"}', defaults, 'x.json')).toThrow(InputError);
    expect(() => check('{"AWSTemplateFormatVersion": "2010-09-09"}', defaults, 'x.json')).toThrow(
      /x\.json: is not a CloudFormation template \(no Resources section\) or a Terraform plan/,
    );
  });

  it('a resource without a Type is rejected with the path of the field', () => {
    expect(() => check('Resources:\n  Alice:\n    Properties: {}\n')).toThrow(
      /not a valid CloudFormation template: Resources\.Alice\.Type/,
    );
  });

  it('a duplicate logical ID is rejected rather than silently keeping one of them', () => {
    expect(() =>
      check(
        'Resources:\n  A:\n    Type: AWS::IAM::User\n  A:\n    Type: AWS::IAM::User\n',
        defaults,
        'dup.yaml',
      ),
    ).toThrow(/dup\.yaml: cannot be parsed/);
  });

  it('an empty file and a YAML list are rejected', () => {
    expect(() => check('', defaults, 'empty.yaml')).toThrow(/empty\.yaml: is not a CloudFormation template/);
    expect(() => check('- a\n- b\n', defaults, 'list.yaml')).toThrow(
      /list\.yaml: is not a CloudFormation template/,
    );
  });
});

describe('check-template on other forms of CloudFormation', () => {
  const judge = (file: string, text: string) => checkTexts([{ file, text }], parseRuleParameters({}));

  it('YAML merge keys (<<: *anchor) are expanded: a policy written through an anchor counts', () => {
    const text = [
      'Resources:',
      '  Base: &user-defaults',
      '    Type: AWS::IAM::User',
      '    Properties: &props',
      '      Path: /team/',
      '      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]',
      '  Merged:',
      '    <<: *user-defaults',
      '    Properties:',
      '      <<: *props',
      '      UserName: merged',
      '  Grouped:',
      '    Type: AWS::IAM::User',
      '    Properties: { UserName: grouped, Groups: [readers] }',
    ].join('\n');
    const findings = judge('merge.yaml', text);
    expect(user(findings, 'merged').verdict.compliance).toBe('NON_COMPLIANT');
    expect(user(findings, 'merged').user.path).toBe('/team/');
    expect(policyNames(user(findings, 'merged'))).toEqual(['ReadOnlyAccess (managed)']);
    expect(user(findings, 'grouped').verdict.compliance).toBe('COMPLIANT');
  });

  it('a SAM template: its serverless resources are no users; an IAM user with a policy in it is found', () => {
    const text = [
      'AWSTemplateFormatVersion: "2010-09-09"',
      'Transform: AWS::Serverless-2016-10-31',
      'Globals:',
      '  Function: { Runtime: nodejs20.x, Timeout: 10 }',
      'Resources:',
      '  Api:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      Handler: index.handler',
      '      CodeUri: src/',
      '      Policies: [AmazonS3ReadOnlyAccess]',
      '  Uploader:',
      '    Type: AWS::IAM::User',
      '    Properties:',
      '      UserName: !Join ["-", [!Ref AWS::StackName, uploader]]',
      '      Policies:',
      '        - PolicyName: put',
      '          PolicyDocument: { Version: "2012-10-17", Statement: [] }',
    ].join('\n');
    const findings = judge('sam.yaml', text);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.candidate.address).toBe('Uploader');
    expect(findings[0]?.verdict.compliance).toBe('NON_COMPLIANT');
  });
});

/** `${name}` as Fn::Sub writes it (a CloudFormation placeholder, not a JavaScript one). */
const v = (name: string) => `\${${name}}`;

describe('check-template on Fn::ForEach (AWS::LanguageExtensions)', () => {
  const FOREACH = 'test/fixtures/templates/foreach-users.yaml';
  const forEachText = readFileSync(FOREACH, 'utf8');
  const findings = check(forEachText, defaults, FOREACH);

  it('a loop over a CommaDelimitedList default makes one user per item, each with its own policy, at the loop line', () => {
    const payments = user(findings, 'payments-deployer');
    const search = user(findings, 'search-deployer');
    expect(payments.verdict.compliance).toBe('NON_COMPLIANT');
    expect(policyNames(payments)).toEqual(['payments-deploy (inline)']);
    expect(policyNames(search)).toEqual(['search-deploy (inline)']);
    expect([payments.candidate.address, payments.user.path]).toEqual(['Deployerpayments', '/ci/']);
    expect(payments.candidate.line).toBe(lineOf(forEachText, "'Fn::ForEach::TeamDeployers':"));
    expect(payments.candidate.notes).toEqual([]);
  });

  it('a loop over a literal list with &{} in the key: users given access through a group are COMPLIANT', () => {
    const readers = findings.filter((f) => f.candidate.address?.startsWith('Reader'));
    expect(readers.map((f) => [f.candidate.address, f.user.userName, f.verdict.compliance])).toEqual([
      ['Readeranalima', 'ana.lima', 'COMPLIANT'],
      ['Readerbochen', 'bo-chen', 'COMPLIANT'],
    ]);
    expect(readers[0]?.user.groupNames).toEqual(['developers']);
  });

  it('nested loops make a user per combination, each with the inline policy its items name', () => {
    expect(policyNames(user(findings, 'support-payments-eu-west-1'))).toEqual(['support-eu-west-1 (inline)']);
    expect(policyNames(user(findings, 'support-payments-us-east-1'))).toEqual(['support-us-east-1 (inline)']);
  });

  it('a loop whose collection is not known is judged once as written: its policies count, with a note naming the loop', () => {
    const operator = findings.find((f) => f.candidate.address === `Operator${v('EnvironmentOperators.Env')}`);
    expect(operator?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(operator && policyNames(operator)).toEqual(['PowerUserAccess (managed)']);
    const note =
      /loop Fn::ForEach::EnvironmentOperators is expanded once: .*parameter Environments has no default/;
    expect(operator?.candidate.notes.join('\n')).toMatch(note);
    const auditor = user(findings, 'auditor');
    expect(auditor.verdict.compliance).toBe('NON_COMPLIANT');
    expect(policyNames(auditor)).toEqual([`audit-${v('EnvironmentOperators.Env')} (managed)`]);
    expect(auditor.candidate.notes.join('\n')).toMatch(note);
    expect(findings).toHaveLength(8);
  });

  it('exemptions apply to the user each copy makes, not to its siblings', () => {
    const exempt = check(forEachText, parseRuleParameters({ exemptUserNames: 'search-deployer' }), FOREACH);
    expect(user(exempt, 'search-deployer').verdict.compliance).toBe('COMPLIANT');
    expect(user(exempt, 'payments-deployer').verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('the same loop in a JSON template gets the same verdicts', () => {
    const json = JSON.stringify({
      Transform: 'AWS::LanguageExtensions',
      Resources: {
        'Fn::ForEach::Bots': [
          'Bot',
          ['build', 'release'],
          {
            [`Bot${v('Bot')}`]: {
              Type: 'AWS::IAM::User',
              Properties: {
                UserName: { 'Fn::Sub': `${v('Bot')}-bot` },
                ManagedPolicyArns: ['arn:aws:iam::aws:policy/AWSCodeArtifactReadOnlyAccess'],
              },
            },
          },
        ],
      },
    });
    const bots = check(json, defaults, 'bots.json');
    expect(bots.map((f) => [f.user.userName, f.verdict.compliance])).toEqual([
      ['build-bot', 'NON_COMPLIANT'],
      ['release-bot', 'NON_COMPLIANT'],
    ]);
  });

  it('a malformed loop, a loop making one logical ID twice, and a runaway expansion are InputErrors naming the loop', () => {
    const template = (loop: unknown) => JSON.stringify({ Resources: { 'Fn::ForEach::Users': loop } });
    const user = { Type: 'AWS::IAM::User', Properties: { UserName: { Ref: 'Name' } } };
    expect(() => check(template(['Name', ['a', 'b']]), defaults, 'bad.json')).toThrow(
      /bad\.json: Fn::ForEach::Users: Fn::ForEach takes \[Identifier, Collection/,
    );
    expect(() => check(template(['Name', ['a', 'b'], { Same: user }]), defaults, 'dup.json')).toThrow(
      /dup\.json: Fn::ForEach::Users makes the logical ID Same twice/,
    );
    const eleven = Array.from({ length: 11 }, (_, i) => `v${i}`);
    const nested = [
      'A',
      eleven,
      {
        'Fn::ForEach::B': [
          'B',
          eleven,
          { 'Fn::ForEach::C': ['C', eleven, { [`U${v('A')}${v('B')}${v('C')}`]: user }] },
        ],
      },
    ];
    expect(() => check(template(nested), defaults, 'big.json')).toThrow(
      /big\.json: Fn::ForEach loops make more than 1000 copies/,
    );
  });
});

describe('check-template recognises one user named through different intrinsics', () => {
  const judge = (text: string, params = defaults) => check(text, params, 'names.yaml');
  const policy = (id: string, users: string) =>
    [
      `  ${id}:`,
      '    Type: AWS::IAM::Policy',
      '    Properties:',
      `      PolicyName: ${id.toLowerCase()}`,
      '      PolicyDocument: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "*" }] }',
      `      Users: [${users}]`,
    ].join('\n');

  it('a policy attached through !Join to a user named by !Sub from the same pseudo parameter is credited to it, and honours its tag', () => {
    const text = [
      'Resources:',
      '  CiUser:',
      '    Type: AWS::IAM::User',
      '    Properties:',
      `      UserName: !Sub '${v('AWS::StackName')}-ci'`,
      '      Tags: [{ Key: break-glass, Value: "true" }]',
      policy('CiArtifacts', "!Join ['', [!Ref 'AWS::StackName', '-ci']]"),
    ].join('\n');
    const findings = judge(text);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.candidate.address).toBe('CiUser');
    expect(findings[0] && policyNames(findings[0])).toEqual(['ciartifacts (inline)']);
    expect(findings[0]?.verdict.compliance).toBe('NON_COMPLIANT');
    const exempt = judge(text, parseRuleParameters({ exemptionTagKey: 'break-glass' }));
    expect(exempt).toHaveLength(1);
    expect(exempt[0]?.verdict.compliance).toBe('COMPLIANT');
    expect(exempt[0]?.verdict.annotation).toMatch(/Exempt/);
  });

  it('!Sub, !Join, a literal and an AWS::IAM::UserPolicy with parameters resolved or not all reach one user', () => {
    const text = [
      'Parameters:',
      '  Team: { Type: String, Default: payments }',
      '  Env: { Type: String }',
      'Resources:',
      '  Deployer:',
      '    Type: AWS::IAM::User',
      `    Properties: { UserName: !Sub '${v('Team')}-deployer' }`,
      policy('FromJoin', "!Join ['-', [!Ref Team, deployer]]"),
      policy('FromLiteral', 'payments-deployer'),
      '  EnvDeployer:',
      '    Type: AWS::IAM::User',
      "    Properties: { UserName: !Join ['-', [!Ref Env, deployer]] }",
      '  EnvInline:',
      '    Type: AWS::IAM::UserPolicy',
      '    Properties:',
      '      PolicyName: env-inline',
      '      PolicyDocument: { Version: "2012-10-17", Statement: [] }',
      `      UserName: !Sub '${v('Env')}-deployer'`,
    ].join('\n');
    const findings = judge(text);
    expect(findings.map((f) => f.candidate.address)).toEqual(['Deployer', 'EnvDeployer']);
    expect(policyNames(user(findings, 'payments-deployer'))).toEqual([
      'fromjoin (inline)',
      'fromliteral (inline)',
    ]);
    const env = user(findings, `${v('Env')}-deployer`);
    expect(policyNames(env)).toEqual(['env-inline (inline)']);
    expect(env.candidate.notes).toContain(
      `the user name is only partly known before deployment: ${v('Env')}-deployer`,
    );
    const exempt = judge(text, parseRuleParameters({ exemptUserNames: 'payments-deployer' }));
    expect(user(exempt, 'payments-deployer').verdict.compliance).toBe('COMPLIANT');
    expect(exempt).toHaveLength(2);
  });

  it('names that differ, or keep an unknown that is not one template-wide name, are not taken for the user: the policy is still a finding', () => {
    const text = [
      'Parameters:',
      '  Prefix: { Type: String }',
      'Resources:',
      '  CiUser:',
      '    Type: AWS::IAM::User',
      `    Properties: { UserName: !Sub '${v('AWS::StackName')}-ci', Tags: [{ Key: break-glass, Value: 'true' }] }`,
      policy('ToCd', "!Join ['', [!Ref 'AWS::StackName', '-cd']]"),
      '  PrefixUser:',
      '    Type: AWS::IAM::User',
      `    Properties: { UserName: !Sub '${v('Prefix')}-ops', Tags: [{ Key: break-glass, Value: 'true' }] }`,
      policy('ToImported', `!Sub ['${v('Prefix')}-ops', { Prefix: !ImportValue shared-prefix }]`),
    ].join('\n');
    const findings = judge(text, parseRuleParameters({ exemptionTagKey: 'break-glass' }));
    const unknownUsers = findings.filter((f) => f.candidate.address === undefined);
    expect(unknownUsers.map((f) => [policyNames(f), f.verdict.compliance])).toEqual([
      [['tocd (inline)'], 'NON_COMPLIANT'],
      [['toimported (inline)'], 'NON_COMPLIANT'],
    ]);
    expect(unknownUsers[0]?.candidate.notes.join('\n')).toMatch(
      /only partly known \(\$\{AWS::StackName\}-cd\)/,
    );
    expect(
      findings.filter((f) => f.candidate.address !== undefined).map((f) => f.verdict.compliance),
    ).toEqual(['COMPLIANT', 'COMPLIANT']);
  });
});

describe('tag keys that name Object.prototype members', () => {
  it.each(['__proto__', 'constructor', 'toString'])(
    'a user tagged %s is exempt by that key, and an untagged user is judged, with no crash',
    (key) => {
      const template = JSON.stringify({
        Resources: {
          Tagged: {
            Type: 'AWS::IAM::User',
            Properties: {
              UserName: 'tagged',
              ManagedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
              Tags: [{ Key: key, Value: 'INC-1 emergency access' }],
            },
          },
          Plain: {
            Type: 'AWS::IAM::User',
            Properties: { UserName: 'plain', ManagedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] },
          },
        },
      });
      const findings = check(template, parseRuleParameters({ exemptionTagKey: key }), 'proto.json');
      expect(user(findings, 'tagged').verdict).toMatchObject({ compliance: 'COMPLIANT' });
      expect(user(findings, 'tagged').verdict.annotation).toContain('INC-1 emergency access');
      expect(user(findings, 'plain').verdict.compliance).toBe('NON_COMPLIANT');
    },
  );
});

describe('logical IDs and values that name Object.prototype members (found by fuzzing)', () => {
  it.each(['constructor', 'toString', 'valueOf'])(
    'a user whose logical ID is %s gets the policies attached to it by Ref',
    (id) => {
      const template = JSON.stringify({
        Resources: {
          [id]: {
            Type: 'AWS::IAM::User',
            Properties: { UserName: 'proto', ManagedPolicyArns: [{ Ref: 'Shared' }] },
          },
          Shared: { Type: 'AWS::IAM::ManagedPolicy', Properties: { ManagedPolicyName: 'shared', Users: [] } },
          Inline: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'inline', Users: [{ Ref: id }] } },
        },
      });
      const proto = user(check(template, defaults, 'proto.json'), 'proto');
      expect(proto.candidate.address).toBe(id);
      expect(policyNames(proto)).toEqual(['inline (inline)', 'shared (managed)']);
    },
  );

  it('a Ref, a GetAtt or an Fn::Sub variable named after an Object.prototype member is not taken for a parameter or resource', () => {
    const template = JSON.stringify({
      Resources: {
        Alice: {
          Type: 'AWS::IAM::User',
          Properties: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, literally.
            UserName: { 'Fn::Sub': 'alice-${toString}' },
            Policies: [{ PolicyName: { 'Fn::GetAtt': ['constructor', 'Arn'] } }],
            Path: { Ref: 'hasOwnProperty' },
          },
        },
      },
    });
    const [alice] = check(template, defaults, 'proto.json');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, literally.
    expect(alice?.user.userName).toBe('alice-${toString}');
    expect(alice?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(alice?.candidate.notes.join('\n')).toMatch(/Fn::GetAtt of constructor, which is not a resource/);
  });

  it('Fn::FindInMap through keys named after Object.prototype members finds nothing rather than a function', () => {
    const template = JSON.stringify({
      Mappings: { Names: { prod: { user: 'alice' } } },
      Resources: {
        U: {
          Type: 'AWS::IAM::User',
          Properties: {
            UserName: { 'Fn::FindInMap': ['constructor', 'name', 'length'] },
            Policies: [{ PolicyName: 'p' }],
          },
        },
      },
    });
    const [u] = check(template, defaults, 'map.json');
    expect(u?.user.userName).toBe('U');
    expect(u?.candidate.notes.join('\n')).toMatch(/no constructor\.name\.length in Mappings/);
  });

  it('a template with Fn::ForEach and a resource named constructor is read, not refused as a duplicate', () => {
    const template = JSON.stringify({
      Transform: 'AWS::LanguageExtensions',
      Resources: {
        constructor: {
          Type: 'AWS::IAM::User',
          Properties: { UserName: 'proto', Policies: [{ PolicyName: 'p' }] },
        },
        'Fn::ForEach::Users': ['Name', ['a'], { 'User${Name}': { Type: 'AWS::IAM::User' } }],
      },
    });
    const findings = check(template, defaults, 'loop.json');
    expect(findings.map((f) => f.candidate.address).sort()).toEqual(['Usera', 'constructor']);
    expect(user(findings, 'proto').verdict.compliance).toBe('NON_COMPLIANT');
  });
});

describe('malformed intrinsic functions (found by fuzzing)', () => {
  const userWith = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      ...extra,
      Resources: {
        U: { Type: 'AWS::IAM::User', Properties: { Policies: [{ PolicyName: 'p' }], ...properties } },
      },
    });

  it.each([
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, literally.
    ['Fn::Sub variables that are not a map', { UserName: { 'Fn::Sub': ['${a}', 'not-a-map'] } }, /Fn::Sub/],
    ['Fn::GetAtt of an object', { UserName: { 'Fn::GetAtt': { toString: 'x' } } }, /Fn::GetAtt/],
    ['Fn::GetAtt naming an object', { UserName: { 'Fn::GetAtt': [{ toString: 'x' }, 'Arn'] } }, /Fn::GetAtt/],
    [
      'Fn::ForEachItemNotKnown written by hand',
      { UserName: { 'Fn::ForEachItemNotKnown': null } },
      /not known/,
    ],
    ['Fn::Join over a list of objects', { UserName: { 'Fn::Join': ['', [{ toString: 1 }]] } }, /Fn::Join/],
  ])('%s: the user is judged, its name not known, with a note saying why', (_, properties, note) => {
    const [u] = check(userWith(properties), defaults, 'bad.json');
    expect(u?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(u?.candidate.notes.join('\n')).toMatch(note);
  });

  it('a parameter whose Default is an object is not known, not a crash', () => {
    const [u] = check(
      userWith(
        { UserName: { Ref: 'Name' } },
        { Parameters: { Name: { Type: 'String', Default: { toString: 1 } } } },
      ),
      defaults,
      'bad.json',
    );
    expect(u?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(u?.candidate.notes.join('\n')).toMatch(/parameter Name/);
  });

  it('two deeply nested documents in one run are each an InputError naming the file, and the process survives', () => {
    const deep = (n: number) =>
      `{"Resources": {"U": {"Type": "AWS::IAM::User", "Properties": {"X": ${'['.repeat(n)}${']'.repeat(n)}}}}}`;
    for (const file of ['deep-1.json', 'deep-2.json']) {
      expect(() => check(deep(3000), defaults, file)).toThrow(
        new RegExp(`${file.replace('.', '\\.')}: .*nest`),
      );
    }
  });
});

describe('values that refer to themselves or multiply (found by measuring and fuzzing)', () => {
  /** Mappings entry l<i> joins `width` copies of entry l<i-1>: the evaluation grows as width^levels. */
  const joinBomb = (levels: number, width: number, leaf = 'a') => {
    const entries: Record<string, unknown> = { l0: leaf };
    for (let i = 1; i <= levels; i++) {
      entries[`l${i}`] = {
        'Fn::Join': ['', Array.from({ length: width }, () => ({ 'Fn::FindInMap': ['M', 'k', `l${i - 1}`] }))],
      };
    }
    return JSON.stringify({
      Mappings: { M: { k: entries } },
      Resources: {
        U: {
          Type: 'AWS::IAM::User',
          Properties: {
            UserName: { 'Fn::FindInMap': ['M', 'k', `l${levels}`] },
            Policies: [{ PolicyName: 'p' }],
          },
        },
      },
    });
  };

  it('a user whose UserName Fn::Sub names the user itself is judged, its name not known, not a stack overflow', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, literally.
    for (const sub of ['${U}', '${U}-x']) {
      const [u] = check(
        JSON.stringify({
          Resources: {
            U: {
              Type: 'AWS::IAM::User',
              Properties: { UserName: { 'Fn::Sub': sub }, Policies: [{ PolicyName: 'p' }] },
            },
          },
        }),
        defaults,
        'self.json',
      );
      expect(u?.verdict.compliance).toBe('NON_COMPLIANT');
      expect(u?.user.userName).toBe('U');
      expect(u?.candidate.notes.join('\n')).toMatch(/user name is not known .*built from itself/);
    }
  });

  it('two users whose names are built from each other are both judged', () => {
    const user = (other: string) => ({
      Type: 'AWS::IAM::User',
      Properties: { UserName: { 'Fn::Sub': `\${${other}}-x` }, Policies: [{ PolicyName: 'p' }] },
    });
    const findings = check(
      JSON.stringify({ Resources: { A: user('B'), B: user('A') } }),
      defaults,
      'circle.json',
    );
    expect(findings.map((f) => f.verdict.compliance)).toEqual(['NON_COMPLIANT', 'NON_COMPLIANT']);
  });

  it('a Mappings entry reused by Fn::Join at every level stops at the evaluation budget: the name is not known, with a note', () => {
    // 20^4 = 160,000 evaluations of a 4-level chain of 20 copies each.
    const [u] = check(joinBomb(4, 20), defaults, 'bomb.json');
    expect(u?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(u?.user.userName).toBe('U');
    expect(u?.candidate.notes.join('\n')).toMatch(/more than 5000 steps/);
  });

  it('a long Mappings text joined many times stops at the length limit rather than filling memory', () => {
    const [u] = check(joinBomb(2, 20, 'x'.repeat(10_000)), defaults, 'long.json');
    expect(u?.user.userName).toBe('U');
    expect(u?.candidate.notes.join('\n')).toMatch(/longer than 4096 characters/);
  });
});

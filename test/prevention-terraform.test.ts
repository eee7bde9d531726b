import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkTexts } from '../prevent/check.js';
import type { IacFinding } from '../prevent/judge.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { policyNames, user } from './support/findings.js';

const FIXTURE = 'test/fixtures/templates/terraform-plan.json';
const planText = readFileSync(FIXTURE, 'utf8');

function check(text: string, params = parseRuleParameters({})): IacFinding[] {
  return checkTexts([{ file: FIXTURE, text }], params);
}

describe('check-template on a Terraform plan (terraform show -json)', () => {
  const findings = check(planText);

  it('a created user with an aws_iam_user_policy and an aws_iam_user_policy_attachment is NON_COMPLIANT', () => {
    const alice = user(findings, 'alice');
    expect(alice.verdict.compliance).toBe('NON_COMPLIANT');
    expect(alice.candidate.address).toBe('aws_iam_user.alice');
    expect(policyNames(alice)).toEqual(['deploy-artifacts (managed)', 's3-read (inline)']);
  });

  it('a policy ARN known only after apply is named from the aws_iam_policy the configuration refers to', () => {
    const attachment = user(findings, 'alice').candidate.attachments.find(
      (a) => a.name === 'deploy-artifacts',
    );
    expect(attachment).toMatchObject({
      from: 'aws_iam_user_policy_attachment.alice_deploy',
      arn: expect.stringMatching(/after apply/),
    });
  });

  it('aws_iam_policy_attachment users: a known name outside the plan and an entry known only after apply both count', () => {
    const carol = user(findings, 'carol');
    expect(carol.verdict.compliance).toBe('NON_COMPLIANT');
    expect(carol.candidate.notes.join('\n')).toMatch(/not created or changed by this plan/);
    const dave = findings.find((f) => f.candidate.address === 'aws_iam_user.dave');
    expect(dave?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(policyNames(dave as IacFinding)).toEqual(['ReadOnlyAccess (managed)']);
  });

  it('a user whose name is known only after apply is judged by its address, with a note', () => {
    const dave = findings.find((f) => f.candidate.address === 'aws_iam_user.dave') as IacFinding;
    expect(dave.user.userName).toBe('aws_iam_user.dave');
    expect(dave.user.path).toBe('/contractors/');
    expect(dave.candidate.notes).toContain('the user name is known only after apply');
  });

  it('the exemption tag is read from tags_all (provider default tags included)', () => {
    const exempt = check(planText, parseRuleParameters({ exemptionTagKey: 'break-glass' }));
    expect(user(exempt, 'bob').verdict.exemption).toEqual({
      kind: 'tag',
      tagKey: 'break-glass',
      reason: 'SEC-42 emergency administrator',
    });
    expect(user(findings, 'bob').verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('a created user with only a group membership is COMPLIANT, and meets requiredGroupName', () => {
    expect(user(findings, 'erin').verdict.compliance).toBe('COMPLIANT');
    const required = check(planText, parseRuleParameters({ requiredGroupName: 'developers' }));
    expect(user(required, 'erin').verdict.compliance).toBe('COMPLIANT');
    expect(user(required, 'alice').verdict.missingRequiredGroup).toBe('developers');
  });

  it('no-op and delete changes do not count: an unchanged user with an existing attachment is not reported', () => {
    expect(findings.map((f) => f.user.userName)).not.toContain('frank');
  });

  it('a replaced attachment in a module with count reaches its user through the configuration reference', () => {
    const grace = user(findings, 'grace');
    expect(grace.candidate.address).toBe('module.team.aws_iam_user.member[0]');
    expect(policyNames(grace)).toEqual(['ViewOnlyAccess (managed)']);
  });

  it('data sources and other providers are ignored', () => {
    expect(findings.map((f) => f.candidate.address)).not.toContain('data.aws_iam_policy.readonly');
    expect(findings).toHaveLength(6);
  });
});

describe('check-template on a Terraform plan it cannot read', () => {
  it('a resource change without actions is rejected with the path of the field', () => {
    const broken = JSON.stringify({
      format_version: '1.2',
      resource_changes: [{ address: 'aws_iam_user.x', type: 'aws_iam_user', change: { after: {} } }],
    });
    expect(() => check(broken)).toThrow(/not a valid Terraform plan: resource_changes\.0\.change\.actions/);
  });

  it('a plan whose resource_changes is not a list is rejected', () => {
    expect(() => check(JSON.stringify({ format_version: '1.2', resource_changes: {} }))).toThrow(
      /not a valid Terraform plan: resource_changes/,
    );
  });

  it('Terraform state or configuration JSON (no format_version and resource_changes) is not taken for a plan', () => {
    expect(() => check(JSON.stringify({ values: { root_module: {} } }))).toThrow(
      /terraform show -json plan\.out/,
    );
  });
});

describe('check-template on a Terraform plan with child modules', () => {
  const MODULES = 'test/fixtures/templates/terraform-plan-modules.json';
  const text = readFileSync(MODULES, 'utf8');
  const judge = (params = parseRuleParameters({})) => checkTexts([{ file: MODULES, text }], params);
  const byAddress = (findings: IacFinding[]) =>
    findings.map((f) => [f.candidate.address, policyNames(f), f.verdict.compliance]);

  it('an attachment in a module whose user and policy are module inputs is credited to the caller’s user and policy', () => {
    expect(byAddress(judge())).toEqual([
      ['aws_iam_user.ci', ['deploy-artifacts (managed)'], 'NON_COMPLIANT'],
      ['aws_iam_user.release', ['deploy-artifacts (managed)'], 'NON_COMPLIANT'],
      ['module.ops.aws_iam_user.this', ['ops-break-fix (inline)'], 'NON_COMPLIANT'],
    ]);
  });

  it('the user it reaches through the module honours its exemption tag, and no second (unknown) user is reported', () => {
    expect(byAddress(judge(parseRuleParameters({ exemptionTagKey: 'break-glass' })))).toEqual([
      ['aws_iam_user.ci', ['deploy-artifacts (managed)'], 'COMPLIANT'],
      ['aws_iam_user.release', ['deploy-artifacts (managed)'], 'NON_COMPLIANT'],
      ['module.ops.aws_iam_user.this', ['ops-break-fix (inline)'], 'NON_COMPLIANT'],
    ]);
  });
});

describe('a Terraform plan whose configuration is malformed (found by fuzzing)', () => {
  it('configuration entries of the wrong shape are skipped: the users and policies are still judged', () => {
    const plan = JSON.parse(planText) as Record<string, unknown>;
    for (const rootModule of [
      { resources: 5 },
      { resources: [null, 'x'], outputs: 'x', module_calls: { m: null } },
      { module_calls: { m: { expressions: 5, module: { resources: {} } } } },
    ]) {
      const findings = check(JSON.stringify({ ...plan, configuration: { root_module: rootModule } }));
      expect(findings.some((f) => f.verdict.compliance === 'NON_COMPLIANT')).toBe(true);
    }
  });
});

/** An aws_iam_policy_attachment of AdministratorAccess whose one user is known only after apply. */
const opsAttachmentOfUnknownUsers = {
  address: 'aws_iam_policy_attachment.ops',
  mode: 'managed',
  type: 'aws_iam_policy_attachment',
  change: {
    actions: ['create'],
    after: { name: 'ops', policy_arn: 'arn:aws:iam::aws:policy/AdministratorAccess', users: [null] },
    after_unknown: { id: true, users: [true] },
  },
};

describe('aws_iam_policy_attachment whose users are known only after apply (found by fuzzing)', () => {
  it('an entry that refers to no user of the plan still counts, as a user not known, rather than vanishing', () => {
    const plan = {
      format_version: '1.2',
      resource_changes: [opsAttachmentOfUnknownUsers],
      configuration: {
        root_module: {
          resources: [
            {
              address: 'aws_iam_policy_attachment.ops',
              expressions: { users: { references: ['random_pet.ops.id', 'random_pet.ops'] } },
            },
          ],
        },
      },
    };
    const [u, ...rest] = check(JSON.stringify(plan));
    expect(rest).toEqual([]);
    expect(u?.user.userName).toBe('(user of aws_iam_policy_attachment.ops, not known)');
    expect(u?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(policyNames(u as IacFinding)).toEqual(['AdministratorAccess (managed)']);
    expect(u?.candidate.notes.join('\n')).toMatch(/known only after apply/);
  });
});

describe('aws_iam_policy_attachment users that refer to one instance of a count resource (found by fuzzing)', () => {
  it('only that instance gets the policy, not every instance of the resource', () => {
    const user = (i: number) => ({
      address: `aws_iam_user.m[${i}]`,
      mode: 'managed',
      type: 'aws_iam_user',
      change: { actions: ['create'], after: { path: '/' }, after_unknown: { name: true } },
    });
    const plan = {
      format_version: '1.2',
      resource_changes: [user(0), user(1), opsAttachmentOfUnknownUsers],
      configuration: {
        root_module: {
          resources: [
            {
              address: 'aws_iam_policy_attachment.ops',
              // What Terraform records for `users = [aws_iam_user.m[0].name]`.
              expressions: {
                users: { references: ['aws_iam_user.m[0].name', 'aws_iam_user.m[0]', 'aws_iam_user.m'] },
              },
            },
          ],
        },
      },
    };
    const findings = check(JSON.stringify(plan));
    expect(findings.map((f) => [f.candidate.address, f.verdict.compliance])).toEqual([
      ['aws_iam_user.m[0]', 'NON_COMPLIANT'],
      ['aws_iam_user.m[1]', 'COMPLIANT'],
    ]);
  });
});

import {
  GetAccountAuthorizationDetailsCommand,
  GetAccountSummaryCommand,
  IAMClient,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RULE_PARAMETERS_ENV } from '../remediation/function-environment.js';
import { handler } from '../remediation/handler.js';
import { DEFAULT_SUMMARY_MAP } from './support/remediation-state.js';

const iam = mockClient(IAMClient);
const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
afterAll(() => stdout.mockRestore());

const SUMMARY = DEFAULT_SUMMARY_MAP;
const ALICE = {
  UserName: 'alice',
  UserId: 'AIDAALICE0000000000001',
  Arn: 'arn:aws:iam::123456789012:user/alice',
  Path: '/',
  GroupList: [],
  AttachedManagedPolicies: [
    { PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' },
  ],
  UserPolicyList: [],
};

beforeEach(() => {
  iam.reset();
  iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: SUMMARY });
  iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [ALICE], IsTruncated: false });
  iam.on(ListUsersCommand).resolves({
    Users: [
      { UserName: ALICE.UserName, UserId: ALICE.UserId, Arn: ALICE.Arn, Path: '/', CreateDate: new Date() },
    ],
    IsTruncated: false,
  });
  delete process.env[RULE_PARAMETERS_ENV];
});

describe('remediation handler input', () => {
  it.each([
    ['no payload', undefined, /remediation input is malformed/],
    ['a missing IAMResourceId', { DryRun: true }, /IAMResourceId: is required/],
    ['an IAMResourceId with a space', { IAMResourceId: 'AIDA X' }, /IAMResourceId: must be an IAM user ID/],
    ['an IAMResourceId over 128 characters', { IAMResourceId: 'A'.repeat(129) }, /IAMResourceId/],
    ['a DryRun that is not a boolean', { IAMResourceId: 'AIDAX', DryRun: 'yes' }, /DryRun/],
    [
      'a GroupName with a slash',
      { IAMResourceId: 'AIDAX', GroupName: 'a/b' },
      /GroupName: must be empty or an IAM group name/,
    ],
    ['a misspelt parameter', { IAMResourceId: 'AIDAX', Dryrun: false }, /unknown field\(s\) "Dryrun"/],
    [
      'JoinableGroups with a space',
      { IAMResourceId: 'AIDAX', JoinableGroups: 'devs, ops' },
      /JoinableGroups: must be empty or comma-separated IAM group names/,
    ],
    [
      'an IncludeExempt that is not a boolean',
      { IAMResourceId: 'AIDAX', IncludeExempt: 'maybe' },
      /IncludeExempt/,
    ],
  ])('rejects %s with a clear error and makes no IAM call', async (_name, payload, message) => {
    await expect(handler(payload)).rejects.toThrow(message);
    expect(iam.calls()).toHaveLength(0);
  });

  it.each([
    ['DryRun', { IAMResourceId: 'AIDAX', DryRun: 'yes' }],
    ['DryRun', { IAMResourceId: 'AIDAX', DryRun: 3 }],
    ['IncludeExempt', { IAMResourceId: 'AIDAX', IncludeExempt: 'maybe' }],
    ['JoinableGroups', { IAMResourceId: 'AIDAX', JoinableGroups: ['devs'] }],
  ])('a wrong-typed %s says what was expected, not only "Invalid input"', async (field, payload) => {
    const error = await handler(payload).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(new RegExp(`${field}: expected `));
    expect(error?.message).not.toMatch(/Invalid input/);
    expect(iam.calls()).toHaveLength(0);
  });

  it('a DryRun of "yes" names both shapes it accepts: a boolean, or the strings "true" and "false"', async () => {
    await expect(handler({ IAMResourceId: 'AIDAX', DryRun: 'yes' })).rejects.toThrow(
      'DryRun: expected a boolean or "true", "false", got a string',
    );
    expect(iam.calls()).toHaveLength(0);
  });

  it('accepts DryRun as the string "true" the way the runbook may interpolate it', async () => {
    const result = await handler({ IAMResourceId: ALICE.UserId, GroupName: '', DryRun: 'true' });
    expect(result.status).toBe('planned');
    expect(iam.commandCalls(GetAccountAuthorizationDetailsCommand)).toHaveLength(1);
  });

  it('plans without changing anything when DryRun is left out', async () => {
    const result = await handler({ IAMResourceId: ALICE.UserId });
    expect(result).toMatchObject({
      status: 'planned',
      user: { userName: 'alice', userId: ALICE.UserId },
      changes: [],
    });
    const sent = iam.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(new Set(sent)).toEqual(
      new Set(['GetAccountAuthorizationDetailsCommand', 'GetAccountSummaryCommand']),
    );
  });

  it('fails the automation with the reason when the user does not exist', async () => {
    await expect(handler({ IAMResourceId: 'AIDANOBODY', DryRun: false })).rejects.toThrow(
      /refused to migrate AIDANOBODY, nothing changed: there is no IAM user with ID AIDANOBODY/,
    );
  });

  it('fails the automation with the reason when the migration is refused', async () => {
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { ...SUMMARY, Groups: 300 } });
    await expect(handler({ IAMResourceId: ALICE.UserId, DryRun: true })).rejects.toThrow(
      /refused to migrate alice, nothing changed: .*GroupsQuota/,
    );
  });

  it('fails with a clear error when GetAccountSummary lacks a quota', async () => {
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { GroupsPerUserQuota: 10 } });
    await expect(handler({ IAMResourceId: ALICE.UserId })).rejects.toThrow(
      /GetAccountSummary answer is malformed: AttachedPoliciesPerGroupQuota/,
    );
  });
});

describe('the deployed rule parameters', () => {
  it('refuses a user the rule exempts by name, naming the exemption, and changes nothing', async () => {
    process.env[RULE_PARAMETERS_ENV] = JSON.stringify({ exemptUserNames: 'Alice' });
    await expect(handler({ IAMResourceId: ALICE.UserId, DryRun: true })).rejects.toThrow(
      /refused to migrate alice, nothing changed: alice is exempt from the rule \(Exempt: user name listed in exemptUserNames\.\)/,
    );
  });

  it('plans for an exempt user when IncludeExempt is true', async () => {
    process.env[RULE_PARAMETERS_ENV] = JSON.stringify({ exemptUserNames: 'alice' });
    const result = await handler({ IAMResourceId: ALICE.UserId, IncludeExempt: 'true' });
    expect(result.status).toBe('planned');
  });

  it('refuses an SES SMTP user by default, as the rule exempts it', async () => {
    const ses = { ...ALICE, UserName: 'ses-smtp-user.20260101-120000', UserId: 'AIDASES0000000000001' };
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [ses], IsTruncated: false });
    await expect(handler({ IAMResourceId: ses.UserId })).rejects.toThrow(/Amazon SES SMTP credential user/);
  });

  it('fails with the variable named, before any IAM call, when the stack set invalid rule parameters', async () => {
    process.env[RULE_PARAMETERS_ENV] = JSON.stringify({ exemptUserName: 'alice' });
    await expect(handler({ IAMResourceId: ALICE.UserId })).rejects.toThrow(
      /RULE_PARAMETERS does not hold valid rule parameters/,
    );
    expect(iam.calls()).toHaveLength(0);
  });
});

describe('live-state reading', () => {
  it('follows GetAccountAuthorizationDetails pages until IsTruncated is false', async () => {
    iam
      .on(GetAccountAuthorizationDetailsCommand)
      .resolvesOnce({ UserDetailList: [], IsTruncated: true, Marker: 'page-2' })
      .resolvesOnce({ UserDetailList: [ALICE], IsTruncated: false });
    const result = await handler({ IAMResourceId: ALICE.UserId });
    expect(result.status).toBe('planned');
    const calls = iam.commandCalls(GetAccountAuthorizationDetailsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { Filter: ['User', 'Group', 'LocalManagedPolicy'], MaxItems: 1000 },
      { Filter: ['User', 'Group', 'LocalManagedPolicy'], MaxItems: 1000, Marker: 'page-2' },
    ]);
  });

  it('fails rather than plan from half an account when a truncated page has no Marker', async () => {
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [ALICE], IsTruncated: true });
    await expect(handler({ IAMResourceId: ALICE.UserId })).rejects.toThrow(
      /IsTruncated but returned no Marker/,
    );
  });
});

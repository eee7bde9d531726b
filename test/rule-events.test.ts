import {
  ConfigServiceClient,
  GetResourceConfigHistoryCommand,
  PutEvaluationsCommand,
  type PutEvaluationsCommandInput,
} from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../rule/log.js';
import { runConfigRule } from '../rule/run-rule.js';
import { changeEvent, fixtureEvent, oversizedEvent } from './support/events.js';

const config = new ConfigServiceClient({ region: 'us-east-1' });
const iam = new IAMClient({ region: 'us-east-1' });
const configMock = mockClient(config);
const iamMock = mockClient(iam);
let logs: LogEntry[] = [];
const deps = { clientsFor: () => ({ config, iam }), log: (e: LogEntry) => logs.push(e) };

beforeEach(() => {
  configMock.reset();
  iamMock.reset();
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  logs = [];
});

/** The single evaluation the rule reported, and the number of AWS calls it made in all. */
function reported() {
  const puts = configMock.commandCalls(PutEvaluationsCommand);
  const input = puts[0]?.args[0].input as PutEvaluationsCommandInput;
  return {
    input,
    evaluation: input?.Evaluations?.[0],
    awsCalls: configMock.calls().length + iamMock.calls().length,
  };
}

describe('change notifications', () => {
  it('the real "user created with no policies" event is COMPLIANT, reported in exactly one AWS call', async () => {
    await runConfigRule(fixtureEvent('create-iam-user'), deps);
    const { input, evaluation, awsCalls } = reported();
    expect(awsCalls).toBe(1);
    expect(iamMock.calls()).toHaveLength(0);
    expect(input.ResultToken).toBe('abcd');
    expect(input.TestMode).toBeUndefined();
    expect(evaluation).toEqual({
      ComplianceResourceType: 'AWS::IAM::User',
      ComplianceResourceId: 'AIDAABCDEFGHIJKLMNOPQ',
      ComplianceType: 'COMPLIANT',
      Annotation: 'No policies attached directly to the user.',
      OrderingTimestamp: new Date('2023-07-13T13:05:42.118Z'),
    });
  });

  it('a user with an attached managed policy and an inline policy is NON_COMPLIANT, naming both', async () => {
    await runConfigRule(
      changeEvent({
        attachedManagedPolicies: [
          { policyName: 'AdministratorAccess', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
        ],
        userPolicyList: [
          { policyName: 'MyInlinePolicy', policyDocument: '%7B%22Version%22%3A%222012-10-17%22%7D' },
        ],
      }),
      deps,
    );
    expect(reported().evaluation).toMatchObject({
      ComplianceType: 'NON_COMPLIANT',
      Annotation:
        '2 policies attached directly: AdministratorAccess (managed), MyInlinePolicy (inline). Grant them through groups.',
    });
  });

  it("the real configuration in the deleted user's diff (an inline policy) is NON_COMPLIANT when judged live", async () => {
    const deleted = JSON.parse(fixtureEvent('delete-iam-user').invokingEvent as string);
    const before = deleted.configurationItemDiff.changedProperties.Configuration.previousValue;
    await runConfigRule(changeEvent(before, { configurationItemStatus: 'OK', configuration: before }), deps);
    expect(reported().evaluation).toMatchObject({
      ComplianceType: 'NON_COMPLIANT',
      Annotation: '1 policy attached directly: MyInlinePolicy (inline). Grant them through groups.',
    });
  });

  it('the real "user deleted" event is NOT_APPLICABLE', async () => {
    await runConfigRule(fixtureEvent('delete-iam-user'), deps);
    expect(reported().evaluation).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      ComplianceResourceId: 'AIDAABCDEFGHIJKLMNOPQ',
      OrderingTimestamp: new Date('2023-07-13T13:14:32.515Z'),
    });
  });

  it('ResourceDeletedNotRecorded is NOT_APPLICABLE', async () => {
    await runConfigRule(
      changeEvent({}, { configurationItemStatus: 'ResourceDeletedNotRecorded', configuration: null }),
      deps,
    );
    expect(reported().evaluation?.ComplianceType).toBe('NOT_APPLICABLE');
  });

  it('a user that left the rule scope is NOT_APPLICABLE even with policies', async () => {
    await runConfigRule(
      changeEvent({ userPolicyList: [{ policyName: 'p' }] }, {}, { eventLeftScope: true }),
      deps,
    );
    expect(reported().evaluation?.ComplianceType).toBe('NOT_APPLICABLE');
  });

  it('an item of another resource type is NOT_APPLICABLE under its own type', async () => {
    await runConfigRule(
      changeEvent({}, { resourceType: 'AWS::IAM::Role', resourceId: 'AROAEXAMPLE', configuration: {} }),
      deps,
    );
    expect(reported().evaluation).toMatchObject({
      ComplianceType: 'NOT_APPLICABLE',
      ComplianceResourceType: 'AWS::IAM::Role',
    });
  });

  it("the console's test invocation (result token TESTMODE) is sent in test mode", async () => {
    await runConfigRule(changeEvent({}, {}, { resultToken: 'TESTMODE' }), deps);
    expect(reported().input.TestMode).toBe(true);
  });

  it('rule parameters from the event apply (an exempt user is COMPLIANT with the reason)', async () => {
    await runConfigRule(
      changeEvent(
        {
          attachedManagedPolicies: [
            { policyName: 'AdministratorAccess', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
          ],
        },
        {},
        { ruleParameters: JSON.stringify({ exemptUserNames: 'configruletest' }) },
      ),
      deps,
    );
    expect(reported().evaluation).toMatchObject({ ComplianceType: 'COMPLIANT' });
    expect(reported().evaluation?.Annotation).toMatch(/^Exempt: user name listed in exemptUserNames/);
  });

  it("a tag-exempt user is read from the item's tags", async () => {
    await runConfigRule(
      changeEvent(
        { userPolicyList: [{ policyName: 'p' }], tags: [{ key: 'exempt-reason', value: 'INC-42' }] },
        {},
        { ruleParameters: JSON.stringify({ exemptionTagKey: 'exempt-reason' }) },
      ),
      deps,
    );
    expect(reported().evaluation?.Annotation).toMatch(/^Exempt by tag exempt-reason: INC-42\./);
  });

  it('logs one JSON line per decision with user, verdict and reason, and never the policy document', async () => {
    const document = '%7B%22Statement%22%3A%22secret-looking%22%7D';
    await runConfigRule(
      changeEvent({ userPolicyList: [{ policyName: 'inline-one', policyDocument: document }] }),
      deps,
    );
    expect(logs[0]).toMatchObject({
      event: 'evaluation',
      userName: 'ConfigRuleTest',
      compliance: 'NON_COMPLIANT',
    });
    expect(JSON.stringify(logs)).not.toContain('secret-looking');
    expect(JSON.stringify(logs)).not.toContain(document);
  });
});

describe('oversized change notifications', () => {
  it('fetch the item with GetResourceConfigHistory and judge it', async () => {
    configMock.on(GetResourceConfigHistoryCommand).resolves({
      configurationItems: [
        {
          resourceType: 'AWS::IAM::User',
          resourceId: 'AIDAABCDEFGHIJKLMNOPQ',
          resourceName: 'ConfigRuleTest',
          configurationItemCaptureTime: new Date('2023-07-13T13:05:42.118Z'),
          configurationItemStatus: 'OK',
          configuration: JSON.stringify({
            path: '/',
            userName: 'ConfigRuleTest',
            userId: 'AIDAABCDEFGHIJKLMNOPQ',
            arn: 'arn:aws:iam::123456789123:user/ConfigRuleTest',
            groupList: ['developers'],
            attachedManagedPolicies: [
              { policyName: 'ReadOnlyAccess', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
            ],
            userPolicyList: [],
            permissionsBoundary: null,
            tags: [],
          }),
        },
      ],
    });
    await runConfigRule(oversizedEvent(), deps);
    const history = configMock.commandCalls(GetResourceConfigHistoryCommand)[0]?.args[0].input;
    expect(history).toMatchObject({
      resourceType: 'AWS::IAM::User',
      resourceId: 'AIDAABCDEFGHIJKLMNOPQ',
      laterTime: new Date('2023-07-13T13:05:42.118Z'),
      limit: 1,
    });
    expect(reported().evaluation).toMatchObject({
      ComplianceType: 'NON_COMPLIANT',
      ComplianceResourceId: 'AIDAABCDEFGHIJKLMNOPQ',
    });
    expect(reported().awsCalls).toBe(2);
  });

  it('a deleted user in an oversized notification is NOT_APPLICABLE without fetching history', async () => {
    await runConfigRule(oversizedEvent({ configurationItemStatus: 'ResourceDeleted' }), deps);
    expect(configMock.commandCalls(GetResourceConfigHistoryCommand)).toHaveLength(0);
    expect(reported().evaluation?.ComplianceType).toBe('NOT_APPLICABLE');
  });

  it('an item from history whose configuration is not JSON is an error and nothing is reported', async () => {
    configMock.on(GetResourceConfigHistoryCommand).resolves({
      configurationItems: [
        {
          resourceType: 'AWS::IAM::User',
          resourceId: 'AIDAABCDEFGHIJKLMNOPQ',
          configurationItemCaptureTime: new Date(),
          configurationItemStatus: 'OK',
          configuration: '{not json',
        },
      ],
    });
    await expect(runConfigRule(oversizedEvent(), deps)).rejects.toThrow('is not JSON');
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
  });

  it('no history for the resource is an error and nothing is reported', async () => {
    configMock.on(GetResourceConfigHistoryCommand).resolves({ configurationItems: [] });
    await expect(runConfigRule(oversizedEvent(), deps)).rejects.toThrow('holds no configuration history');
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
  });
});

describe('bad input never yields a verdict', () => {
  const withInvoking = (invoking: unknown) => ({
    ...fixtureEvent('create-iam-user'),
    invokingEvent: invoking,
  });
  const item = JSON.parse(fixtureEvent('create-iam-user').invokingEvent as string);

  it.each([
    ['an event that is not an object', 'hello', 'AWS Config rule event is malformed'],
    [
      'an event without a result token',
      { ...fixtureEvent('create-iam-user'), resultToken: undefined },
      'resultToken',
    ],
    ['an invokingEvent that is not JSON', withInvoking('{oops'), 'invokingEvent: is not valid JSON'],
    [
      'an unknown message type',
      withInvoking(JSON.stringify({ messageType: 'Surprise' })),
      'invokingEvent.messageType',
    ],
    [
      'a change notification without its item',
      withInvoking(JSON.stringify({ ...item, configurationItem: undefined })),
      'invokingEvent.configurationItem',
    ],
    [
      'a capture time that is not a timestamp',
      withInvoking(
        JSON.stringify({
          ...item,
          configurationItem: { ...item.configurationItem, configurationItemCaptureTime: 'yesterday' },
        }),
      ),
      'configurationItemCaptureTime',
    ],
    [
      'an unknown item status',
      withInvoking(
        JSON.stringify({
          ...item,
          configurationItem: { ...item.configurationItem, configurationItemStatus: 'Gone' },
        }),
      ),
      'configurationItemStatus',
    ],
    [
      'an account ID that is not 12 digits',
      { ...fixtureEvent('create-iam-user'), accountId: '42' },
      'accountId',
    ],
    [
      'a user item without its attached policy list',
      changeEvent({ attachedManagedPolicies: undefined }),
      'attachedManagedPolicies',
    ],
    ['a user item whose inline policy list is null', changeEvent({ userPolicyList: null }), 'userPolicyList'],
    ['a user item without its group list', changeEvent({ groupList: undefined }), 'groupList'],
    [
      'a user item with a nameless managed policy',
      changeEvent({ attachedManagedPolicies: [{ policyArn: 'arn:x' }] }),
      'policyName',
    ],
    [
      'an existing user with a null configuration',
      changeEvent({}, { configuration: null }),
      'configuration of IAM user ConfigRuleTest',
    ],
    [
      "the sample periodic event's unknown parameter",
      fixtureEvent('periodic'),
      'unknown parameter(s) "myParameterKey"',
    ],
    [
      'an invalid parameter value',
      changeEvent({}, {}, { ruleParameters: '{"checkInlinePolicies":"maybe"}' }),
      'checkInlinePolicies',
    ],
  ])('%s: a clear error, no AWS call', async (_name, event, message) => {
    await expect(runConfigRule(event, deps)).rejects.toThrow(message);
    expect(configMock.calls()).toHaveLength(0);
    expect(iamMock.calls()).toHaveLength(0);
  });
});

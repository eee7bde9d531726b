import type { UserDetail } from '@aws-sdk/client-iam';

/** Who the local run pretends to be: the rule as AWS Config knows it. */
export interface RuleIdentity {
  readonly accountId: string;
  readonly region: string;
  readonly configRuleName: string;
  /** Rule parameters as Config passes them: a JSON object of strings. */
  readonly ruleParameters: Readonly<Record<string, string>>;
}

/**
 * The configuration item AWS Config records for an IAM user, built from the user's GetAccountAuthorizationDetails
 * entry, with the fields and value conventions of a real item (see test/fixtures/config-events/
 * create-iam-user.json): tags as key/value objects, inline documents left URL-encoded as IAM returns them,
 * global resources recorded with awsRegion "global".
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/config-item-table.html
 */
export function configurationItemFor(user: UserDetail, accountId: string, capturedAt: Date) {
  const userName = required(user.UserName, 'UserName');
  const userId = required(user.UserId, 'UserId');
  const arn = user.Arn ?? `arn:aws:iam::${accountId}:user${user.Path ?? '/'}${userName}`;
  const created = (user.CreateDate ?? capturedAt).toISOString();
  return {
    relatedEvents: [],
    relationships: [
      ...(user.GroupList ?? []).map((g) => ({
        resourceType: 'AWS::IAM::Group',
        resourceName: g,
        name: 'Is contained in Group',
      })),
      ...(user.AttachedManagedPolicies ?? []).map((p) => ({
        resourceType: 'AWS::IAM::Policy',
        resourceName: p.PolicyName,
        name: 'Is attached to CustomerManagedPolicy',
      })),
    ],
    configuration: {
      path: user.Path ?? '/',
      userName,
      userId,
      arn,
      createDate: created,
      userPolicyList: (user.UserPolicyList ?? []).map((p) => ({
        policyName: p.PolicyName,
        policyDocument: p.PolicyDocument,
      })),
      groupList: user.GroupList ?? [],
      attachedManagedPolicies: (user.AttachedManagedPolicies ?? []).map((p) => ({
        policyName: p.PolicyName,
        policyArn: p.PolicyArn,
      })),
      permissionsBoundary: user.PermissionsBoundary ?? null,
      tags: (user.Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
    },
    supplementaryConfiguration: {},
    tags: Object.fromEntries((user.Tags ?? []).map((t) => [t.Key, t.Value])),
    configurationItemVersion: '1.3',
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationStateId: capturedAt.getTime(),
    awsAccountId: accountId,
    configurationItemStatus: 'ResourceDiscovered',
    resourceType: 'AWS::IAM::User',
    resourceId: userId,
    resourceName: userName,
    ARN: arn,
    awsRegion: 'global',
    availabilityZone: 'Not Applicable',
    configurationStateMd5Hash: '',
    resourceCreationTime: created,
  };
}

/**
 * The event Config sends the rule's function when it records a user: a ConfigurationItemChangeNotification
 * whose invokingEvent and ruleParameters are JSON strings.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_example-events.html
 */
export function changeNotificationEvent(user: UserDetail, rule: RuleIdentity, resultToken: string, at: Date) {
  const invokingEvent = {
    configurationItemDiff: { changedProperties: {}, changeType: 'CREATE' },
    configurationItem: configurationItemFor(user, rule.accountId, at),
    notificationCreationTime: at.toISOString(),
    messageType: 'ConfigurationItemChangeNotification',
    recordVersion: '1.3',
  };
  return ruleEvent(JSON.stringify(invokingEvent), rule, resultToken);
}

/** The periodic trigger: no item; the rule reads the whole account itself. */
export function scheduledNotificationEvent(rule: RuleIdentity, resultToken: string, at: Date) {
  const invokingEvent = {
    awsAccountId: rule.accountId,
    notificationCreationTime: at.toISOString(),
    messageType: 'ScheduledNotification',
    recordVersion: '1.0',
  };
  return ruleEvent(JSON.stringify(invokingEvent), rule, resultToken);
}

function ruleEvent(invokingEvent: string, rule: RuleIdentity, resultToken: string) {
  const ruleId = 'config-rule-local01';
  return {
    version: '1.0',
    invokingEvent,
    ruleParameters: JSON.stringify(rule.ruleParameters),
    resultToken,
    eventLeftScope: false,
    executionRoleArn: `arn:aws:iam::${rule.accountId}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
    configRuleArn: `arn:aws:config:${rule.region}:${rule.accountId}:config-rule/${ruleId}`,
    configRuleName: rule.configRuleName,
    configRuleId: ruleId,
    accountId: rule.accountId,
    evaluationMode: 'DETECTIVE',
  };
}

function required(value: string | undefined, field: string): string {
  if (value === undefined || value === '') {
    throw new Error(`GetAccountAuthorizationDetails returned a user without ${field}`);
  }
  return value;
}

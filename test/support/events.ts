import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'config-events');

type Json = Record<string, unknown>;

/** A real Config rule event from test/fixtures/config-events, as a fresh mutable object. */
export function fixtureEvent(name: 'create-iam-user' | 'delete-iam-user' | 'periodic'): Json {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Json;
}

/** The real create-iam-user event with its configuration (and optionally item fields) changed. */
export function changeEvent(
  configuration: Json = {},
  item: Json = {},
  event: Json = {},
): Json & { invokingEvent: string } {
  const base = fixtureEvent('create-iam-user');
  const invoking = JSON.parse(base.invokingEvent as string) as Json & { configurationItem: Json };
  invoking.configurationItem = {
    ...invoking.configurationItem,
    ...item,
    // An explicit item.configuration (e.g. null for a deleted user) replaces the sample's.
    configuration:
      'configuration' in item
        ? item.configuration
        : { ...(invoking.configurationItem.configuration as Json), ...configuration },
  };
  return { ...base, invokingEvent: JSON.stringify(invoking), ...event } as Json & { invokingEvent: string };
}

/** A scheduled event from the real periodic sample, with the rule's parameters instead of the sample's. */
export function scheduledEvent(ruleParameters: Json = {}, event: Json = {}): Json {
  return { ...fixtureEvent('periodic'), ruleParameters: JSON.stringify(ruleParameters), ...event };
}

/** An oversized change notification for the user in the create-iam-user sample. */
export function oversizedEvent(summary: Json = {}, event: Json = {}): Json {
  const base = fixtureEvent('create-iam-user');
  const invoking = {
    configurationItemSummary: {
      changeType: 'UPDATE',
      configurationItemVersion: '1.3',
      configurationItemCaptureTime: '2023-07-13T13:05:42.118Z',
      configurationStateId: 1689253542118,
      awsAccountId: '123456789123',
      configurationItemStatus: 'OK',
      resourceType: 'AWS::IAM::User',
      resourceId: 'AIDAABCDEFGHIJKLMNOPQ',
      resourceName: 'ConfigRuleTest',
      ARN: 'arn:aws:iam::123456789123:user/ConfigRuleTest',
      awsRegion: 'global',
      availabilityZone: 'Not Applicable',
      configurationStateMd5Hash: '',
      resourceCreationTime: '2023-07-13T13:03:52.000Z',
      ...summary,
    },
    s3DeliverySummary: {
      s3BucketLocation: 'config-bucket/AWSLogs/123456789123/Config/global/oversized.json.gz',
    },
    notificationCreationTime: '2023-07-13T13:05:42.310Z',
    messageType: 'OversizedConfigurationItemChangeNotification',
    recordVersion: '1.0',
  };
  return { ...base, invokingEvent: JSON.stringify(invoking), ...event };
}

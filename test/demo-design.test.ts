import { GetAccountAuthorizationDetailsCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeNotificationEvent, scheduledNotificationEvent } from '../local/config-events.js';
import { type ConfigStandIn, startConfigStandIn } from '../local/config-stand-in.js';
import { DEMO_RULE, runDemo } from '../local/demo-run.js';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, type Emulator, startEmulator } from '../local/emulator.js';
import { DEMO_ACCOUNT, type SeedAccount, seedAccount } from '../local/seed-account.js';
import { ConfigRuleEventSchema } from '../rule/schemas/config-rule-event.js';
import fixture from './fixtures/config-events/create-iam-user.json' with { type: 'json' };

let emulator: Emulator;
let config: ConfigStandIn;
let iam: IAMClient;

beforeAll(async () => {
  [emulator, config] = await Promise.all([startEmulator(), startConfigStandIn()]);
  iam = new IAMClient({
    endpoint: emulator.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
  });
});
afterAll(async () => {
  iam?.destroy();
  await Promise.all([emulator?.stop(), config?.stop()]);
});

describe('the local run’s Config events', () => {
  it('a change notification built from the account has the fields of a real one and parses as the rule’s input', async () => {
    await seedAccount(iam);
    const page = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User'] }));
    const dave = page.UserDetailList?.find((u) => u.UserName === 'dave');
    if (dave === undefined) throw new Error('dave was not seeded');
    const event = changeNotificationEvent(dave, DEMO_RULE, 'TESTMODE', new Date());

    expect(Object.keys(event).sort()).toEqual(Object.keys(fixture).sort());
    const real = JSON.parse(fixture.invokingEvent);
    const built = JSON.parse(event.invokingEvent);
    expect(Object.keys(built).sort()).toEqual(Object.keys(real).sort());
    expect(Object.keys(built.configurationItem).sort()).toEqual(Object.keys(real.configurationItem).sort());
    expect(Object.keys(built.configurationItem.configuration).sort()).toEqual(
      Object.keys(real.configurationItem.configuration).sort(),
    );

    const parsed = ConfigRuleEventSchema.parse(event);
    expect(parsed.invokingEvent).toMatchObject({
      messageType: 'ConfigurationItemChangeNotification',
      configurationItem: { resourceType: 'AWS::IAM::User', resourceId: dave.UserId, resourceName: 'dave' },
    });
    expect(
      ConfigRuleEventSchema.parse(scheduledNotificationEvent(DEMO_RULE, 'TESTMODE', new Date()))
        .invokingEvent,
    ).toMatchObject({ messageType: 'ScheduledNotification' });
    await emulator.reset();
  });
});

describe('the local run checks itself', () => {
  it('reports NOT as designed, naming the user, when an outcome differs from the seed’s design', async () => {
    const wrong: SeedAccount = {
      ...DEMO_ACCOUNT,
      users: DEMO_ACCOUNT.users.map((u) =>
        u.userName === 'ivan'
          ? { ...u, expected: { before: 'NON_COMPLIANT', remediation: 'migrated', after: 'COMPLIANT' } }
          : u,
      ),
    };
    const outcome = await runDemo(
      { emulator, config, iam },
      { write: () => {}, colour: false, ruleLog: () => {} },
      wrong,
    );
    expect(outcome.asDesigned).toBe(false);
    expect(outcome.problems).toEqual([
      'ivan: the remediation ended refused, expected migrated',
      'ivan: after remediation the rule says NON_COMPLIANT, expected COMPLIANT',
    ]);
  });
});

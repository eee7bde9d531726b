import type { IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, EMULATOR_ACCOUNT_ID, type Emulator, startEmulator } from '../local/emulator.js';
import { messyAccount } from './support/messy-account.js';
import { expectAccountSafe, expectSameSetsShareGroups, runInProcesses, shuffled } from './support/overlap.js';
import { effectiveGrants, emptyAccount, readInventory, seedAccount } from './support/remediation-account.js';

/**
 * Overlapping migrations on messy accounts, rounds 3 and 4 of 4 (the other two are in
 * remediation-overlap-a.test.ts, so that the two halves run side by side): every user migrated twice at once
 * by runs in different processes. After each round the whole account is checked (test/support/overlap.ts).
 */

let emulator: Emulator;
let iam: IAMClient;

beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
});
afterAll(async () => {
  await emulator?.stop();
});

describe('many overlapping runs on a messy account', () => {
  // Four messy accounts of 65 users (and 2 exempt ones), each user migrated twice at once by runs in
  // different processes: 4 x 134 = 536 overlapping runs, 520 of them for users with policies to move.
  it.each([3, 4])(
    'round %i of 4: 134 runs in 4 processes, 12 at a time each (every user twice, in different processes): no grant lost or gained, no run failed, exempt users refused',
    { timeout: 300_000 },
    async (round) => {
      await emptyAccount(iam);
      const account = messyAccount(65, round * 7);
      await seedAccount(iam, account.seed, EMULATOR_ACCOUNT_ID);
      const before = await readInventory(iam);
      const grantsBefore = await effectiveGrants(iam, before);
      const everyone = [...account.migratable, ...account.exempt];
      const twice = shuffled([...everyone, ...everyone], round);
      const lists = [0, 1, 2, 3].map((p) => twice.filter((_, i) => i % 4 === p));

      const outcomes = await runInProcesses(emulator.endpoint, lists, 12, account.ruleParameters);

      expect(outcomes).toHaveLength(134);
      expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
      const byUser = new Map<string, string[]>();
      for (const o of outcomes)
        byUser.set(o.userName, [...(byUser.get(o.userName) ?? []), o.status as string]);
      for (const name of account.migratable) {
        expect(byUser.get(name)?.sort(), name).toEqual(['already-compliant', 'migrated']);
      }
      for (const name of account.exempt) expect(byUser.get(name), name).toEqual(['refused', 'refused']);
      const after = await expectAccountSafe(iam, before, grantsBefore, account);
      for (const name of account.migratable) {
        expect(after.users[name], name).toMatchObject({ managed: [], inline: {} });
      }
      expectSameSetsShareGroups(before, after, account.migratable);
    },
  );
});

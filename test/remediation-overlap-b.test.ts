import type { IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { overlapRound } from './support/overlap.js';

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
    (round) => overlapRound(iam, emulator.endpoint, round),
  );
});

import { CreatePolicyCommand, type IAMClient, ListPoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import {
  acquireLease,
  describeBusy,
  isLeaseBusy,
  LEASE_PATH,
  type Lease,
  type LeaseBusy,
  type LeaseContext,
} from '../remediation/lease.js';
import { silentLogger } from '../rule/log.js';
import { emptyAccount } from './support/remediation-account.js';

let emulator: Emulator;
let iam: IAMClient;

beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
});
afterAll(async () => {
  await emulator?.stop();
});
beforeEach(async () => {
  await emptyAccount(iam);
});

const context = (holder: string, extra: Partial<LeaseContext> = {}): LeaseContext => ({
  holder,
  log: silentLogger,
  ...extra,
});
const SHORT = { ttlMs: 60_000, waitMs: 300 };

async function leasesOf(key: string): Promise<string[]> {
  const page = await iam.send(
    new ListPoliciesCommand({ Scope: 'Local', PathPrefix: `${LEASE_PATH}${key}/` }),
  );
  return (page.Policies ?? []).map((p) => p.PolicyName as string).sort();
}

function held(answer: Lease | LeaseBusy): Lease {
  if (isLeaseBusy(answer)) throw new Error(`expected the lease, got busy: ${describeBusy(answer)}`);
  return answer;
}

describe('leases kept in IAM', () => {
  it('a free key is taken at once as generation 1, and released by deleting it', async () => {
    const lease = held(await acquireLease(iam, 'user-alice', SHORT, context('run A')));
    expect(await leasesOf('user-alice')).toEqual(['lease-user-alice-1']);
    await lease.release();
    expect(await leasesOf('user-alice')).toEqual([]);
  });

  it('a held key makes a second run wait, then report who holds it and until when, changing nothing', async () => {
    const first = held(await acquireLease(iam, 'user-alice', SHORT, context('run A on host h, pid 1')));
    const second = await acquireLease(iam, 'user-alice', SHORT, context('run B'));
    expect(isLeaseBusy(second)).toBe(true);
    const busy = second as LeaseBusy;
    expect(busy.holder).toBe('run A on host h, pid 1');
    expect(busy.expiresAt.getTime() - busy.heldSince.getTime()).toBe(SHORT.ttlMs);
    expect(busy.waitedMs).toBeGreaterThanOrEqual(SHORT.waitMs);
    expect(describeBusy(busy)).toMatch(
      /holds the lease user-alice by run A on host h, pid 1 since .*changed nothing/,
    );
    expect(await leasesOf('user-alice')).toEqual(['lease-user-alice-1']);
    await first.release();
  });

  it('a run waiting for a key gets it as soon as the holder releases it', async () => {
    const first = held(await acquireLease(iam, 'shared-groups', SHORT, context('A')));
    const waiting = acquireLease(iam, 'shared-groups', { ttlMs: 60_000, waitMs: 10_000 }, context('B'));
    await new Promise((r) => setTimeout(r, 200));
    await first.release();
    const second = held(await waiting);
    expect(await leasesOf('shared-groups')).toEqual(['lease-shared-groups-1']);
    await second.release();
  });

  it('keys are independent: one user’s lease does not hold up another’s', async () => {
    const a = held(await acquireLease(iam, 'user-alice', SHORT, context('A')));
    const b = held(await acquireLease(iam, 'user-bob', SHORT, context('B')));
    await Promise.all([a.release(), b.release()]);
  });

  it('an expired lease of a crashed run is taken over with the next generation, and removed', async () => {
    // The crashed run's lease: created, never released.
    held(await acquireLease(iam, 'user-alice', SHORT, context('crashed')));
    const later = () => Date.now() + SHORT.ttlMs + 1000;
    const next = held(await acquireLease(iam, 'user-alice', SHORT, context('B', { now: later })));
    expect(await leasesOf('user-alice')).toEqual(['lease-user-alice-2']);
    expect(next.policyArn).toMatch(/lease-user-alice-2$/);
    await next.release();
    // Releasing a lease someone else already removed is not an error.
    await next.release();
  });

  it('two runs that both create a lease at once both step back, so neither proceeds on a shared belief', async () => {
    // Simulate the race: a rival lease of a different generation appears between B's create and its check.
    await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'lease-user-carol-7',
        Path: `${LEASE_PATH}user-carol/`,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 'iam:GetUser', Resource: 'arn:aws:iam::*:user/x/none' }],
        }),
      }),
    );
    // carol-7 is live, so B waits and reports busy without creating anything of its own.
    const answer = await acquireLease(iam, 'user-carol', SHORT, context('B'));
    expect(isLeaseBusy(answer)).toBe(true);
    expect(await leasesOf('user-carol')).toEqual(['lease-user-carol-7']);
  });

  it('among 12 concurrent runs for one key, at most one holds it at any moment, and all get it in turn', async () => {
    let holding = 0;
    let most = 0;
    const order: string[] = [];
    const settings = { ttlMs: 60_000, waitMs: 60_000 };
    const seeded = (seed: number) => () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const lease = held(
          await acquireLease(iam, 'shared-groups', settings, context(`run ${i}`, { random: seeded(i + 1) })),
        );
        holding++;
        most = Math.max(most, holding);
        order.push(`run ${i}`);
        await new Promise((r) => setTimeout(r, 20));
        holding--;
        await lease.release();
      }),
    );
    expect(most).toBe(1);
    expect(order).toHaveLength(12);
    expect(await leasesOf('shared-groups')).toEqual([]);
  });
});

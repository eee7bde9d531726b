import { createHash } from 'node:crypto';
import {
  CreatePolicyCommand,
  DeletePolicyCommand,
  EntityAlreadyExistsException,
  GetPolicyCommand,
  type IAMClient,
  ListPoliciesCommand,
  NoSuchEntityException,
  type Policy,
} from '@aws-sdk/client-iam';
import type { Logger } from '../rule/log.js';
import { MIGRATION_POLICY_PATH } from './naming.js';

/**
 * Mutual exclusion between migration runs, kept in IAM itself: every entry point (the Automation's Lambda,
 * the CLI, the local run, a second deployment in the same account) changes IAM through the same account, so
 * a lock kept there holds across all of them without another service, table or permission outside IAM.
 *
 * A lease is a customer managed policy under LEASE_PATH that grants and denies nothing and is never
 * attached. Creating a policy whose name exists fails with EntityAlreadyExists, atomically: that is the lock.
 * Each key (one user, one group, one policy) has its own path, and its leases are numbered: a run creates
 * generation max+1 only when no live lease exists, and after creating it lists again and keeps it only if
 * it is the one live lease of the key (two runs that both saw the key free both back off rather than
 * both proceed). A lease expires `ttlMs` after IAM's CreateDate: a crashed or timed-out run blocks the key
 * for at most that long, and the next run takes over with a new generation instead of deleting and
 * re-creating a name another run might have just taken.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html
 */
export const LEASE_PATH = `${MIGRATION_POLICY_PATH}leases/`;

/** How long leases live and how long a run waits for one. */
export interface LeaseSettings {
  /** A lease older than this (by IAM's CreateDate) is expired and may be taken over. */
  readonly ttlMs: number;
  /** How long to wait for a held lease before giving up. */
  readonly waitMs: number;
}

/**
 * A user's lease covers a whole run. 15 minutes is Lambda's maximum timeout (the function's own is 300 s),
 * so a live run's lease never expires under it; a crashed run blocks its user for at most 15 minutes.
 */
export const USER_LEASE: LeaseSettings = { ttlMs: 15 * 60_000, waitMs: 60_000 };
/**
 * A group's or policy's lease covers only the short sections that create, fill, join or tear it down
 * (seconds). A holder stops (and fails its run) rather than use one past half its life. A run takes its
 * leases one after another within one wait, so its first may be 90 s old before the build starts: half of
 * 5 minutes leaves the build a minute more.
 */
export const OBJECT_LEASE: LeaseSettings = { ttlMs: 5 * 60_000, waitMs: 90_000 };
/**
 * A policy set's lease is held from the second read through the build, including the wait for the objects'
 * leases (up to OBJECT_LEASE.waitMs), so it lives longer than theirs; a crashed run holds up the other users of
 * its set for at most 8 minutes. Outliving it gives nobody access (it only orders users of one set), so its
 * holder is not stopped at half its life as an object's is.
 */
export const SET_LEASE: LeaseSettings = { ttlMs: 8 * 60_000, waitMs: 90_000 };

/**
 * Lease keys. Names are unique without regard to case, so keys are lower case; a key becomes part of a
 * policy name (at most 128 characters with "lease-" and the generation), so a long group name is replaced by
 * a digest of itself.
 */
export function userLeaseKey(userName: string): string {
  return `user-${userName.toLowerCase()}`;
}
export function groupLeaseKey(groupName: string): string {
  return `group-${shortened(groupName.toLowerCase())}`;
}
export function policyLeaseKey(policyName: string): string {
  return `policy-${shortened(policyName.toLowerCase())}`;
}
/**
 * The lease of a policy set: every user whose direct grants are this set plans and builds its groups while
 * holding it, one run at a time, so that each plans from what the previous one built and all of them end in
 * the same groups. The grants are always digested (a set can be long).
 */
export function policySetLeaseKey(grants: readonly string[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([...grants].sort()))
    .digest('hex')
    .slice(0, 32);
  return `set-sha256-${digest}`;
}
function shortened(name: string): string {
  return name.length <= 80 ? name : `sha256-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

/** A lease this run holds. */
export interface Lease {
  readonly key: string;
  readonly policyArn: string;
  /** IAM's CreateDate of the lease, in milliseconds. */
  readonly createdAt: number;
  /** How long this run has held it, on IAM's clock. */
  heldForMs(): number;
  /** Deletes the lease; a lease already gone (taken over after expiry) is not an error. */
  release(): Promise<void>;
}

/** Why a lease was not acquired in time: who holds it, since when, until when. */
export interface LeaseBusy {
  readonly key: string;
  readonly heldSince: Date;
  readonly expiresAt: Date;
  /** The holder's own description ("remediate on host h, pid 1"), when it could be read. */
  readonly holder?: string;
  readonly waitedMs: number;
}

/** What the lease functions need besides the IAM client: a clock, a sleep and who is asking. */
export interface LeaseContext {
  /** Who holds the lease, for people who find it: "remediate (CLI) on host h, pid 123". */
  readonly holder: string;
  readonly log: Logger;
  /** Milliseconds on IAM's clock. Default: the local clock corrected by the SDK's measured skew. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for backoff jitter. Default Math.random. */
  readonly random?: () => number;
}

/** The document of every lease: it denies one read on a user path that is never created, and grants nothing. */
const LEASE_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'LeaseOnlyNeverAttach',
      Effect: 'Deny',
      Action: 'iam:GetUser',
      Resource: 'arn:aws:iam::*:user/policy-migration-lease/none',
    },
  ],
});

interface LeaseEntry {
  readonly generation: number;
  readonly policyArn: string;
  readonly createdAt: number;
}

/**
 * Acquires the lease `key`, waiting up to `settings.waitMs` while another run holds it. Resolves to the lease,
 * or to LeaseBusy when the wait ran out; IAM errors other than the expected conflicts are thrown.
 */
export async function acquireLease(
  iam: IAMClient,
  key: string,
  settings: LeaseSettings,
  context: LeaseContext,
): Promise<Lease | LeaseBusy> {
  const now = context.now ?? (() => Date.now() + (iam.config.systemClockOffset ?? 0));
  const sleep = context.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const random = context.random ?? Math.random;
  const started = now();
  const path = `${LEASE_PATH}${key}/`;
  const isLive = (e: LeaseEntry) => now() - e.createdAt < settings.ttlMs;

  for (let attempt = 0; ; attempt++) {
    // The first try creates generation 1 without listing: a free key usually has no lease at all, and the
    // check after creating catches any other live lease. Later tries list to pick the next generation.
    const entries = attempt === 0 ? [] : await listLeases(iam, path);
    const live = entries.filter(isLive);
    if (live.length === 0) {
      const generation = Math.max(0, ...entries.map((e) => e.generation)) + 1;
      const mine = await createLease(iam, key, path, generation, settings, context.holder);
      if (mine !== undefined) {
        const after = await listLeases(iam, path);
        const rivals = after.filter((e) => e.policyArn !== mine.policyArn && isLive(e));
        if (rivals.length === 0) {
          const lease = heldLease(iam, key, mine, context.log, now);
          context.log({ event: 'lease-acquired', key, generation });
          // Leases of crashed runs: the key is ours now, so nobody else deletes or relies on them.
          for (const stale of after.filter((e) => e.policyArn !== mine.policyArn)) {
            await deleteQuietly(iam, stale.policyArn);
          }
          return lease;
        }
        // Another run saw the key free at the same moment: both step back, and the jittered wait decides.
        await deleteQuietly(iam, mine.policyArn);
      }
    }
    const waited = now() - started;
    if (waited >= settings.waitMs) {
      const holderEntry = (await listLeases(iam, path)).filter(isLive)[0] ?? live[0];
      const heldSince = new Date(holderEntry?.createdAt ?? now());
      context.log({ event: 'lease-busy', key, waitedMs: waited });
      return {
        key,
        heldSince,
        expiresAt: new Date(heldSince.getTime() + settings.ttlMs),
        waitedMs: waited,
        ...(holderEntry !== undefined ? await holderOf(iam, holderEntry.policyArn) : {}),
      };
    }
    // Exponential backoff with jitter (100 ms doubling to 1 s), never past the end of the wait.
    const backoff = Math.min(1000, 100 * 2 ** Math.min(attempt, 4)) * (0.5 + random() / 2);
    await sleep(Math.max(1, Math.min(backoff, settings.waitMs - waited)));
  }
}

/** True for the LeaseBusy answer of acquireLease. */
export function isLeaseBusy(answer: Lease | LeaseBusy): answer is LeaseBusy {
  return 'heldSince' in answer;
}

/** One line for people: which run holds the key, and until when at the latest. */
export function describeBusy(busy: LeaseBusy): string {
  const by = busy.holder !== undefined ? ` by ${busy.holder}` : '';
  return `another migration run holds the lease ${busy.key}${by} since ${busy.heldSince.toISOString()} (it expires by ${busy.expiresAt.toISOString()} if that run has crashed); this run waited ${Math.round(busy.waitedMs / 1000)} s and changed nothing. Run again once it has finished.`;
}

async function listLeases(iam: IAMClient, path: string): Promise<LeaseEntry[]> {
  const policies: Policy[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new ListPoliciesCommand({ Scope: 'Local', PathPrefix: path, ...(marker ? { Marker: marker } : {}) }),
    );
    policies.push(...(page.Policies ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker !== undefined);
  return policies
    .filter((p) => p.Path === path)
    .flatMap((p) => {
      const generation = Number(/-(\d+)$/.exec(p.PolicyName ?? '')?.[1]);
      return Number.isInteger(generation) && p.Arn !== undefined && p.CreateDate !== undefined
        ? [{ generation, policyArn: p.Arn, createdAt: p.CreateDate.getTime() }]
        : [];
    });
}

async function createLease(
  iam: IAMClient,
  key: string,
  path: string,
  generation: number,
  settings: LeaseSettings,
  holder: string,
): Promise<LeaseEntry | undefined> {
  try {
    const answer = await iam.send(
      new CreatePolicyCommand({
        PolicyName: `lease-${key}-${generation}`,
        Path: path,
        PolicyDocument: LEASE_DOCUMENT,
        Description: descriptionText(
          `IAM.2 policy migration lease on ${key}, held by ${holder}; expires ${Math.round(settings.ttlMs / 60_000)} min after creation. Grants nothing; never attach it.`,
        ),
      }),
    );
    const policy = answer.Policy;
    if (policy?.Arn === undefined || policy.CreateDate === undefined) {
      throw new Error('CreatePolicy returned no ARN or CreateDate for a lease');
    }
    return { generation, policyArn: policy.Arn, createdAt: policy.CreateDate.getTime() };
  } catch (error) {
    if (error instanceof EntityAlreadyExistsException) return undefined;
    throw error;
  }
}

function heldLease(iam: IAMClient, key: string, entry: LeaseEntry, log: Logger, now: () => number): Lease {
  return {
    key,
    policyArn: entry.policyArn,
    createdAt: entry.createdAt,
    heldForMs: () => now() - entry.createdAt,
    async release() {
      try {
        await iam.send(new DeletePolicyCommand({ PolicyArn: entry.policyArn }));
        log({ event: 'lease-released', key });
      } catch (error) {
        if (error instanceof NoSuchEntityException) return;
        // The run's work is done or undone; a lease left behind only makes others wait until it expires.
        log({
          event: 'lease-release-failed',
          key,
          error: error instanceof Error ? error.name : String(error),
        });
      }
    },
  };
}

async function deleteQuietly(iam: IAMClient, policyArn: string): Promise<void> {
  try {
    await iam.send(new DeletePolicyCommand({ PolicyArn: policyArn }));
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
}

async function holderOf(iam: IAMClient, policyArn: string): Promise<{ holder?: string }> {
  try {
    const answer = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
    const held = /held by (.*); expires/.exec(answer.Policy?.Description ?? '')?.[1];
    return held !== undefined ? { holder: held } : {};
  } catch {
    // Released meanwhile, or not readable: the times are enough to act on.
    return {};
  }
}

/** IAM descriptions take printable Latin-1 only, up to 1,000 characters. */
function descriptionText(text: string): string {
  return text.replace(/[^\t\n\r\x20-\x7e\xa1-\xff]/g, '?').slice(0, 1000);
}

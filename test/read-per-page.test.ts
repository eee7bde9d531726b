import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  type GetAccountAuthorizationDetailsCommandOutput,
  GetAccountSummaryCommand,
  type IAMClient,
  type UserDetail,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { readLiveState } from '../remediation/read-state.js';
import { readAccountUsers } from '../rule/aws/iam.js';
import { DEFAULT_SUMMARY_MAP } from './support/remediation-state.js';

/**
 * Memory of the account reads: the sweep (readAccountUsers) and the migration's read (readLiveState) must
 * reduce each GetAccountAuthorizationDetails page to what they need as it arrives, so that the documents of
 * earlier pages can be collected while later pages are read. Checked with a fake IAM client whose pages
 * carry large inline documents: before it answers page k, it collects garbage and counts the user entries
 * of pages k-2 and earlier that are still alive (the page just before may still sit in a local variable).
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PAGES = 6;
const USERS_PER_PAGE = 4;
/** A URL-encoded inline document of about 20 kB, as IAM sends them. */
const bigDocument = (tag: string) =>
  encodeURIComponent(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${tag}/${'x'.repeat(20_000)}` },
      ],
    }),
  );

interface Probe {
  readonly iam: IAMClient;
  /** Per request of page k (k >= 2): how many tracked entries of pages up to k-2 were still alive. */
  readonly aliveAtRequest: number[];
  readonly requests: () => number;
}

/**
 * A fake IAM client: PAGES pages of USERS_PER_PAGE users, each with an inline policy carrying a large
 * document. Entries of users named in `untracked` are not counted (the user being migrated keeps its
 * documents by design).
 */
function pagedAccount(untracked: ReadonlySet<string> = new Set()): Probe {
  const tracked: WeakRef<object>[][] = [];
  const aliveAtRequest: number[] = [];
  let requests = 0;
  const send = async (command: { input: { Marker?: string } }) => {
    if (command instanceof GetAccountSummaryCommand) {
      return { SummaryMap: DEFAULT_SUMMARY_MAP };
    }
    requests++;
    const index = command.input.Marker === undefined ? 0 : Number(command.input.Marker);
    // A task boundary first (WeakRefs made in this job are kept until it ends), then a full collection.
    await new Promise((done) => setImmediate(done));
    gc();
    if (index >= 2) {
      aliveAtRequest.push(
        tracked
          .slice(0, index - 1)
          .reduce((n, refs) => n + refs.filter((r) => r.deref() !== undefined).length, 0),
      );
    }
    const users: UserDetail[] = Array.from({ length: USERS_PER_PAGE }, (_, i) => {
      const name = `user-${index}-${i}`;
      return {
        UserName: name,
        UserId: `AIDA${String(index * USERS_PER_PAGE + i).padStart(17, '0')}`,
        Arn: `arn:aws:iam::123456789012:user/${name}`,
        Path: '/',
        GroupList: [`team-${i}`],
        AttachedManagedPolicies: [],
        UserPolicyList: [{ PolicyName: `inline-${name}`, PolicyDocument: bigDocument(name) }],
        Tags: [],
      };
    });
    tracked[index] = users
      .filter((u) => !untracked.has(u.UserName ?? ''))
      .flatMap((u) => [new WeakRef(u), new WeakRef(u.UserPolicyList ?? [])]);
    const last = index === PAGES - 1;
    const page: GetAccountAuthorizationDetailsCommandOutput = {
      $metadata: {},
      UserDetailList: users,
      GroupDetailList: [],
      Policies: [],
      IsTruncated: !last,
      ...(last ? {} : { Marker: String(index + 1) }),
    };
    return page;
  };
  return { iam: { send } as unknown as IAMClient, aliveAtRequest, requests: () => requests };
}

describe('account reads keep names, not documents, page by page', () => {
  it('the sweep (readAccountUsers): entries of earlier pages are collected while later pages are read', async () => {
    const probe = pagedAccount();
    const users = await readAccountUsers(probe.iam);
    expect(users).toHaveLength(PAGES * USERS_PER_PAGE);
    expect(probe.requests()).toBe(PAGES);
    expect(probe.aliveAtRequest).toEqual(Array(PAGES - 2).fill(0));
    // What is kept holds names only: no document text.
    expect(JSON.stringify(users)).not.toContain('xxxxxxxxxx');
  });

  it('the migration read (readLiveState): other users are reduced to their memberships as each page arrives', async () => {
    const target = 'user-1-2';
    const probe = pagedAccount(new Set([target]));
    const live = await readLiveState(probe.iam, { userName: target });
    expect(live?.state.user.userName).toBe(target);
    expect(live?.state.user.inlinePolicies).toHaveLength(1);
    expect(probe.requests()).toBe(PAGES);
    expect(probe.aliveAtRequest).toEqual(Array(PAGES - 2).fill(0));
  });
});

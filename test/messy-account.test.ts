import { ListUserTagsCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalDocument,
  directGrants,
  oneGroupPerDirectSet,
  teamCorePlusOneGroupPerPolicy,
} from '../bench/design-baselines.js';
import {
  generateMessyAccount,
  homeDocument,
  loadMessyAccount,
  type MessyAccount,
} from '../bench/messy-account.js';
import { seededRandom } from '../bench/seeded-random.js';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { readAccountSnapshot } from '../remediation/read-state.js';
import type { UserState } from '../remediation/state.js';

const small = generateMessyAccount({ seed: 7, users: 300 });
const large = generateMessyAccount({ seed: 7, users: 3000 });
const fraction = (a: MessyAccount, p: (u: UserState) => boolean) => a.users.filter(p).length / a.users.length;
const tagsOf = (a: MessyAccount) => new Map(a.users.map((u) => [u.userName, u.tags ?? {}]));
const teamOf = (a: MessyAccount) => {
  const tags = tagsOf(a);
  return (name: string) => tags.get(name)?.team;
};

describe('the seeded PRNG', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, seededRandom(seed).next);
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(1).every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('generateMessyAccount', () => {
  it('the same seed gives the same account, another seed another one', () => {
    expect(generateMessyAccount({ seed: 7, users: 300 })).toEqual(small);
    expect(generateMessyAccount({ seed: 8, users: 300 })).not.toEqual(small);
  });

  it.each([
    ['300', small],
    ['3000', large],
  ])(
    '%s users: teams, about eleven groups, half with ad-hoc extras, drift, users already in groups',
    (_, a) => {
      const n = Number(_);
      expect(a.users).toHaveLength(n);
      expect(new Set(a.users.map((u) => u.userName.toLowerCase())).size).toBe(n);
      expect(a.teams.length).toBeGreaterThanOrEqual(6);
      expect(a.groups.length).toBeGreaterThanOrEqual(10);
      expect(a.groups.length).toBeLessThanOrEqual(12);
      expect(a.groups.map((g) => g.groupName)).toEqual(
        expect.arrayContaining(['project-apollo', 'beta-testers']),
      );
      // A team-core group carries exactly one team's core.
      expect(
        a.groups.filter((g) =>
          a.teams.some(
            (t) =>
              JSON.stringify(g.managedPolicies.map((p) => p.policyArn).sort()) === JSON.stringify(t.core),
          ),
        ).length,
      ).toBeGreaterThanOrEqual(3);
      const core = new Map(a.teams.map((t) => [t.name, new Set(t.core)]));
      const coreOf = (u: UserState) => core.get(teamOf(a)(u.userName) ?? '') ?? new Set<string>();
      const extras = (u: UserState) => u.managedPolicies.filter((p) => !coreOf(u).has(p.policyArn)).length;
      expect(fraction(a, (u) => extras(u) >= 1)).toBeGreaterThan(0.4);
      expect(fraction(a, (u) => extras(u) >= 1)).toBeLessThan(0.7);
      // Drift: a member outside any team group who lacks exactly one policy of the team's core.
      const missingOne = (u: UserState) =>
        u.groupNames.every((g) => !g.endsWith('-team')) &&
        [...coreOf(u)].filter((arn) => !u.managedPolicies.some((p) => p.policyArn === arn)).length === 1;
      expect(fraction(a, missingOne)).toBeGreaterThan(0.03);
      expect(fraction(a, (u) => u.groupNames.length > 0)).toBeGreaterThan(0.15);
      expect(fraction(a, (u) => u.groupNames.length > 0)).toBeLessThan(0.6);
      expect(a.users.filter((u) => u.tags !== undefined).length / n).toBeGreaterThan(0.85);
      expect(a.users.some((u) => u.tags?.['cost-center'] !== undefined && u.tags?.team !== undefined)).toBe(
        true,
      );
      // Group members and users' group lists say the same.
      for (const g of a.groups) {
        for (const m of g.memberNames)
          expect(a.users.find((u) => u.userName === m)?.groupNames).toContain(g.groupName);
      }
    },
  );

  it("stays within IAM's default quotas, which the emulator would not enforce", () => {
    for (const u of large.users) {
      expect(u.managedPolicies.length).toBeLessThanOrEqual(10);
      expect(u.groupNames.length).toBeLessThanOrEqual(10);
      expect(
        u.inlinePolicies.reduce((s, p) => s + p.policyName.length + p.document.length, 0),
      ).toBeLessThanOrEqual(2048);
    }
  });

  it('inline documents: shared ones, the same reformatted, and per-person ones', () => {
    const inline = large.users.flatMap((u) => u.inlinePolicies.map((p) => ({ user: u.userName, ...p })));
    for (const t of large.teams) {
      const copies = inline.filter(
        (p) => canonicalDocument(p.document) === canonicalDocument(t.sharedDocument),
      );
      expect(copies.filter((p) => p.document === t.sharedDocument).length).toBeGreaterThan(10);
      expect(copies.filter((p) => p.document !== t.sharedDocument).length).toBeGreaterThan(3);
    }
    const home = inline.filter((p) => p.document.includes('arn:aws:s3:::home/'));
    expect(home.length / large.users.length).toBeGreaterThan(0.25);
  });

  it('per-person documents differ only by the user name, in the ARN path segment home/<user>/*', () => {
    const home = large.users.flatMap((u) =>
      u.inlinePolicies.filter((p) => p.document.includes('arn:aws:s3:::home/')).map((p) => ({ u, p })),
    );
    const templates = new Set(home.map(({ u, p }) => p.document.replaceAll(u.userName, '<user>')));
    expect(templates.size).toBe(1);
    const [template] = templates;
    expect(template).toContain('"Resource":"arn:aws:s3:::home/<user>/*"');
    expect(JSON.parse(template ?? '').Version).toBe('2012-10-17');
    expect(new Set(home.map(({ p }) => p.document)).size).toBe(home.length);
    expect(homeDocument('a.b')).toBe((template ?? '').replaceAll('<user>', 'a.b'));
  });
});

describe('the naive baselines', () => {
  const user = (
    userName: string,
    arns: string[],
    inline: string[] = [],
    groupNames: string[] = [],
  ): UserState => ({
    userName,
    userId: userName,
    tags: {},
    arn: `arn:aws:iam::1:user/${userName}`,
    path: '/',
    groupNames,
    managedPolicies: arns.map((a) => ({ policyArn: a, policyName: a })),
    inlinePolicies: inline.map((d, i) => ({ policyName: `p${i}`, document: d })),
  });
  const users = [
    user('a', ['A', 'B', 'C']),
    user('b', ['A', 'B', 'C']),
    user('c', ['A', 'B', 'C', 'X'], ['{"b":1, "a":2}']),
    user('d', ['A', 'B'], ['{"a":2,"b":1}']),
    user('e', []),
  ];
  const team = (name: string) => (name === 'e' ? undefined : 'payments');

  it('one group per distinct direct set: reformatted documents are one grant, empty sets no group', () => {
    expect(directGrants(users[2] as UserState)).toContain('inline:{"a":2,"b":1}');
    expect(oneGroupPerDirectSet(users)).toEqual({
      groups: 3,
      memberships: 4,
      attachments: 3 + 5 + 3,
      groupsOverPolicyQuota: 0,
      usersOverGroupQuota: 0,
    });
  });

  it('team core plus one group per remaining grant: the core is what most of the team holds', () => {
    // Core {A, B, C}: held by a, b, c (3 of 4). d lacks C, so gets A, B and its document as single groups.
    expect(teamCorePlusOneGroupPerPolicy(users, team)).toEqual({
      groups: 1 + 4,
      memberships: 1 + 1 + 3 + 3,
      attachments: 3 + 4,
      groupsOverPolicyQuota: 0,
      usersOverGroupQuota: 0,
    });
  });

  it('on a generated account both are computed, and a group quota overflow is counted', () => {
    const perSet = oneGroupPerDirectSet(large.users);
    const perTeam = teamCorePlusOneGroupPerPolicy(large.users, teamOf(large));
    expect(perSet.groups).toBeGreaterThan(large.teams.length);
    expect(perTeam.groups).toBeGreaterThan(large.teams.length);
    // Per-person documents keep both baselines far above the number of teams.
    expect(perSet.groups).toBeGreaterThan(large.users.length * 0.25);
    expect(
      oneGroupPerDirectSet([user('q', ['A'], [], ['g1', 'g2'])], {
        attachedPoliciesPerGroup: 10,
        groupsPerUser: 2,
      }).usersOverGroupQuota,
    ).toBe(1);
  });
});

describe('loadMessyAccount into the emulator', () => {
  let emulator: Emulator;
  const account = generateMessyAccount({ seed: 11, users: 40 });
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('reads back as the generated account: users, policies, documents, groups, memberships and tags', async () => {
    const iam = clientsFor(emulator.endpoint).iam;
    const ids = await loadMessyAccount(iam, account, 6);
    expect(ids.size).toBe(40);
    const snapshot = await readAccountSnapshot(iam);
    const shape = (u: UserState) => ({
      userName: u.userName,
      path: u.path,
      groupNames: [...u.groupNames].sort(),
      managed: u.managedPolicies.map((p) => p.policyArn).sort(),
      inline: [...u.inlinePolicies].sort((a, b) => (a.policyName < b.policyName ? -1 : 1)),
    });
    const byName = (a: UserState, b: UserState) => (a.userName < b.userName ? -1 : 1);
    expect([...snapshot.users].sort(byName).map(shape)).toEqual([...account.users].sort(byName).map(shape));
    const groups = (gs: typeof account.groups) =>
      gs
        .map((g) => ({
          name: g.groupName,
          members: [...g.memberNames].sort(),
          policies: g.managedPolicies.map((p) => p.policyArn).sort(),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(groups(snapshot.groups)).toEqual(groups(account.groups));
    expect(snapshot.customerPolicies.map((p) => p.policyArn).sort()).toEqual(
      account.customerPolicies.map((p) => p.policyArn).sort(),
    );
    for (const u of account.users) {
      const tags = await iam.send(new ListUserTagsCommand({ UserName: u.userName }));
      expect(Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual(u.tags ?? {});
    }
  });
});

import { IAM_DEFAULT_QUOTAS } from '../../remediation/design/authorization-details-file.js';
import { seededRandom } from '../../remediation/design/role-cover.js';
import type { AccountSnapshot } from '../../remediation/read-state.js';
import type { GroupState, IamQuotas, UserState } from '../../remediation/state.js';

/** IAM's default quotas, with an account far from its totals. */
export const DEFAULT_QUOTAS: IamQuotas = { ...IAM_DEFAULT_QUOTAS, groups: 0, policies: 0 };

export const ACCOUNT = '123456789012';
export const aws = (name: string) => `arn:aws:iam::aws:policy/${name}`;

/** A user for a design test: managed policies by ARN, inline by name to document. */
export function user(
  userName: string,
  parts: {
    managed?: string[];
    inline?: Record<string, string>;
    groups?: string[];
    path?: string;
    tags?: Record<string, string>;
  } = {},
): UserState {
  const path = parts.path ?? '/';
  return {
    userName,
    userId: `AIDA${userName
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, 'X')
      .padEnd(17, '0')
      .slice(0, 17)}`,
    arn: `arn:aws:iam::${ACCOUNT}:user${path}${userName}`,
    path,
    groupNames: parts.groups ?? [],
    managedPolicies: (parts.managed ?? []).map((policyArn) => ({
      policyArn,
      policyName: policyArn.slice(policyArn.lastIndexOf('/') + 1),
    })),
    inlinePolicies: Object.entries(parts.inline ?? {}).map(([policyName, document]) => ({
      policyName,
      document,
    })),
    tags: parts.tags ?? {},
  };
}

/** A group with managed policies; members are filled in from the users by `account`. */
export function group(groupName: string, managed: string[], path = '/'): Omit<GroupState, 'memberNames'> {
  return {
    groupName,
    path,
    managedPolicies: managed.map((policyArn) => ({
      policyArn,
      policyName: policyArn.slice(policyArn.lastIndexOf('/') + 1),
    })),
    inlinePolicies: [],
  };
}

/** A snapshot whose group members are what the users' group lists say (as read-state builds it). */
export function account(users: UserState[], groups: Omit<GroupState, 'memberNames'>[] = []): AccountSnapshot {
  return {
    users,
    groups: groups.map((g) => ({
      ...g,
      memberNames: users
        .filter((u) => u.groupNames.some((n) => n.toLowerCase() === g.groupName.toLowerCase()))
        .map((u) => u.userName),
    })),
    customerPolicies: [],
  };
}

/** A small deterministic PRNG (mulberry32): generated accounts are the same on every run. */
export const random = seededRandom;

export const homeDocument = (userName: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 's3:*', Resource: [`arn:aws:s3:::home/${userName}/*`] },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::home',
        Condition: { StringLike: { 's3:prefix': [`home/${userName}/*`] } },
      },
    ],
  });

const inlineDocument = (n: number) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: `sqs:SendMessage`, Resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:queue-${n}` },
    ],
  });

/**
 * An account shaped like real ones: job functions (sets of managed policies, some with an inline policy)
 * that users combine, a few personal extras, home-folder policies written per user, some users already in
 * groups (some at the groups-per-user quota), existing groups under /policy-migration/ and elsewhere.
 */
export function generatedAccount(seed: number, userCount: number): AccountSnapshot {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T;
  const pool = Array.from({ length: 40 }, (_, i) =>
    aws(`GeneratedPolicy${String(i).padStart(2, '0')}Access`),
  );
  const jobs = Array.from({ length: 12 }, () => {
    const size = 2 + Math.floor(next() * 6);
    return [...new Set(Array.from({ length: size }, () => pick(pool)))];
  });
  const groups = [
    group('developers', [pool[0] as string, pool[1] as string]),
    group('readers', [pool[2] as string]),
    group('migrated-set', [pool[3] as string, pool[4] as string], '/policy-migration/'),
    ...Array.from({ length: 10 }, (_, i) => group(`project-${i}`, [pool[30 + (i % 10)] as string])),
  ];
  const users: UserState[] = [];
  for (let i = 0; i < userCount; i++) {
    const name = `user-${String(i).padStart(4, '0')}`;
    const managed = new Set<string>();
    for (const p of pick(jobs)) managed.add(p);
    if (next() < 0.4) for (const p of pick(jobs)) managed.add(p);
    if (next() < 0.2) managed.add(pick(pool));
    const inline: Record<string, string> = {};
    if (next() < 0.5) inline[`${name}-home`] = homeDocument(name);
    if (next() < 0.3) inline.queue = inlineDocument(Math.floor(next() * 4));
    let memberOf: string[] = [];
    const r = next();
    if (r < 0.15) memberOf = ['developers'];
    else if (r < 0.2) memberOf = ['readers', 'developers'];
    else if (r < 0.22) memberOf = Array.from({ length: 10 }, (_, k) => `project-${k}`);
    if (next() < 0.1) {
      memberOf = [];
      managed.clear();
    }
    users.push(
      user(name, {
        managed: [...managed].sort(),
        inline: next() < 0.9 ? inline : {},
        groups: memberOf,
        ...(next() < 0.05 ? { path: '/break-glass/' } : {}),
        tags: { team: pick(['payments', 'search', 'platform']) },
      }),
    );
  }
  return account(users, groups);
}

/**
 * What the account looks like after `apply` made a plan (or, with `onlyCreate`, after an apply that created
 * the groups and policies and stopped before any membership): for re-plan tests, without IAM.
 */
export function appliedSnapshot(
  snapshot: AccountSnapshot,
  plan: import('../../remediation/design/design-types.js').DesignPlan,
  onlyCreate = false,
): AccountSnapshot {
  const change = new Map(plan.users.map((c) => [c.userName, c]));
  const users = snapshot.users.map((u) => {
    const c = change.get(u.userName);
    if (c === undefined || onlyCreate) return u;
    return {
      ...u,
      groupNames: [...u.groupNames, ...c.joins.filter((j) => !u.groupNames.includes(j))],
      managedPolicies: u.managedPolicies.filter((p) => !c.detachManaged.includes(p.policyArn)),
      inlinePolicies: u.inlinePolicies.filter((p) => !c.deleteInline.includes(p.policyName)),
    };
  });
  const created = plan.groups
    .filter((g) => g.status === 'new')
    .map((g) => ({
      groupName: g.name,
      path: g.path,
      managedPolicies: g.policies.map((ref) => {
        const p = plan.policies[ref];
        return { policyArn: p?.policyArn ?? ref, policyName: p?.policyName ?? ref };
      }),
      inlinePolicies: [],
    }));
  const customerPolicies = [
    ...snapshot.customerPolicies,
    ...Object.values(plan.policies).flatMap((p) =>
      p.kind === 'new-managed'
        ? [
            {
              policyArn: p.policyArn,
              policyName: p.policyName,
              path: '/policy-migration/',
              defaultDocument: p.document,
            },
          ]
        : [],
    ),
  ];
  return { ...account(users, [...snapshot.groups, ...created]), customerPolicies };
}

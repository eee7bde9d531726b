import type { MessyAccount } from '../../bench/messy-account.js';
import { homeDocument } from '../../bench/messy-account.js';
import type {
  DesignGroup,
  DesignPlan,
  DesignPolicyRef,
  DesignUserChange,
} from '../../remediation/design/design-types.js';
import { USERNAME_VARIABLE } from './design-fixtures.js';

/**
 * A simple but well-formed design for a generated account, for rendering tests at scale (not a good design:
 * the engine's job): one new group per team with the team's core, for the members who hold all of it; the
 * existing team groups reused; one new policy for the per-person home documents, written with
 * ${aws:username}, and a group for everyone who had one.
 */
export function teamCoreDesign(account: MessyAccount): DesignPlan {
  const policies: Record<string, DesignPolicyRef> = {};
  const managed = (arn: string) => {
    policies[arn] = { kind: 'managed', policyArn: arn, policyName: arn.slice(arn.lastIndexOf('/') + 1) };
    return arn;
  };
  const homeKey = 'inline-home0001';
  policies[homeKey] = {
    kind: 'new-managed',
    key: homeKey,
    policyName: homeKey,
    policyArn: `arn:aws:iam::${account.accountId}:policy/policy-migration/${homeKey}`,
    document: homeDocument(USERNAME_VARIABLE),
  };
  const changes = new Map<string, { joins: string[]; detach: string[]; inline: string[] }>();
  const change = (user: string) => {
    const c = changes.get(user) ?? { joins: [], detach: [], inline: [] };
    changes.set(user, c);
    return c;
  };

  const groups: DesignGroup[] = [];
  for (const team of account.teams) {
    const name = `${team.name}-core`;
    const members = account.users
      .filter(
        (u) =>
          u.tags?.team === team.name &&
          team.core.every((arn) => u.managedPolicies.some((p) => p.policyArn === arn)),
      )
      .map((u) => u.userName)
      .sort();
    if (members.length === 0) continue;
    for (const m of members) {
      change(m).joins.push(name);
      change(m).detach.push(...team.core);
    }
    groups.push({
      name,
      path: '/policy-migration/',
      status: 'new',
      nameReason: `policies of the ${team.name} team's core; team tag: ${team.name}`,
      policies: team.core.map(managed),
      members,
    });
  }
  for (const g of account.groups.filter((x) => x.groupName.endsWith('-team'))) {
    groups.push({
      name: g.groupName,
      path: g.path,
      status: 'existing',
      policies: g.managedPolicies.map((p) => managed(p.policyArn)),
      members: [...g.memberNames].sort(),
    });
  }
  const replaces = account.users.flatMap((u) =>
    u.inlinePolicies
      .filter((p) => p.document === homeDocument(u.userName))
      .map((p) => ({ userName: u.userName, policyName: p.policyName })),
  );
  for (const r of replaces) {
    change(r.userName).joins.push('home-directory-access');
    change(r.userName).inline.push(r.policyName);
  }
  groups.push({
    name: 'home-directory-access',
    path: '/policy-migration/',
    status: 'new',
    policies: [homeKey],
    members: replaces.map((r) => r.userName).sort(),
  });

  const users: DesignUserChange[] = [...changes]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([userName, c]) => ({
      userName,
      userId: account.users.find((u) => u.userName === userName)?.userId ?? '',
      joins: [...c.joins].sort(),
      detachManaged: [...new Set(c.detach)].sort(),
      deleteInline: c.inline,
      fingerprint: `test:${userName}`,
    }));
  const memberships = (gs: readonly { members: readonly string[] }[]) =>
    gs.reduce((s, g) => s + g.members.length, 0);
  const direct = account.users.reduce((s, u) => s + u.managedPolicies.length + u.inlinePolicies.length, 0);
  const removed = users.reduce((s, u) => s + u.detachManaged.length + u.deleteInline.length, 0);
  const newGroups = groups.filter((g) => g.status === 'new').length;
  return {
    version: 1,
    accountId: account.accountId,
    createdAt: '2026-12-01T00:00:00.000Z',
    policies,
    groups,
    users,
    rewrites: [{ policy: homeKey, replaces }],
    skipped: [],
    summary: {
      before: {
        groups: account.groups.length,
        memberships: account.groups.reduce((s, g) => s + g.memberNames.length, 0),
        directPolicies: direct,
      },
      after: {
        groups: account.groups.length + newGroups,
        memberships:
          account.groups.reduce((s, g) => s + g.memberNames.length, 0) +
          memberships(groups.filter((g) => g.status === 'new')),
        directPolicies: direct - removed,
      },
      newGroups,
    },
  };
}

import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteGroupCommand,
  DeleteGroupPolicyCommand,
  DeletePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachGroupPolicyCommand,
  DetachUserPolicyCommand,
  GetAccountAuthorizationDetailsCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsCommand,
  ListGroupsForUserCommand,
  ListPoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutGroupPolicyCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
} from '@aws-sdk/client-iam';
import { expect } from 'vitest';

/**
 * The whole emulated account as plain data, read with the per-entity List/Get calls (not with the
 * remediation's own reader, so that the tests check it rather than trust it).
 */
export interface Inventory {
  readonly users: Record<string, { managed: string[]; inline: Record<string, string>; groups: string[] }>;
  readonly groups: Record<string, { path: string; managed: string[]; inline: Record<string, string> }>;
  /** Customer managed policies: ARN to default document. */
  readonly policies: Record<string, string>;
}

const decode = (s: string | undefined) => decodeURIComponent(s ?? '');
/** A document in a comparable form: parsed and re-serialised with sorted keys. */
export function canonical(document: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(JSON.parse(document)));
}

export async function readInventory(iam: IAMClient): Promise<Inventory> {
  const users: Inventory['users'] = {};
  for (const u of (await iam.send(new ListUsersCommand({}))).Users ?? []) {
    const name = u.UserName as string;
    const managed =
      (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))).AttachedPolicies ?? [];
    const inlineNames = (await iam.send(new ListUserPoliciesCommand({ UserName: name }))).PolicyNames ?? [];
    const inline: Record<string, string> = {};
    for (const p of inlineNames) {
      inline[p] = decode(
        (await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: p }))).PolicyDocument,
      );
    }
    const groups = (await iam.send(new ListGroupsForUserCommand({ UserName: name }))).Groups ?? [];
    users[name] = {
      managed: managed.map((p) => p.PolicyArn as string).sort(),
      inline,
      groups: groups.map((g) => g.GroupName as string).sort(),
    };
  }
  const groups: Inventory['groups'] = {};
  for (const g of (await iam.send(new ListGroupsCommand({}))).Groups ?? []) {
    const name = g.GroupName as string;
    const managed =
      (await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: name }))).AttachedPolicies ?? [];
    const inline: Record<string, string> = {};
    for (const p of (await iam.send(new ListGroupPoliciesCommand({ GroupName: name }))).PolicyNames ?? []) {
      inline[p] = decode(
        (await iam.send(new GetGroupPolicyCommand({ GroupName: name, PolicyName: p }))).PolicyDocument,
      );
    }
    groups[name] = { path: g.Path ?? '/', managed: managed.map((p) => p.PolicyArn as string).sort(), inline };
  }
  const policies: Record<string, string> = {};
  for (const p of (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies ?? []) {
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: p.Arn as string, VersionId: p.DefaultVersionId as string }),
    );
    policies[p.Arn as string] = decode(version.PolicyVersion?.Document);
  }
  return { users, groups, policies };
}

/**
 * The same inventory from one GetAccountAuthorizationDetails call (moto answers in one page): cheap enough to
 * take after every single change. The before/after comparisons use readInventory's per-entity calls.
 */
export async function readInventoryQuickly(iam: IAMClient): Promise<Inventory> {
  const page = await iam.send(
    new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Group', 'LocalManagedPolicy'] }),
  );
  if (page.IsTruncated) throw new Error('the test account needs more than one page');
  const inline = (list: { PolicyName?: string; PolicyDocument?: string }[] | undefined) =>
    Object.fromEntries((list ?? []).map((p) => [p.PolicyName as string, decode(p.PolicyDocument)]));
  const users: Inventory['users'] = {};
  for (const u of page.UserDetailList ?? []) {
    users[u.UserName as string] = {
      managed: (u.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn as string).sort(),
      inline: inline(u.UserPolicyList),
      groups: [...(u.GroupList ?? [])].sort(),
    };
  }
  const groups: Inventory['groups'] = {};
  for (const g of page.GroupDetailList ?? []) {
    groups[g.GroupName as string] = {
      path: g.Path ?? '/',
      managed: (g.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn as string).sort(),
      inline: inline(g.GroupPolicyList),
    };
  }
  const policies: Record<string, string> = {};
  for (const p of page.Policies ?? []) {
    policies[p.Arn as string] = decode((p.PolicyVersionList ?? []).find((v) => v.IsDefaultVersion)?.Document);
  }
  return { users, groups, policies };
}

const documentCache = new Map<string, string>();
async function managedDocument(iam: IAMClient, inventory: Inventory, arn: string): Promise<string> {
  const local = inventory.policies[arn];
  if (local !== undefined) return local;
  const cached = documentCache.get(arn);
  if (cached !== undefined) return cached;
  const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
  const version = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.Policy?.DefaultVersionId as string }),
  );
  const document = decode(version.PolicyVersion?.Document);
  documentCache.set(arn, document);
  return document;
}

/**
 * Every user's effective grants: the canonical documents of every policy that reaches it, attached or
 * inline, directly or through any group. Moving a policy (or an inline document turned managed) keeps the
 * set; gaining or losing one changes it.
 */
export async function effectiveGrants(
  iam: IAMClient,
  inventory?: Inventory,
): Promise<Record<string, string[]>> {
  const inv = inventory ?? (await readInventory(iam));
  const out: Record<string, string[]> = {};
  for (const [name, u] of Object.entries(inv.users)) {
    const docs = new Set<string>();
    // IAM fills in ${aws:username} with the requesting user's name (the design writes it only where the
    // value is that user's own, so the filled-in document is the user's grant).
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the IAM policy variable, literally.
    const forUser = (d: string) => d.replaceAll('${aws:username}', name);
    const add = async (arns: string[], inline: Record<string, string>) => {
      for (const arn of arns) docs.add(canonical(forUser(await managedDocument(iam, inv, arn))));
      for (const d of Object.values(inline)) docs.add(canonical(d));
    };
    await add(u.managed, u.inline);
    for (const g of u.groups) {
      const group = inv.groups[g];
      if (group !== undefined) await add(group.managed, group.inline);
    }
    out[name] = [...docs].sort();
  }
  return out;
}

/** Checks, after any change, that `userName` lacks nothing it had and nobody else's grants moved at all. */
export async function expectNoGapNoSpread(
  iam: IAMClient,
  before: Record<string, string[]>,
  userName: string,
  when: string,
): Promise<void> {
  const now = await effectiveGrants(iam, await readInventoryQuickly(iam));
  for (const [name, grants] of Object.entries(before)) {
    if (name === userName) expect(now[name], `${name} ${when}`).toEqual(expect.arrayContaining(grants));
    else expect(now[name], `${name} ${when}`).toEqual(grants);
  }
}

/** Reads AttachedPoliciesPerGroupQuota and GroupsPerUserQuota and checks every group and user keeps them. */
export function expectWithinQuotas(
  inventory: Inventory,
  quotas: { perGroup: number; perUser: number },
): void {
  for (const [name, g] of Object.entries(inventory.groups)) {
    expect(g.managed.length, `policies attached to group ${name}`).toBeLessThanOrEqual(quotas.perGroup);
  }
  for (const [name, u] of Object.entries(inventory.users)) {
    expect(u.groups.length, `groups of user ${name}`).toBeLessThanOrEqual(quotas.perUser);
  }
}

export const policyDocument = (action: string, layout?: number) =>
  JSON.stringify(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] },
    null,
    layout,
  );

/** Declarative account setup for a test. */
export interface Seed {
  readonly policies?: Record<string, string>;
  readonly groups?: Record<string, { managed?: string[]; inline?: Record<string, string>; path?: string }>;
  readonly users?: Record<
    string,
    { managed?: string[]; inline?: Record<string, string>; groups?: string[]; path?: string }
  >;
}

/**
 * Creates what `seed` describes. Policy references are ARNs, or names of the seed's customer managed
 * policies. Returns the ARN of every seeded customer managed policy by name.
 */
export async function seedAccount(
  iam: IAMClient,
  seed: Seed,
  accountId: string,
): Promise<Record<string, string>> {
  const arns: Record<string, string> = {};
  for (const [name, document] of Object.entries(seed.policies ?? {})) {
    const made = await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: document }));
    arns[name] = made.Policy?.Arn as string;
  }
  const arn = (ref: string) =>
    arns[ref] ?? (ref.startsWith('arn:') ? ref : `arn:aws:iam::${accountId}:policy/${ref}`);
  for (const [name, g] of Object.entries(seed.groups ?? {})) {
    await iam.send(new CreateGroupCommand({ GroupName: name, Path: g.path ?? '/' }));
    for (const p of g.managed ?? [])
      await iam.send(new AttachGroupPolicyCommand({ GroupName: name, PolicyArn: arn(p) }));
    for (const [p, d] of Object.entries(g.inline ?? {}))
      await iam.send(new PutGroupPolicyCommand({ GroupName: name, PolicyName: p, PolicyDocument: d }));
  }
  for (const [name, u] of Object.entries(seed.users ?? {})) {
    await iam.send(new CreateUserCommand({ UserName: name, Path: u.path ?? '/' }));
    for (const p of u.managed ?? [])
      await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: arn(p) }));
    for (const [p, d] of Object.entries(u.inline ?? {}))
      await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: p, PolicyDocument: d }));
    for (const g of u.groups ?? [])
      await iam.send(new AddUserToGroupCommand({ GroupName: g, UserName: name }));
  }
  return arns;
}

/**
 * Deletes every user, group and customer managed policy. Faster between tests than the emulator's reset,
 * after which moto reloads every AWS managed policy on the next IAM call (about 0.6 s).
 */
export async function emptyAccount(iam: IAMClient): Promise<void> {
  const inventory = await readInventory(iam);
  for (const [name, u] of Object.entries(inventory.users)) {
    for (const arn of u.managed)
      await iam.send(new DetachUserPolicyCommand({ UserName: name, PolicyArn: arn }));
    for (const p of Object.keys(u.inline))
      await iam.send(new DeleteUserPolicyCommand({ UserName: name, PolicyName: p }));
    for (const g of u.groups)
      await iam.send(new RemoveUserFromGroupCommand({ UserName: name, GroupName: g }));
    await iam.send(new DeleteUserCommand({ UserName: name }));
  }
  for (const [name, g] of Object.entries(inventory.groups)) {
    for (const arn of g.managed)
      await iam.send(new DetachGroupPolicyCommand({ GroupName: name, PolicyArn: arn }));
    for (const p of Object.keys(g.inline))
      await iam.send(new DeleteGroupPolicyCommand({ GroupName: name, PolicyName: p }));
    await iam.send(new DeleteGroupCommand({ GroupName: name }));
  }
  for (const arn of Object.keys(inventory.policies))
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
}

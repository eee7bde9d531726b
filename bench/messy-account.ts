import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  type IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { EMULATOR_ACCOUNT_ID } from '../local/emulator.js';
import { READ_ONLY } from '../local/seed-account.js';
import type { AccountSnapshot } from '../remediation/read-state.js';
import type {
  AttachedPolicy,
  CustomerManagedPolicy,
  GroupState,
  InlinePolicy,
  UserState,
} from '../remediation/state.js';
import { inPool } from './pool.js';
import { type SeededRandom, seededRandom } from './seeded-random.js';

/** What to generate. */
export interface MessyAccountOptions {
  readonly seed: number;
  /** Number of users (IAM allows 5,000 per account). */
  readonly users: number;
  /** @default EMULATOR_ACCOUNT_ID, so that the account loads into moto as it is */
  readonly accountId?: string;
}

/** One team as the generator made it: the truth a design engine should rediscover. */
export interface GeneratedTeam {
  readonly name: string;
  readonly costCenter: string;
  /** The managed policy ARNs every member should carry (some drift away from it). */
  readonly core: readonly string[];
  /** The team's shared inline document (canonical text), which some members carry, some reformatted. */
  readonly sharedDocument: string;
}

/**
 * A generated user: a UserState with its tags (team and cost-center for most users), as read-state reads
 * them, so the design engine sees them.
 */
export type GeneratedUser = UserState;

/**
 * A generated account: an AccountSnapshot (what readAccountSnapshot returns), its users with their tags, and
 * the generator's own truth (the teams), for benchmarks to score against.
 */
export interface MessyAccount extends AccountSnapshot {
  readonly accountId: string;
  readonly users: readonly GeneratedUser[];
  readonly teams: readonly GeneratedTeam[];
}

// AWS managed policies that moto loads (MOTO_IAM_LOAD_MANAGED_POLICIES=true); the loader test proves it.
const AWS = (name: string) => `arn:aws:iam::aws:policy/${name}`;
const AWS_MANAGED = [
  ...READ_ONLY,
  'ReadOnlyAccess',
  'AmazonS3FullAccess',
  'AmazonDynamoDBFullAccess',
  'AmazonSQSFullAccess',
  'AWSLambda_FullAccess',
  'AmazonEC2FullAccess',
  'IAMReadOnlyAccess',
  'AdministratorAccess',
].map(AWS);

/** Team name, cost center, the AWS managed policies of its core, and its own customer policies. */
const TEAMS: readonly (readonly [string, string, readonly string[], readonly string[]])[] = [
  [
    'payments',
    'CC-1010',
    ['AmazonDynamoDBReadOnlyAccess', 'AmazonSQSReadOnlyAccess'],
    ['deploy', 'secrets-read'],
  ],
  [
    'data',
    'CC-1020',
    ['AmazonS3ReadOnlyAccess', 'AmazonKinesisReadOnlyAccess', 'AmazonRDSReadOnlyAccess'],
    ['etl'],
  ],
  [
    'platform',
    'CC-1030',
    ['AmazonEC2ReadOnlyAccess', 'AmazonVPCReadOnlyAccess', 'CloudWatchReadOnlyAccess'],
    ['deploy', 'ssm-session'],
  ],
  ['mobile', 'CC-1040', ['AmazonSNSReadOnlyAccess', 'AWSLambda_ReadOnlyAccess'], ['releases']],
  ['web', 'CC-1050', ['AmazonS3ReadOnlyAccess', 'CloudWatchReadOnlyAccess'], ['cdn-invalidate', 'deploy']],
  [
    'security',
    'CC-1060',
    ['AWSCloudTrail_ReadOnlyAccess', 'IAMReadOnlyAccess', 'ReadOnlyAccess'],
    ['guardduty-triage'],
  ],
  ['support', 'CC-1070', ['CloudWatchReadOnlyAccess', 'AmazonRoute53ReadOnlyAccess'], ['ticket-lookup']],
  ['finance', 'CC-1080', ['AmazonS3ReadOnlyAccess'], ['billing-read', 'cur-reports']],
];
/** Customer policies nobody's job needs in full: the ad-hoc grants of a real account. */
const ADHOC_CUSTOMER = ['temp-debug', 'legacy-ftp', 'hackathon-2025', 'vendor-sandbox', 'cost-explorer'];

const FIRST = [
  'amira',
  'jonas',
  'li',
  'priya',
  'sofia',
  'mei',
  'omar',
  'lena',
  'tariq',
  'ana',
  'kofi',
  'yuki',
  'ines',
  'raj',
  'elif',
  'noah',
  'chen',
  'zara',
  'ivan',
  'maya',
];
const LAST = [
  'haddad',
  'weber',
  'wei',
  'nair',
  'rossi',
  'tanaka',
  'khan',
  'silva',
  'novak',
  'okafor',
  'berg',
  'lopez',
  'kim',
  'mensah',
  'dubois',
  'sato',
  'costa',
  'ali',
  'jensen',
  'patel',
];

/** IAM quotas the generated users stay within (defaults; AWS's values are read from GetAccountSummary). */
const MANAGED_PER_USER = 10;
const GROUPS_PER_USER = 10;
const INLINE_CHARS_PER_USER = 2048;

const doc = (statements: readonly object[]) => ({ Version: '2012-10-17', Statement: statements });
const allow = (Action: string | readonly string[], Resource: string | readonly string[]) => ({
  Effect: 'Allow',
  Action,
  Resource,
});

/** The same document written another way: keys in reverse order and other whitespace. IAM keeps text as sent. */
function reformat(value: unknown, indent: number): string {
  const reorder = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(reorder);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .reverse()
          .map(([k, x]) => [k, reorder(x)]),
      );
    }
    return v;
  };
  return JSON.stringify(reorder(value), null, indent);
}

/** The per-person document: identical for everyone but for the user's own name in the ARN path. */
export function homeDocument(userName: string): string {
  return JSON.stringify(
    doc([
      allow(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], `arn:aws:s3:::home/${userName}/*`),
      {
        ...allow('s3:ListBucket', 'arn:aws:s3:::home'),
        Condition: { StringLike: { 's3:prefix': `${userName}/*` } },
      },
    ]),
  );
}

function teamDocument(team: string): object {
  return doc([
    allow(['sqs:SendMessage', 'sqs:ReceiveMessage'], `arn:aws:sqs:eu-west-1:*:${team}-*`),
    allow('ssm:GetParameter', `arn:aws:ssm:eu-west-1:*:parameter/${team}/*`),
  ]);
}

/**
 * Generates a messy IAM account, the same for the same options: teams whose members carry the team's core
 * managed policies directly, about half with 1-3 ad-hoc extras, some drift (a member missing one core policy,
 * or with one of another team's), inline documents (the team's shared one, the same reformatted, and per-person
 * home-prefix ones differing only by the user's name), about 11 existing groups (some equal to a team's core,
 * some partial, some unrelated such as project-apollo and beta-testers), some users already in groups, and
 * team / cost-center tags. Every user stays within IAM's default quotas (10 managed policies, 10 groups,
 * 2,048 characters of inline policy), which moto does not enforce.
 */
export function generateMessyAccount(options: MessyAccountOptions): MessyAccount {
  const random = seededRandom(options.seed);
  const accountId = options.accountId ?? EMULATOR_ACCOUNT_ID;
  const customerArn = (name: string) => `arn:aws:iam::${accountId}:policy/${name}`;

  const customerPolicies: CustomerManagedPolicy[] = [];
  const addCustomer = (name: string, document: object) => {
    customerPolicies.push({
      policyName: name,
      policyArn: customerArn(name),
      path: '/',
      defaultDocument: JSON.stringify(document),
    });
    return customerArn(name);
  };
  const teams: GeneratedTeam[] = TEAMS.map(([name, costCenter, aws, own]) => ({
    name,
    costCenter,
    core: [
      ...aws.map(AWS),
      ...own.map((p) =>
        addCustomer(`${name}-${p}`, doc([allow(`${p.split('-')[0]}:*`, `arn:aws:*:*:*:${name}-*`)])),
      ),
    ].sort(),
    sharedDocument: JSON.stringify(teamDocument(name)),
  }));
  const adhocPool = [
    ...AWS_MANAGED.filter((a) => a !== AWS('AdministratorAccess')),
    ...ADHOC_CUSTOMER.map((p) => addCustomer(p, doc([allow(`${p.split('-')[0]}:Get*`, '*')]))),
  ];

  const groups = existingGroups(teams, random);
  const users: GeneratedUser[] = [];
  const taken = new Set<string>();
  for (let i = 0; i < options.users; i++) {
    const team = random.chance(0.9) ? random.pick(teams) : random.pick(teams.slice(0, 3));
    const userName = uniqueName(random, taken);
    const path = random.chance(0.08) ? '/contractors/' : '/';

    // Some users already sit in groups: a team-core group spares them those direct policies.
    const memberOf = new Set<GroupDraft>();
    const coreGroup = groups.find((g) => g.team === team.name && g.kind === 'core');
    if (coreGroup !== undefined && random.chance(0.25)) memberOf.add(coreGroup);
    for (const g of groups) if (g.kind !== 'core' && random.chance(g.joinRate)) memberOf.add(g);

    const managed = new Set(memberOf.has(coreGroup as GroupDraft) ? [] : team.core);
    if (managed.size > 0 && random.chance(0.12)) managed.delete(random.pick([...managed]));
    if (random.chance(0.08)) {
      const other = random.pick(teams.filter((t) => t !== team));
      managed.add(random.pick(other.core));
    }
    if (random.chance(0.5)) {
      for (const extra of random.sample(adhocPool, random.int(1, 3))) managed.add(extra);
    }
    if (random.chance(0.01)) managed.add(AWS('AdministratorAccess'));

    const inline: InlinePolicy[] = [];
    if (random.chance(0.4)) {
      // The team's shared document, under whatever name its owner chose; a third of the copies reformatted.
      const document = random.chance(0.33)
        ? reformat(JSON.parse(team.sharedDocument), random.pick([0, 1, 4]))
        : team.sharedDocument;
      inline.push({ policyName: random.pick([`${team.name}-access`, 'team-access', 'queues']), document });
    }
    if (random.chance(0.35))
      inline.push({ policyName: random.pick(['home', 'home-bucket']), document: homeDocument(userName) });
    if (random.chance(0.05)) {
      inline.push({
        policyName: 'one-off',
        document: JSON.stringify(
          doc([allow('s3:GetObject', `arn:aws:s3:::tmp-${random.int(1000, 9999)}/*`)]),
        ),
      });
    }

    const managedPolicies = [...managed]
      .sort()
      .slice(0, MANAGED_PER_USER)
      .map((policyArn) => attached(policyArn));
    const inlinePolicies = withinInlineQuota(inline);
    const groupNames = [...memberOf]
      .slice(0, GROUPS_PER_USER)
      .map((g) => g.state.groupName)
      .sort();
    for (const g of memberOf) if (groupNames.includes(g.state.groupName)) g.members.push(userName);
    // Most users carry both tags; some only the team, some none, a few a stale cost center.
    const tags: Record<string, string> = {};
    if (random.chance(0.92)) tags.team = team.name;
    if (random.chance(0.85)) tags['cost-center'] = random.chance(0.04) ? 'CC-0000' : team.costCenter;
    users.push({
      userName,
      userId: `AIDA${Array.from({ length: 16 }, () => random.pick([...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'])).join('')}`,
      arn: `arn:aws:iam::${accountId}:user${path}${userName}`,
      path,
      groupNames,
      managedPolicies,
      inlinePolicies,
      tags,
    });
  }

  return {
    accountId,
    users,
    groups: groups.map((g) => ({ ...g.state, memberNames: [...g.members].sort() })),
    customerPolicies,
    teams,
  };
}

interface GroupDraft {
  readonly state: GroupState;
  readonly team?: string;
  readonly kind: 'core' | 'partial' | 'unrelated';
  /** For groups not tied to a team: the chance that any one user is a member. */
  readonly joinRate: number;
  readonly members: string[];
}

/** Eleven groups: four equal to a team's core, two with part of one, five unrelated to any team. */
function existingGroups(teams: readonly GeneratedTeam[], random: SeededRandom): GroupDraft[] {
  const group = (
    groupName: string,
    kind: GroupDraft['kind'],
    policies: readonly string[],
    joinRate: number,
    team?: string,
  ): GroupDraft => ({
    state: {
      groupName,
      path: '/',
      memberNames: [],
      managedPolicies: policies.map(attached),
      inlinePolicies: [],
    },
    kind,
    joinRate,
    members: [],
    ...(team !== undefined ? { team } : {}),
  });
  const cores = random.sample(teams, 4).map((t) => group(`${t.name}-team`, 'core', t.core, 0, t.name));
  const partial = random
    .sample(teams, 2)
    .map((t) => group(`${t.name}-readers`, 'partial', t.core.slice(0, Math.max(1, t.core.length - 1)), 0.03));
  return [
    ...cores,
    ...partial,
    group('project-apollo', 'unrelated', [AWS('AmazonS3FullAccess'), AWS('AmazonDynamoDBFullAccess')], 0.04),
    group('beta-testers', 'unrelated', [AWS('AWSLambda_ReadOnlyAccess')], 0.06),
    group('all-staff', 'unrelated', [], 0.15),
    group('oncall', 'unrelated', [AWS('CloudWatchReadOnlyAccess'), AWS('AmazonEC2ReadOnlyAccess')], 0.05),
    group('legacy-admins', 'unrelated', [AWS('AdministratorAccess')], 0.005),
  ];
}

function attached(policyArn: string): AttachedPolicy {
  return { policyArn, policyName: policyArn.slice(policyArn.lastIndexOf('/') + 1) };
}

/** IAM counts every character of a user's inline documents and names against one 2,048 limit; whitespace too. */
function withinInlineQuota(inline: readonly InlinePolicy[]): InlinePolicy[] {
  const kept: InlinePolicy[] = [];
  let used = 0;
  const names = new Set<string>();
  for (const p of inline) {
    if (names.has(p.policyName)) continue;
    const size = p.policyName.length + p.document.length;
    if (used + size > INLINE_CHARS_PER_USER) continue;
    kept.push(p);
    names.add(p.policyName);
    used += size;
  }
  return kept;
}

function uniqueName(random: SeededRandom, taken: Set<string>): string {
  const base = `${random.pick(FIRST)}.${random.pick(LAST)}`;
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
  taken.add(name);
  return name;
}

/**
 * Loads a generated account into the emulator through the IAM API, `concurrency` calls in flight (moto
 * serves requests on threads, and answers an occasional 500 under load, which the SDK retries): customer
 * policies first, then groups with their policies, then users with their tags, policies and memberships.
 * Expects an account without these names (a fresh or reset emulator). Returns the user IDs moto gave.
 */
export async function loadMessyAccount(
  iam: IAMClient,
  account: MessyAccount,
  concurrency = 8,
): Promise<Map<string, string>> {
  await inPool(account.customerPolicies.length, concurrency, async (i) => {
    const p = account.customerPolicies[i] as CustomerManagedPolicy;
    await iam.send(
      new CreatePolicyCommand({ PolicyName: p.policyName, Path: p.path, PolicyDocument: p.defaultDocument }),
    );
  });
  await inPool(account.groups.length, concurrency, async (i) => {
    const g = account.groups[i] as GroupState;
    await iam.send(new CreateGroupCommand({ GroupName: g.groupName, Path: g.path }));
    for (const p of g.managedPolicies) {
      await iam.send(new AttachGroupPolicyCommand({ GroupName: g.groupName, PolicyArn: p.policyArn }));
    }
  });
  const ids = new Map<string, string>();
  await inPool(account.users.length, concurrency, async (i) => {
    const u = account.users[i] as GeneratedUser;
    const tags = Object.entries(u.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const created = await iam.send(
      new CreateUserCommand({
        UserName: u.userName,
        Path: u.path,
        ...(tags.length > 0 ? { Tags: tags } : {}),
      }),
    );
    ids.set(u.userName, created.User?.UserId ?? '');
    for (const p of u.managedPolicies) {
      await iam.send(new AttachUserPolicyCommand({ UserName: u.userName, PolicyArn: p.policyArn }));
    }
    for (const p of u.inlinePolicies) {
      await iam.send(
        new PutUserPolicyCommand({
          UserName: u.userName,
          PolicyName: p.policyName,
          PolicyDocument: p.document,
        }),
      );
    }
    for (const g of u.groupNames)
      await iam.send(new AddUserToGroupCommand({ UserName: u.userName, GroupName: g }));
  });
  return ids;
}

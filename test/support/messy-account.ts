import { seededRandom } from '../../remediation/design/role-cover.js';
import type { Seed } from './remediation-account.js';

/**
 * A seeded, messy account for the concurrency tests: teams with a core set of managed policies, members
 * who drift from it, ad-hoc extras, inline documents that are shared (some reformatted) or per person,
 * existing groups that have nothing to do with the migration (project-apollo, beta-testers) or that do
 * (developers, on "/", not listed as joinable), and two exempt users (a break-glass admin by name, an SES
 * SMTP user by default). Deterministic for a seed.
 */
export interface MessyAccount {
  readonly seed: Seed;
  /** Users the migration should move (non-exempt, with direct policies). */
  readonly migratable: readonly string[];
  /** Users the rule parameters below exempt. */
  readonly exempt: readonly string[];
  /** The rule parameters the runs use (exempting the break-glass user by name). */
  readonly ruleParameters: Readonly<Record<string, string>>;
  /** Groups outside /policy-migration/ that exist before any migration, with their members. */
  readonly foreignGroups: Readonly<Record<string, readonly string[]>>;
}

export { seededRandom };

const doc = (actions: string[], resource = '*', layout?: number) =>
  JSON.stringify(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] },
    null,
    layout,
  );

export function messyAccount(users: number, seed = 1): MessyAccount {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const policies: Record<string, string> = {};
  for (let i = 0; i < 14; i++) policies[`team-policy-${i}`] = doc([`svc${i}:Get*`, `svc${i}:List*`]);
  const teams = [
    ['team-policy-0', 'team-policy-1', 'team-policy-2'],
    ['team-policy-3', 'team-policy-4'],
    ['team-policy-5', 'team-policy-6', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
    ['team-policy-7', 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'],
  ];
  const extras = ['team-policy-8', 'team-policy-9', 'team-policy-10', 'team-policy-11', 'team-policy-12'];
  const shared = [doc(['sqs:SendMessage']), doc(['sns:Publish']), doc(['kms:Decrypt'])];

  const seedUsers: NonNullable<Seed['users']> = {};
  const members: Record<string, string[]> = { 'project-apollo': [], 'beta-testers': [], developers: [] };
  const migratable: string[] = [];
  for (let i = 0; i < users; i++) {
    const name = `user-${String(i).padStart(4, '0')}`;
    const team = teams[i % teams.length] as string[];
    let managed = [...team];
    if (random() < 0.1) managed.splice(Math.floor(random() * managed.length), 1); // drift: one core policy missing
    if (random() < 0.5) managed.push(pick(extras));
    if (random() < 0.2) managed.push(pick(extras));
    managed = [...new Set(managed)];
    const inline: Record<string, string> = {};
    if (random() < 0.3)
      inline.shared = random() < 0.5 ? pick(shared) : JSON.stringify(JSON.parse(pick(shared)), null, 4);
    if (random() < 0.2) inline.home = doc(['s3:GetObject', 's3:PutObject'], `arn:aws:s3:::home/${name}/*`);
    const groups: string[] = [];
    if (random() < 0.08) groups.push('project-apollo');
    if (random() < 0.05) groups.push('beta-testers');
    if (i % teams.length === 0 && random() < 0.2) groups.push('developers');
    for (const g of groups) members[g]?.push(name);
    seedUsers[name] = { managed, inline, groups };
    migratable.push(name);
  }
  seedUsers['breakglass-admin'] = { managed: ['arn:aws:iam::aws:policy/AdministratorAccess'] };
  seedUsers['ses-smtp-user.20260101-120000'] = { inline: { ses: doc(['ses:SendRawEmail']) } };
  return {
    seed: {
      policies,
      groups: {
        'project-apollo': { managed: ['team-policy-8'] },
        'beta-testers': { managed: ['team-policy-9'] },
        developers: { managed: teams[0] as string[] },
      },
      users: seedUsers,
    },
    migratable,
    exempt: ['breakglass-admin', 'ses-smtp-user.20260101-120000'],
    ruleParameters: { exemptUserNames: 'breakglass-admin' },
    foreignGroups: members,
  };
}

import { createHash } from 'node:crypto';

/**
 * Readable, stable names for the groups a design creates. Pure.
 *
 * A name says what the group is for: the team (or cost center) every member is tagged with, and what it
 * grants (its policy names, shortened: `AmazonS3ReadOnlyAccess` + `AmazonDynamoDBFullAccess` becomes
 * `dynamo-db-full+s3-read`). It depends only on the group's own content and on which names are taken, never
 * on the order groups were found in, so re-planning an unchanged account gives the same names. Where two
 * groups (or a group and an existing one) would share a name, each gets a short hash of its grants.
 *
 * The operator may rename any new group in the plan file before applying: `apply` takes the names from the
 * file, so these are suggestions, not identities.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names
 */

/** What a name is derived from. */
export interface GroupToName {
  /** The grants the group carries (any order): its identity, hashed where names collide. */
  readonly grantKeys: readonly string[];
  /** Readable names of what it grants: managed policy names, or the inline policy names moved into it. */
  readonly policyNames: readonly string[];
  /** Each member's tags (key to value). */
  readonly memberTags: readonly Readonly<Record<string, string>>[];
}

export interface GroupNameChoice {
  readonly name: string;
  /** Why this name, for the plan file: "team tag payments; policies a, b". */
  readonly reason: string;
}

/** IAM's limit on a group name. */
export const GROUP_NAME_MAX_LENGTH = 128;
/** Room kept for what a name says about the policies, so that names stay readable in a console column. */
const POLICY_PART_MAX_LENGTH = 60;
const TEAM_PART_MAX_LENGTH = 40;
const SHORT_HASH = 6;
const LONG_HASH = 24;

/** Tag keys that say whom a user works for, in the order they are preferred (compared without case or separators). */
const TEAM_TAG_KEYS = ['team', 'costcenter'] as const;

function hashOf(grantKeys: readonly string[], digits: number): string {
  return createHash('sha256')
    .update([...new Set(grantKeys)].sort().join('\n'))
    .digest('hex')
    .slice(0, digits);
}

/** Anything IAM does not allow in a group name becomes "-"; runs of "-" are folded. */
export function sanitiseGroupName(text: string): string {
  return text
    .replace(/[^\w+=,.@-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A short form of one policy name: AWS prefixes and the "Access" suffix dropped, words split at case
 * changes, lower case, "read-only" as "read".
 */
export function policySlug(policyName: string): string {
  const core = policyName.replace(/^(Amazon|AWS)(?=[A-Z0-9_])_?/, '').replace(/_?Access$/, '') || policyName;
  return sanitiseGroupName(
    core
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
      .replace(/_/g, '-')
      .toLowerCase()
      .replace(/read-only/g, 'read'),
  );
}

/** Slugs joined with "+", a prefix they share (up to a "-") written once: s3-read, s3-write -> s3-read+write. */
export function policyPart(policyNames: readonly string[]): string {
  const slugs = [...new Set(policyNames.map(policySlug).filter((s) => s !== ''))].sort();
  if (slugs.length === 0) return 'group';
  let prefix = '';
  if (slugs.length > 1) {
    const first = slugs[0] as string;
    const last = slugs[slugs.length - 1] as string;
    let i = 0;
    while (i < first.length && first[i] === last[i]) i++;
    prefix = first.slice(0, first.lastIndexOf('-', i - 1) + 1);
    // A prefix that is a whole slug would leave an empty part.
    if (slugs.some((s) => s.length <= prefix.length)) prefix = '';
  }
  const parts = slugs.map((s) => s.slice(prefix.length));
  let text = '';
  for (let n = 0; n < parts.length; n++) {
    const more = parts.length - n - 1;
    const candidate = `${prefix}${parts.slice(0, n + 1).join('+')}`;
    const suffix = more > 0 ? `+${more}-more` : '';
    if (n > 0 && candidate.length + suffix.length > POLICY_PART_MAX_LENGTH) {
      text = `${text}+${parts.length - n}-more`;
      break;
    }
    text = candidate;
  }
  return text.slice(0, POLICY_PART_MAX_LENGTH);
}

/** The tag value every member shares for the first team-like key, with the key it came from. */
function sharedTeam(
  memberTags: readonly Readonly<Record<string, string>>[],
): { key: string; value: string } | undefined {
  if (memberTags.length === 0) return undefined;
  for (const wanted of TEAM_TAG_KEYS) {
    const teamTagOf = (tags: Readonly<Record<string, string>>) => {
      const keys = Object.keys(tags)
        .filter((k) => k.toLowerCase().replace(/[-_ ]/g, '') === wanted)
        .sort();
      const key = keys[0];
      return key !== undefined ? { key, value: (tags[key] ?? '').trim() } : undefined;
    };
    const first = teamTagOf(memberTags[0] as Readonly<Record<string, string>>);
    if (first === undefined || first.value === '') continue;
    if (memberTags.every((t) => teamTagOf(t)?.value === first.value)) return first;
  }
  return undefined;
}

/**
 * Names every group, unique without regard to case among themselves and `takenNames` (every other group
 * of the account), at most 128 characters of [\w+=,.@-]. Results are in the order of `groups`.
 */
export function nameGroups(groups: readonly GroupToName[], takenNames: readonly string[]): GroupNameChoice[] {
  const bases = groups.map((g) => {
    const team = sharedTeam(g.memberTags);
    const policies = policyPart(g.policyNames);
    const teamPart = team !== undefined ? sanitiseGroupName(team.value).slice(0, TEAM_PART_MAX_LENGTH) : '';
    const base = teamPart !== '' ? `${teamPart}_${policies}` : policies;
    const shown = [...new Set(g.policyNames)].sort().join(', ');
    const reason = `${team !== undefined && teamPart !== '' ? `tag ${team.key}=${team.value} shared by every member; ` : ''}policies ${shown}`;
    return { base: base.slice(0, GROUP_NAME_MAX_LENGTH - SHORT_HASH - 1), reason };
  });
  const taken = new Set(takenNames.map((n) => n.toLowerCase()));
  const baseCount = new Map<string, number>();
  for (const b of bases) baseCount.set(b.base.toLowerCase(), (baseCount.get(b.base.toLowerCase()) ?? 0) + 1);

  // Every group whose base is shared or taken gets a hash of its own grants: symmetric, so no group's name
  // depends on which of the colliding groups came first.
  const names = bases.map((b, i) => {
    const key = b.base.toLowerCase();
    if ((baseCount.get(key) ?? 0) === 1 && !taken.has(key)) return b.base;
    return `${b.base}-${hashOf((groups[i] as GroupToName).grantKeys, SHORT_HASH)}`;
  });
  const count = new Map<string, number>();
  for (const n of names) count.set(n.toLowerCase(), (count.get(n.toLowerCase()) ?? 0) + 1);
  return names.map((n, i) => {
    const b = bases[i] as { base: string; reason: string };
    const clash = (count.get(n.toLowerCase()) ?? 0) > 1 || taken.has(n.toLowerCase());
    // Six hex digits collide about once in 16 million pairs; the long form settles it (and a taken long
    // form would mean an identical design exists under that name, which the caller reuses instead).
    const name = clash
      ? `${b.base.slice(0, GROUP_NAME_MAX_LENGTH - LONG_HASH - 1)}-${hashOf((groups[i] as GroupToName).grantKeys, LONG_HASH)}`
      : n;
    return { name, reason: b.reason };
  });
}

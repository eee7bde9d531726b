/**
 * The Basic Role Mining Problem with IAM's quotas (Vaidya, Atluri and Guo, SACMAT 2007): the fewest roles
 * (groups) whose union gives every user exactly its permissions (grants), then the fewest memberships.
 * Pure: plain data in, plain data out, deterministic for a given input.
 *
 * This file fixes the engine's contract; the engine itself is in progress (see issue 11).
 */

/** One user's exact permission set (duplicates are ignored; order does not matter). */
export interface MiningUser {
  readonly id: string;
  readonly permissions: readonly string[];
}

/** A role that exists already and may be reused as it is (never changed). */
export interface ReusableRole {
  readonly id: string;
  readonly permissions: readonly string[];
}

export interface MiningOptions {
  /** Most permissions one role may carry (IAM: AttachedPoliciesPerGroupQuota). Default: unlimited. */
  readonly maxPermissionsPerRole?: number;
  /** Most roles one user may be in (IAM: GroupsPerUserQuota). Default: unlimited. */
  readonly maxRolesPerUser?: number;
  /** Existing roles that may be reused: a member must hold every permission of the role. */
  readonly reusable?: readonly ReusableRole[];
  /** Stop improving after this many milliseconds (the result is still exact, maybe not minimal). */
  readonly timeBudgetMs?: number;
}

export interface MinedRole {
  /** Sorted, distinct. */
  readonly permissions: readonly string[];
  /** User ids, sorted. */
  readonly members: readonly string[];
  /** Set when this role is a reused existing role. */
  readonly reusedId?: string;
}

export interface MiningResult {
  /** Sorted deterministically (by permissions). */
  readonly roles: readonly MinedRole[];
  /** Users the quotas make impossible to cover exactly, with why; they are in no role. */
  readonly uncovered: readonly { readonly id: string; readonly reason: string }[];
  /** A lower bound on the number of new roles any exact design needs, when the engine proves one. */
  readonly lowerBound?: number;
}

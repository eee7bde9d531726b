/**
 * The account-wide group design as plain JSON: what `plan` writes, what `apply` reads, what the renderers
 * (table, json, html, terraform, cloudformation) show. Policy documents appear only for new managed
 * policies the design creates (the operator must be able to review them); never in logs.
 */

/** A grant as the design refers to it: a managed policy by ARN, or a moved inline document by stable key. */
export type DesignPolicyRef =
  | { readonly kind: 'managed'; readonly policyArn: string; readonly policyName: string }
  | {
      /** A customer managed policy the design creates from inline user policies (one per distinct document). */
      readonly kind: 'new-managed';
      /** Stable key: the name the policy gets (content-derived), e.g. inline-<hash>. */
      readonly key: string;
      readonly policyName: string;
      /** The ARN it will have once created. */
      readonly policyArn: string;
      /** The document it is created with (decoded JSON text), possibly written with ${aws:username}. */
      readonly document: string;
      /**
       * The inline user policies it carries the grant of (each removed from its user by the plan), sorted.
       * Named inline-<hash of the document> as the per-user remediation names them, so either finds the other's.
       */
      readonly replaces?: readonly { readonly userName: string; readonly policyName: string }[];
    };

/** One group of the design: new (created under the migration path) or existing and reused. */
export interface DesignGroup {
  /** The group name; the operator may rename a new group in the plan file before applying. */
  readonly name: string;
  readonly path: string;
  readonly status: 'new' | 'existing';
  /** Why the name: e.g. "policies DeveloperAccess, S3ReadOnly; team tag: payments". */
  readonly nameReason?: string;
  /** Keys into DesignPlan.policies. */
  readonly policies: readonly string[];
  /** User names, sorted. */
  readonly members: readonly string[];
}

/** What happens to one user. */
export interface DesignUserChange {
  readonly userName: string;
  readonly userId: string;
  /**
   * Groups the user joins (names of DesignGroup), for people reading the plan: `apply` takes memberships
   * from each group's `members`, so renaming a group needs only its `name` changed.
   */
  readonly joins: readonly string[];
  /** Direct managed policy ARNs removed from the user. */
  readonly detachManaged: readonly string[];
  /** Inline policy names removed from the user. */
  readonly deleteInline: readonly string[];
  /**
   * A fingerprint of the user's state when the plan was made (direct policies, inline documents, groups):
   * `apply` skips a user whose fingerprint changed since.
   */
  readonly fingerprint: string;
}

/** Inline documents that were identical up to the user's own name, made one policy with ${aws:username}. */
export interface UsernameRewrite {
  /** Key into DesignPlan.policies of the new policy. */
  readonly policy: string;
  /** The users and inline policy names it replaces. */
  readonly replaces: readonly { readonly userName: string; readonly policyName: string }[];
}

export interface DesignPlan {
  readonly version: 1;
  readonly accountId: string;
  readonly createdAt: string;
  /** Every policy the design's groups attach, by key. */
  readonly policies: Readonly<Record<string, DesignPolicyRef>>;
  readonly groups: readonly DesignGroup[];
  readonly users: readonly DesignUserChange[];
  readonly rewrites: readonly UsernameRewrite[];
  /** Users left out, with why (exempt, over quota, not selected but affected...). */
  readonly skipped: readonly { readonly userName: string; readonly reason: string }[];
  /** The quotas the design was made within, and where they came from. */
  readonly quotas?: {
    /** account: GetAccountSummary; iam-defaults: an offline design; unlimited: --quotas unlimited. */
    readonly source: 'account' | 'iam-defaults' | 'unlimited';
    readonly attachedPoliciesPerGroup: number;
    readonly groupsPerUser: number;
    readonly policySize: number;
  };
  /** What the operator must know before applying: account quotas the design would exceed. */
  readonly warnings?: readonly string[];
  /** Before/after counts for the summary. */
  readonly summary: {
    readonly before: {
      readonly groups: number;
      readonly memberships: number;
      readonly directPolicies: number;
    };
    readonly after: {
      readonly groups: number;
      readonly memberships: number;
      readonly directPolicies: number;
    };
    readonly newGroups: number;
    readonly lowerBound?: number;
  };
}

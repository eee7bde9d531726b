import { instantiateUsername } from './design/username-variable.js';
import { canonicalDocument } from './policy-document.js';

export { canonicalDocument, policySizeForQuota } from './policy-document.js';

import { MIGRATION_POLICY_PATH } from './naming.js';
import type { AttachedPolicy, CustomerManagedPolicy, GroupState } from './state.js';

/**
 * A grant's identity, used to decide "the user already receives this": a managed policy is the same grant
 * only by its ARN; an inline document is identified by its content, and so is a policy the migration itself
 * created from an inline document (under MIGRATION_POLICY_PATH), because that is the document moved.
 */
export type GrantKey = string;

export function inlineGrantKey(document: string): GrantKey {
  return `doc:${canonicalDocument(document)}`;
}

/**
 * Maps managed policy ARNs to grant keys, knowing which policies the migration created. Given the user the
 * keys are for, a migration policy written with ${aws:username} (an account-wide design's generalised home
 * folder policy) is keyed by what it grants that user: the variable filled in with the user's name, which is
 * exactly the user's own inline document it replaced. Only migration-made policies are read that way: the
 * migration writes the variable only where that substitution is provably the same grant.
 */
export function managedGrantKeyResolver(
  customerPolicies: readonly CustomerManagedPolicy[],
  forUser?: string,
): (policyArn: string) => GrantKey {
  const migrated = new Map<string, string>();
  for (const p of customerPolicies) {
    if (p.path === MIGRATION_POLICY_PATH && p.defaultDocument !== undefined) {
      migrated.set(
        p.policyArn,
        forUser !== undefined ? instantiateUsername(p.defaultDocument, forUser) : p.defaultDocument,
      );
    }
  }
  // Canonicalising a document is the costly part, and planners ask for the same policies many times.
  const keys = new Map<string, GrantKey>();
  return (policyArn) => {
    let key = keys.get(policyArn);
    if (key === undefined) {
      const document = migrated.get(policyArn);
      key = document !== undefined ? inlineGrantKey(document) : `arn:${policyArn}`;
      keys.set(policyArn, key);
    }
    return key;
  };
}

/** Every grant a group gives its members. */
export function groupGrantKeys(group: GroupState, keyOf: (arn: string) => GrantKey): Set<GrantKey> {
  return new Set([
    ...group.managedPolicies.map((p: AttachedPolicy) => keyOf(p.policyArn)),
    ...group.inlinePolicies.map((p) => inlineGrantKey(p.document)),
  ]);
}

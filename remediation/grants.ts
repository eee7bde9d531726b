import { MIGRATION_POLICY_PATH } from './naming.js';
import type { AttachedPolicy, CustomerManagedPolicy, GroupState } from './state.js';

/**
 * A grant's identity, used to decide "the user already receives this": a managed policy is the same grant
 * only by its ARN; an inline document is identified by its content, and so is a policy the migration itself
 * created from an inline document (under MIGRATION_POLICY_PATH), because that is the document moved.
 */
export type GrantKey = string;

/**
 * A policy document in a canonical form (keys sorted, no whitespace outside strings): two inline policies
 * that differ only in layout or key order grant the same, so they share one managed policy. A document
 * that is not JSON (IAM would not store one) keeps its text.
 */
export function canonicalDocument(document: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(document)));
  } catch {
    return document;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * The size IAM counts against PolicySizeQuota: the document without whitespace outside strings (IAM does
 * not count white space).
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
 */
export function policySizeForQuota(document: string): number {
  try {
    return JSON.stringify(JSON.parse(document)).length;
  } catch {
    return document.replace(/\s/g, '').length;
  }
}

export function inlineGrantKey(document: string): GrantKey {
  return `doc:${canonicalDocument(document)}`;
}

/** Maps managed policy ARNs to grant keys, knowing which policies the migration created. */
export function managedGrantKeyResolver(
  customerPolicies: readonly CustomerManagedPolicy[],
): (policyArn: string) => GrantKey {
  const migrated = new Map<string, string>();
  for (const p of customerPolicies) {
    if (p.path === MIGRATION_POLICY_PATH && p.defaultDocument !== undefined) {
      migrated.set(p.policyArn, p.defaultDocument);
    }
  }
  return (policyArn) => {
    const document = migrated.get(policyArn);
    return document !== undefined ? inlineGrantKey(document) : `arn:${policyArn}`;
  };
}

/** Every grant a group gives its members. */
export function groupGrantKeys(group: GroupState, keyOf: (arn: string) => GrantKey): Set<GrantKey> {
  return new Set([
    ...group.managedPolicies.map((p: AttachedPolicy) => keyOf(p.policyArn)),
    ...group.inlinePolicies.map((p) => inlineGrantKey(p.document)),
  ]);
}

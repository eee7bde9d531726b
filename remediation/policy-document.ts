/** Policy documents compared and measured as IAM does; no other dependencies, so everything may import it. */

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

import { canonicalDocument, policySizeForQuota } from '../policy-document.js';

/**
 * `${aws:username}` generalisation: inline user policies that are the same document up to the user's own
 * name become one customer managed policy written with the variable. Pure.
 *
 * A rewrite is made only where it is provably the same grant for every user it replaces:
 * - the document says Version "2012-10-17" (IAM substitutes no variable in 2008-10-17 or without Version);
 * - the name is replaced only in Resource, NotResource and Condition values, the places IAM substitutes
 *   variables, and only as a whole string value or a whole ARN path segment (after `/` or `:`, before `/`,
 *   `*` or the end): `alice` in `home/alice/*`, never in `alice-data`;
 * - the name is left nowhere else as a whole token (Sid, Action, Effect, keys, Principal, a segment it was
 *   not replaced in): a document with `"Sid": "alice"` is not generalised;
 * - putting each user's name back into the template gives that user's document exactly (canonical form),
 *   which is checked, not assumed;
 * - at least two users share the template.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */

/** The only policy language version in which IAM substitutes policy variables. */
export const VARIABLE_POLICY_VERSION = '2012-10-17';
/** The variable as this project writes it. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: IAM's variable syntax, not a JavaScript template.
export const USERNAME_VARIABLE = '${aws:username}';
/** Variable names are not case-sensitive in IAM: `${aws:UserName}` is the same variable. */
const HAS_USERNAME_VARIABLE = /\$\{aws:username\}/i;
const EVERY_USERNAME_VARIABLE = /\$\{aws:username\}/gi;

/** One inline user policy, as the generalisation sees it. */
export interface InlineUserPolicy {
  readonly userName: string;
  readonly policyName: string;
  readonly document: string;
}

/** A template that replaces the inline policies of two or more users. */
export interface UsernameGeneralisation {
  /** The template in canonical form (keys sorted, no whitespace): identical templates are one policy. */
  readonly canonical: string;
  /** The template for people: the first replaced user's layout, indented, with the variable. */
  readonly document: string;
  /** The users and inline policy names it replaces, sorted by user then policy name. */
  readonly replaces: readonly { readonly userName: string; readonly policyName: string }[];
}

export interface GeneraliseOptions {
  /** Templates longer than this (IAM's PolicySizeQuota, whitespace not counted) are not made. */
  readonly maxPolicySize?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Characters IAM allows in a user name; anything else bounds a token. */
const NAME_CHAR = /[\w+=,.@-]/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces the name in one string value where IAM would substitute the variable: the whole value, or whole
 * ARN path segments (preceded by `/` or `:`, followed by `/`, `*` or the end). Case-sensitive, because the
 * variable resolves to the name exactly as IAM stores it and ARNs compare case-sensitively.
 */
function replaceInValue(value: string, userName: string): string {
  if (value === userName) return USERNAME_VARIABLE;
  const segment = new RegExp(`(?<=[/:])${escapeRegExp(userName)}(?=[/*]|$)`, 'g');
  return value.replace(segment, USERNAME_VARIABLE);
}

/** Whether the name is still somewhere in the text as a whole token (any case). */
function containsNameToken(text: string, userName: string): boolean {
  const lower = text.toLowerCase();
  const name = userName.toLowerCase();
  for (let at = lower.indexOf(name); at >= 0; at = lower.indexOf(name, at + 1)) {
    const before = at === 0 ? '' : (lower[at - 1] as string);
    const after = lower[at + name.length] ?? '';
    if (!NAME_CHAR.test(before) && !NAME_CHAR.test(after)) return true;
  }
  return false;
}

function mapStrings(value: Json, f: (s: string) => string): Json {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  }
  return value;
}

/** Applies `f` to the string values of the places IAM substitutes variables in, leaving all else as it is. */
function mapSubstitutedValues(document: Json, f: (s: string) => string): Json {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return document;
  const mapStatement = (statement: Json): Json => {
    if (statement === null || typeof statement !== 'object' || Array.isArray(statement)) return statement;
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(statement)) {
      if (key === 'Resource' || key === 'NotResource') out[key] = mapStrings(value, f);
      else if (key === 'Condition' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        // Operator -> condition key -> value(s): only the values are substituted, never the keys.
        out[key] = Object.fromEntries(
          Object.entries(value).map(([operator, block]) => [
            operator,
            block !== null && typeof block === 'object' && !Array.isArray(block)
              ? Object.fromEntries(Object.entries(block).map(([k, v]) => [k, mapStrings(v, f)]))
              : block,
          ]),
        );
      } else out[key] = value;
    }
    return out;
  };
  const statements = document.Statement;
  return {
    ...document,
    ...(statements !== undefined
      ? { Statement: Array.isArray(statements) ? statements.map(mapStatement) : mapStatement(statements) }
      : {}),
  };
}

function parse(document: string): Json | undefined {
  try {
    return JSON.parse(document) as Json;
  } catch {
    return undefined;
  }
}

function usesVariables(document: Json): boolean {
  return (
    document !== null &&
    typeof document === 'object' &&
    !Array.isArray(document) &&
    document.Version === VARIABLE_POLICY_VERSION
  );
}

/**
 * What a document grants to one user: `${aws:username}` replaced by the user's name where IAM substitutes
 * it (Resource, NotResource, Condition values of a 2012-10-17 document), in canonical form. Two documents
 * grant a user the same exactly when their instantiations are equal. Documents without the variable, or
 * in a version that does not substitute it, come back canonical and otherwise unchanged.
 */
export function instantiateUsername(document: string, userName: string): string {
  const parsed = parse(document);
  if (parsed === undefined || !usesVariables(parsed) || !HAS_USERNAME_VARIABLE.test(document)) {
    return canonicalDocument(document);
  }
  const filled = mapSubstitutedValues(parsed, (s) => s.replace(EVERY_USERNAME_VARIABLE, () => userName));
  return canonicalDocument(JSON.stringify(filled));
}

/**
 * The template of one user's document, or undefined when it cannot be provably generalised (see the module
 * comment): wrong version, the name nowhere substitutable, or the name left in a place IAM does not
 * substitute. The template is returned with the document's own key order.
 */
export function generaliseDocument(document: string, userName: string): string | undefined {
  const parsed = parse(document);
  if (parsed === undefined || !usesVariables(parsed)) return undefined;
  // A document that already uses the variable mixes two meanings of the name: leave it alone.
  if (HAS_USERNAME_VARIABLE.test(document)) return undefined;
  let replaced = 0;
  const template = mapSubstitutedValues(parsed, (s) => {
    const out = replaceInValue(s, userName);
    if (out !== s) replaced++;
    return out;
  });
  if (replaced === 0) return undefined;
  const text = JSON.stringify(template);
  // Keys and values both: the name may not survive anywhere, in any case, as a whole token.
  if (containsNameToken(text, userName)) return undefined;
  // The proof: the template gives this user exactly the document it replaces.
  if (instantiateUsername(text, userName) !== canonicalDocument(document)) return undefined;
  return text;
}

/**
 * Finds the inline policies that two or more users share up to their own names, and the template each
 * group becomes. Deterministic: the result depends on the set of policies, not on their order.
 */
export function generaliseUsernames(
  policies: readonly InlineUserPolicy[],
  options: GeneraliseOptions = {},
): UsernameGeneralisation[] {
  const byTemplate = new Map<string, { document: string; replaces: InlineUserPolicy[] }>();
  const sorted = [...policies].sort(
    (a, b) => compare(a.userName, b.userName) || compare(a.policyName, b.policyName),
  );
  for (const p of sorted) {
    const template = generaliseDocument(p.document, p.userName);
    if (template === undefined) continue;
    if (options.maxPolicySize !== undefined && policySizeForQuota(template) > options.maxPolicySize) continue;
    const canonical = canonicalDocument(template);
    const entry = byTemplate.get(canonical);
    if (entry === undefined) byTemplate.set(canonical, { document: template, replaces: [p] });
    else entry.replaces.push(p);
  }
  const result: UsernameGeneralisation[] = [];
  for (const [canonical, entry] of byTemplate) {
    const users = new Set(entry.replaces.map((p) => p.userName.toLowerCase()));
    if (users.size < 2) continue;
    result.push({
      canonical,
      document: JSON.stringify(JSON.parse(entry.document), null, 2),
      replaces: entry.replaces.map((p) => ({ userName: p.userName, policyName: p.policyName })),
    });
  }
  return result.sort((a, b) => compare(a.canonical, b.canonical));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

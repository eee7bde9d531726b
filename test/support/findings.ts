import type { IacFinding } from '../../prevent/judge.js';

/** The finding for the user of this name; throws, listing the users found, when there is none. */
export function user(findings: readonly IacFinding[], name: string): IacFinding {
  const found = findings.find((f) => f.user.userName === name);
  if (found === undefined)
    throw new Error(`no finding for ${name}: ${findings.map((f) => f.user.userName).join(', ')}`);
  return found;
}

/** The direct policies a finding counts, as "name (kind)", sorted. */
export const policyNames = (f: IacFinding): string[] =>
  f.verdict.directPolicies.map((p) => `${p.name} (${p.kind})`).sort();

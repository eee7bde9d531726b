import type { IacFinding } from './judge.js';

/** A finding as check-template's JSON output carries it: flat, stable field names, no policy documents. */
export interface IacFindingJson {
  readonly file: string;
  readonly source: string;
  readonly resource: string | null;
  readonly line: number | null;
  readonly userName: string;
  readonly compliance: string;
  readonly annotation: string;
  readonly directPolicies: readonly {
    kind: string;
    name: string;
    arn?: string;
    from: string;
    line?: number;
  }[];
  readonly exemption: string | null;
  readonly notes: readonly string[];
}

/** The JSON report: one entry per user, NON_COMPLIANT first, and counts by compliance. */
export function findingsToJson(findings: readonly IacFinding[]): {
  findings: IacFindingJson[];
  summary: Record<string, number>;
} {
  const summary: Record<string, number> = {
    users: findings.length,
    NON_COMPLIANT: 0,
    COMPLIANT: 0,
    exempt: 0,
  };
  const out = sortFindings(findings).map((f): IacFindingJson => {
    summary[f.verdict.compliance] = (summary[f.verdict.compliance] ?? 0) + 1;
    if (f.verdict.exemption !== undefined) summary.exempt = (summary.exempt ?? 0) + 1;
    const counted = new Set(f.verdict.directPolicies.map((p) => `${p.kind}\u0000${p.name}`));
    return {
      file: f.candidate.file,
      source: f.candidate.source,
      resource: f.candidate.address ?? null,
      line: f.candidate.line ?? null,
      userName: f.user.userName,
      compliance: f.verdict.compliance,
      annotation: f.verdict.annotation,
      directPolicies: f.candidate.attachments
        .filter((a) => counted.has(`${a.kind}\u0000${a.name}`))
        // One attachment reached twice (a user named through two references) is listed once.
        .filter(
          (a, i, all) =>
            all.findIndex((b) => b.kind === a.kind && b.name === a.name && b.from === a.from) === i,
        )
        .map((a) => ({
          kind: a.kind,
          name: a.name,
          ...(a.arn !== undefined ? { arn: a.arn } : {}),
          from: a.from,
          ...(a.line !== undefined ? { line: a.line } : {}),
        })),
      exemption: f.verdict.exemption?.kind ?? null,
      notes: f.candidate.notes,
    };
  });
  return { findings: out, summary };
}

/** NON_COMPLIANT first, then by file, line and name, so that output is stable between runs. */
export function sortFindings(findings: readonly IacFinding[]): IacFinding[] {
  const order = (c: string) => (c === 'NON_COMPLIANT' ? 0 : 1);
  return [...findings].sort(
    (a, b) =>
      order(a.verdict.compliance) - order(b.verdict.compliance) ||
      a.candidate.file.localeCompare(b.candidate.file) ||
      (a.candidate.line ?? 0) - (b.candidate.line ?? 0) ||
      a.user.userName.localeCompare(b.user.userName),
  );
}

import type { DirectPolicy } from '../rule/annotation.js';
import type { RuleParameters } from '../rule/parameters.js';
import type { IamUser } from '../rule/user.js';
import { type ComplianceType, type Exemption, evaluateUser } from '../rule/verdict.js';
import { complianceStyle, renderTable } from './table.js';

/** One user's line in the scan: the verdict the deployed rule would record, and the facts behind it. */
export interface ScannedUser {
  readonly userName: string;
  readonly userId: string;
  readonly path: string;
  readonly compliance: ComplianceType;
  readonly annotation: string;
  readonly directPolicies: readonly DirectPolicy[];
  readonly exemption?: Exemption;
  readonly missingRequiredGroup?: string;
}

/** The scan's result: every user, sorted by name, and the counts the summary line shows. */
export interface ScanReport {
  readonly users: readonly ScannedUser[];
  readonly summary: {
    readonly users: number;
    readonly nonCompliant: number;
    readonly compliant: number;
    readonly exempt: number;
  };
}

/** Judges every user with the rule's own evaluator: the scan reports exactly what the rule would. */
export function scanUsers(users: readonly IamUser[], params: RuleParameters): ScanReport {
  const scanned = users
    .map((user): ScannedUser => {
      const verdict = evaluateUser(user, params);
      return {
        userName: user.userName,
        userId: user.userId,
        path: user.path,
        compliance: verdict.compliance,
        annotation: verdict.annotation,
        directPolicies: verdict.directPolicies,
        ...(verdict.exemption !== undefined ? { exemption: verdict.exemption } : {}),
        ...(verdict.missingRequiredGroup !== undefined
          ? { missingRequiredGroup: verdict.missingRequiredGroup }
          : {}),
      };
    })
    .sort((a, b) => a.userName.localeCompare(b.userName, 'en', { sensitivity: 'base' }));
  const nonCompliant = scanned.filter((u) => u.compliance === 'NON_COMPLIANT').length;
  return {
    users: scanned,
    summary: {
      users: scanned.length,
      nonCompliant,
      compliant: scanned.length - nonCompliant,
      exempt: scanned.filter((u) => u.exemption !== undefined).length,
    },
  };
}

/** The output formats of `scan --format`. */
export const SCAN_FORMATS = ['table', 'json', 'csv'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** The counts a summary line shows. */
export interface ComplianceCounts {
  readonly users: number;
  readonly nonCompliant: number;
  readonly exempt: number;
}

/** "12 users: 5 NON_COMPLIANT, 7 COMPLIANT (2 exempt)": the last line of `scan` and `check-template`. */
export function summaryLine(s: ComplianceCounts): string {
  const exempt = s.exempt > 0 ? ` (${s.exempt} exempt)` : '';
  return `${s.users} ${s.users === 1 ? 'user' : 'users'}: ${s.nonCompliant} NON_COMPLIANT, ${s.users - s.nonCompliant} COMPLIANT${exempt}`;
}

/** A table for people: user, verdict, number of direct policies, and the annotation Config would show. */
export function renderScanTable(report: ScanReport, colour: boolean): string {
  if (report.users.length === 0) return 'No IAM users in the account.\n';
  return renderTable(
    [
      { heading: 'USER' },
      { heading: 'VERDICT', style: complianceStyle },
      { heading: 'DIRECT' },
      { heading: 'ANNOTATION' },
    ],
    report.users.map((u) => [u.userName, u.compliance, String(u.directPolicies.length), u.annotation]),
    colour,
  );
}

/** JSON for programs: the whole report, stable field names. */
export function renderScanJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const CSV_HEADER = ['userName', 'userId', 'path', 'compliance', 'directPolicies', 'exemption', 'annotation'];

/**
 * CSV (RFC 4180) for spreadsheets. IAM names may start with "=", "+", "-" or "@", which spreadsheets run as
 * formulas: such cells get a leading apostrophe.
 *
 * @see https://owasp.org/www-community/attacks/CSV_Injection
 */
export function renderScanCsv(report: ScanReport): string {
  const rows = report.users.map((u) => [
    u.userName,
    u.userId,
    u.path,
    u.compliance,
    u.directPolicies.map((p) => `${p.name} (${p.kind})`).join('; '),
    u.exemption?.kind ?? '',
    u.annotation,
  ]);
  return `${[CSV_HEADER, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

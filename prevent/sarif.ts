import { IAM_USER_NO_POLICIES_CHECK } from './candidate.js';
import type { IacFinding } from './judge.js';
import { sortFindings } from './report.js';

/** The SARIF version this writes, and the schema its `$schema` names. @see https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html */
export const SARIF_VERSION = '2.1.0';
const SARIF_SCHEMA =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export interface SarifOptions {
  readonly toolName: string;
  readonly toolVersion: string;
  readonly informationUri: string;
  /** Turns a file path into the URI code-scanning tools expect: relative to the repository, with "/". */
  readonly uriOf: (file: string) => string;
}

/**
 * A SARIF 2.1.0 log for code-scanning UIs (GitHub code scanning shows `error` results on pull requests). Every
 * NON_COMPLIANT user is an error at its resource's line; an exempt user that carries direct policies is a
 * result with a `suppressions` entry ("inSource" for a Guard suppression in the template, "external" for a
 * rule parameter), so that exceptions stay visible instead of disappearing. Plain COMPLIANT users are not results.
 */
export function findingsToSarif(
  findings: readonly IacFinding[],
  options: SarifOptions,
): Record<string, unknown> {
  const results = sortFindings(findings)
    .filter(
      (f) =>
        f.verdict.compliance === 'NON_COMPLIANT' ||
        (f.verdict.exemption !== undefined && f.verdict.directPolicies.length > 0),
    )
    .map((f) => {
      const where = f.candidate.address ?? f.candidate.attachments[0]?.from;
      const exemption = f.verdict.exemption;
      return {
        ruleId: IAM_USER_NO_POLICIES_CHECK,
        ruleIndex: 0,
        level: 'error',
        message: {
          text: `IAM user ${f.user.userName}: ${f.verdict.annotation}${f.candidate.notes.length > 0 ? ` Notes: ${f.candidate.notes.join('; ')}.` : ''}`,
        },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: options.uriOf(f.candidate.file) },
              ...(f.candidate.line !== undefined ? { region: { startLine: f.candidate.line } } : {}),
            },
            ...(where !== undefined
              ? { logicalLocations: [{ name: where, fullyQualifiedName: where, kind: 'resource' }] }
              : {}),
          },
        ],
        ...(exemption !== undefined
          ? {
              suppressions: [
                {
                  kind: exemption.kind === 'suppressed' ? 'inSource' : 'external',
                  justification: f.verdict.annotation,
                },
              ],
            }
          : {}),
        properties: { userName: f.user.userName, compliance: f.verdict.compliance },
      };
    });
  return {
    $schema: SARIF_SCHEMA,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: options.toolName,
            version: options.toolVersion,
            informationUri: options.informationUri,
            rules: [
              {
                id: IAM_USER_NO_POLICIES_CHECK,
                name: 'IamUserNoPolicies',
                shortDescription: { text: 'IAM users must not carry policies directly (Security Hub IAM.2)' },
                fullDescription: {
                  text: 'An IAM user that has managed or inline policies attached directly is NON_COMPLIANT: grant permissions through IAM groups (or roles) instead. Same verdict and parameters as the AWS Config rule.',
                },
                helpUri: 'https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-2',
                defaultConfiguration: { level: 'error' },
              },
            ],
          },
        },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
}

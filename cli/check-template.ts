import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { Option } from 'commander';
import { checkDocumentsWithNotes, type IacFileNote } from '../prevent/check.js';
import type { IacFinding } from '../prevent/judge.js';
import { findingsToJson, sortFindings } from '../prevent/report.js';
import { findingsToSarif } from '../prevent/sarif.js';
import { IAM_USER_NAME } from '../rule/parameters.js';
import { InputError } from '../rule/schemas/config-rule-event.js';
import { type CliCommand, EXIT_CODE, UsageError } from './command.js';
import { readIacInputs } from './iac-inputs.js';
import {
  addRuleParameterOptions,
  type RuleParameterFlags,
  ruleParametersFrom,
} from './rule-parameter-options.js';
import { summaryLine } from './scan-report.js';
import { complianceStyle, paint, renderTable } from './table.js';
import { quotedName, terminalText } from './terminal-text.js';

export const CHECK_TEMPLATE_FORMATS = ['table', 'json', 'sarif'] as const;
type CheckTemplateFormat = (typeof CHECK_TEMPLATE_FORMATS)[number];

interface CheckTemplateOptions extends RuleParameterFlags {
  readonly format: CheckTemplateFormat;
  readonly var: string[];
  readonly varFile: string[];
}

const PROJECT_URI = 'https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-2';

/**
 * `check-template <files...>`: judges the IAM users that CloudFormation templates (JSON or YAML, a CDK
 * cdk.out directory) or Terraform plans (`terraform show -json`) would create or change, with the Config
 * rule's verdict and parameters, before anything is deployed. Exit code 1 when any user would be
 * NON_COMPLIANT, 2 when a file cannot be read. Makes no AWS call.
 */
export const checkTemplateCommand: CliCommand = (program, bind) => {
  const command = program
    .command('check-template')
    .description(
      'Check CloudFormation templates (JSON/YAML, or a cdk.out directory) and Terraform plan JSON for IAM users that would carry policies directly, with the rule’s own verdict. No AWS calls. Exit code 1 when any user would be NON_COMPLIANT, 2 when a file cannot be read.',
    )
    .argument(
      '<files...>',
      'template files, Terraform plan JSON files, or directories of *.template.json (cdk.out)',
    )
    .addOption(
      new Option('--format <format>', 'output format (sarif: for code scanning in pull requests)')
        .choices(CHECK_TEMPLATE_FORMATS)
        .default('table'),
    )
    .option(
      '--var <name=value>',
      'a Terraform variable for .tf files (repeatable), as terraform -var',
      collect,
      [],
    )
    .option(
      '--var-file <file>',
      'a Terraform variables file for .tf files (repeatable), as terraform -var-file',
      collect,
      [],
    );
  addRuleParameterOptions(command).action(
    bind<CheckTemplateOptions>(async (options, args, { io }) => {
      const params = ruleParametersFrom(options);
      const { findings, notes } = await withSafeErrors(async () =>
        checkDocumentsWithNotes(
          await readIacInputs(args, { vars: options.var, varFiles: options.varFile }),
          params,
        ),
      );
      switch (options.format) {
        case 'table':
          io.out(renderFindingsTable(findings, notes, io.colour));
          io.out(`${summaryOf(findings)}\n`);
          break;
        case 'json':
          io.out(`${JSON.stringify({ ...findingsToJson(findings), fileNotes: notes }, null, 2)}\n`);
          io.err(`${summaryOf(findings)}\n`);
          break;
        case 'sarif':
          io.out(
            `${JSON.stringify(
              findingsToSarif(findings, {
                toolName: 'iam-user-policies check-template',
                toolVersion: packageVersion(),
                informationUri: PROJECT_URI,
                uriOf: (file) => file.split(sep).map(encodeURIComponent).join('/'),
              }),
              null,
              2,
            )}\n`,
          );
          io.err(`${summaryOf(findings)}\n`);
          break;
      }
      return findings.some((f) => f.verdict.compliance === 'NON_COMPLIANT')
        ? EXIT_CODE.nonCompliant
        : EXIT_CODE.ok;
    }),
  );
};

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Errors carry file and resource names from the input: they are printed escaped, like everything else. */
async function withSafeErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(terminalText(error.message));
    if (error instanceof InputError) throw new InputError(terminalText(error.message));
    throw error;
  }
}

/** A user's name for the table: quoted when empty or odd, and flagged when IAM would refuse it. */
function userCell(f: IacFinding): string {
  const name = f.user.userName;
  // A label, or a name only partly known before deployment (`${AWS::StackName}-ci`): not a name IAM would see.
  const label = name.startsWith('(') || name === f.candidate.address || name.includes('${');
  return !label && !IAM_USER_NAME.test(name)
    ? `${quotedName(name)} (not a valid IAM user name)`
    : quotedName(name);
}

/**
 * The table check-template prints: one row per user (NON_COMPLIANT first), then the notes. Every text from the
 * input goes through terminalText, so that a name cannot move the cursor, reorder text or start a CI command.
 */
export function renderFindingsTable(
  findings: readonly IacFinding[],
  fileNotes: readonly IacFileNote[],
  colour: boolean,
): string {
  const fileLines = fileNotes.map((n) =>
    paint(`note: ${terminalText(n.file)}: ${terminalText(n.note)}`, 'dim', colour),
  );
  const tail = fileLines.length > 0 ? `${fileLines.join('\n')}\n` : '';
  if (findings.length === 0) return `No IAM users found in the given files.\n${tail}`;
  const sorted = sortFindings(findings);
  const rows = sorted.map((f) =>
    [
      userCell(f),
      f.verdict.compliance,
      `${f.candidate.file}${f.candidate.line !== undefined ? `:${f.candidate.line}` : ''}${
        f.candidate.address !== undefined ? ` (${f.candidate.address})` : ''
      }`,
      f.verdict.annotation,
    ].map(terminalText),
  );
  const table = renderTable(
    [
      { heading: 'USER' },
      { heading: 'VERDICT', style: complianceStyle },
      { heading: 'WHERE' },
      { heading: 'ANNOTATION' },
    ],
    rows,
    colour,
  );
  const notes = sorted.flatMap((f) =>
    f.candidate.notes.map((note) =>
      paint(`note: ${terminalText(userCell(f))}: ${terminalText(note)}`, 'dim', colour),
    ),
  );
  const allNotes = [...notes, ...fileLines];
  return `${table}${allNotes.length > 0 ? `\n${allNotes.join('\n')}\n` : ''}`;
}

function summaryOf(findings: readonly IacFinding[]): string {
  return summaryLine({
    users: findings.length,
    nonCompliant: findings.filter((f) => f.verdict.compliance === 'NON_COMPLIANT').length,
    exempt: findings.filter((f) => f.verdict.exemption !== undefined).length,
  });
}

function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../package.json') as { version?: string };
  return pkg.version ?? '0.0.0';
}

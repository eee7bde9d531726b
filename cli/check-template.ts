import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { Option } from 'commander';
import { checkTexts } from '../prevent/check.js';
import type { IacFinding } from '../prevent/judge.js';
import { findingsToJson, sortFindings } from '../prevent/report.js';
import { findingsToSarif } from '../prevent/sarif.js';
import { type CliCommand, EXIT_CODE, UsageError } from './command.js';
import {
  addRuleParameterOptions,
  type RuleParameterFlags,
  ruleParametersFrom,
} from './rule-parameter-options.js';
import { summaryLine } from './scan-report.js';
import { complianceStyle, paint, renderTable } from './table.js';

export const CHECK_TEMPLATE_FORMATS = ['table', 'json', 'sarif'] as const;
type CheckTemplateFormat = (typeof CHECK_TEMPLATE_FORMATS)[number];

interface CheckTemplateOptions extends RuleParameterFlags {
  readonly format: CheckTemplateFormat;
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
    );
  addRuleParameterOptions(command).action(
    bind<CheckTemplateOptions>(async (options, args, { io }) => {
      const params = ruleParametersFrom(options);
      const files = args.flatMap(expandPath);
      const findings = checkTexts(
        files.map((file) => ({ file: displayPath(file), text: readText(file) })),
        params,
      );
      switch (options.format) {
        case 'table':
          io.out(renderFindingsTable(findings, io.colour));
          io.out(`${summaryOf(findings)}\n`);
          break;
        case 'json':
          io.out(`${JSON.stringify(findingsToJson(findings), null, 2)}\n`);
          io.err(`${summaryOf(findings)}\n`);
          break;
        case 'sarif':
          io.out(
            `${JSON.stringify(
              findingsToSarif(findings, {
                toolName: 'iam-user-policies check-template',
                toolVersion: packageVersion(),
                informationUri: PROJECT_URI,
                uriOf: (file) => file.split(sep).join('/'),
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

/** A directory stands for the CloudFormation templates in it (what `cdk synth` writes to cdk.out). */
function expandPath(path: string): string[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${reason(error)}`);
  }
  if (!isDirectory) return [path];
  const templates = readdirSync(path)
    .filter((name) => name.endsWith('.template.json'))
    .sort()
    .map((name) => join(path, name));
  if (templates.length === 0) {
    throw new UsageError(`${path} is a directory without *.template.json files (run \`cdk synth\` first?)`);
  }
  return templates;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${reason(error)}`);
  }
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

/** Paths inside the working directory are shown (and put into SARIF) relative to it. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') ? rel : file;
}

function renderFindingsTable(findings: readonly IacFinding[], colour: boolean): string {
  if (findings.length === 0) return 'No IAM users found in the given files.\n';
  const sorted = sortFindings(findings);
  const rows = sorted.map((f) => [
    f.user.userName,
    f.verdict.compliance,
    `${f.candidate.file}${f.candidate.line !== undefined ? `:${f.candidate.line}` : ''}${
      f.candidate.address !== undefined ? ` (${f.candidate.address})` : ''
    }`,
    f.verdict.annotation,
  ]);
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
    f.candidate.notes.map((note) => paint(`note: ${f.user.userName}: ${note}`, 'dim', colour)),
  );
  return `${table}${notes.length > 0 ? `\n${notes.join('\n')}\n` : ''}`;
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

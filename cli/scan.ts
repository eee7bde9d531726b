import { Option } from 'commander';
import { readAccountUsers } from '../rule/aws/iam.js';
import { type CliCommand, EXIT_CODE } from './command.js';
import { reportReadProgress } from './progress.js';
import {
  addRuleParameterOptions,
  type RuleParameterFlags,
  ruleParametersFrom,
} from './rule-parameter-options.js';
import {
  renderScanCsv,
  renderScanJson,
  renderScanTable,
  SCAN_FORMATS,
  type ScanFormat,
  scanUsers,
  summaryLine,
} from './scan-report.js';

interface ScanOptions extends RuleParameterFlags {
  readonly format: ScanFormat;
}

/**
 * `scan`: judges every IAM user of the account with the rule's own evaluator and parameters. Read-only, and
 * one GetAccountAuthorizationDetails pass (one call per 1,000 users) instead of five calls per user. Exit
 * code 1 when any user is NON_COMPLIANT, so that it can gate a pipeline.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export const scanCommand: CliCommand = (program, bind) => {
  const command = program
    .command('scan')
    .description(
      'Evaluate every IAM user of the account as the deployed rule would (read-only; needs iam:GetAccountAuthorizationDetails). Exit code 1 when any user is NON_COMPLIANT.',
    )
    .addOption(new Option('--format <format>', 'output format').choices(SCAN_FORMATS).default('table'));
  addRuleParameterOptions(command).action(
    bind<ScanOptions>(async (options, _args, { io, aws }) => {
      // Parameters are checked before any AWS call: a typo must not cost a scan of 5,000 users.
      const params = ruleParametersFrom(options);
      const iam = aws.iam();
      reportReadProgress(iam, io.err);
      const report = scanUsers(await readAccountUsers(iam), params);
      switch (options.format) {
        case 'table':
          io.out(renderScanTable(report, io.colour));
          io.out(`${summaryLine(report.summary)}\n`);
          break;
        case 'json':
          io.out(renderScanJson(report));
          io.err(`${summaryLine(report.summary)}\n`);
          break;
        case 'csv':
          io.out(renderScanCsv(report));
          io.err(`${summaryLine(report.summary)}\n`);
          break;
      }
      return report.summary.nonCompliant > 0 ? EXIT_CODE.nonCompliant : EXIT_CODE.ok;
    }),
  );
};

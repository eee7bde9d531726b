import { Option } from 'commander';
import { describeStep, type MigrationResult, migrateUserPolicies } from '../remediation/migrate.js';
import { jsonLineLogger, silentLogger } from '../rule/log.js';
import { type CliCommand, EXIT_CODE, UsageError } from './command.js';
import { UnknownUserError } from './errors.js';
import { paint } from './table.js';

interface RemediateOptions {
  readonly user?: string;
  readonly userId?: string;
  readonly group?: string;
  readonly apply: boolean;
  readonly format: 'text' | 'json';
}

/**
 * `remediate`: the same migration the Automation document runs (remediation/migrate.ts), for one user, by
 * name or by ID. A dry run unless --apply: it shows the plan and changes nothing.
 *
 * Exit codes: 0 planned, migrated or nothing to do; 1 refused (the user stays NON_COMPLIANT, nothing
 * changed, the reasons are printed); 2 the command could not run (unknown user, bad input, credentials,
 * access, or a failed step that was rolled back).
 */
export const remediateCommand: CliCommand = (program, bind) => {
  program
    .command('remediate')
    .description(
      'Move one IAM user’s direct policies to groups without changing what anyone can do. Dry run (shows the plan) unless --apply.',
    )
    .addOption(new Option('--user <name>', 'the IAM user name').conflicts('userId'))
    .addOption(new Option('--user-id <id>', 'the IAM user ID (what AWS Config reports as the resource ID)'))
    .option(
      '--group <name>',
      'a job-function group to put the user in (joined if it grants nothing extra, else created)',
    )
    .option('--apply', 'make the changes (default: dry run)', false)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      bind<RemediateOptions>(async (options, _args, { io, aws, globals }) => {
        if (options.user === undefined && options.userId === undefined) {
          throw new UsageError('name the user with --user NAME or --user-id ID');
        }
        const result = await migrateUserPolicies(
          aws.iam(),
          {
            ...(options.user !== undefined ? { userName: options.user } : {}),
            ...(options.userId !== undefined ? { userId: options.userId } : {}),
            ...(options.group !== undefined ? { groupName: options.group } : {}),
            dryRun: !options.apply,
          },
          globals.debug ? jsonLineLogger((line) => io.err(`${line}\n`)) : silentLogger,
        );
        if (result.status === 'user-not-found') {
          const who = options.user !== undefined ? `named ${options.user}` : `with ID ${options.userId}`;
          throw new UnknownUserError(`there is no IAM user ${who} in this account`);
        }
        io.out(
          options.format === 'json'
            ? `${JSON.stringify(result, null, 2)}\n`
            : describeResult(result, io.colour),
        );
        return result.status === 'refused' ? EXIT_CODE.nonCompliant : EXIT_CODE.ok;
      }),
    );
};

/** The result for people: what was (or would be) done, step by step, or why nothing was. */
export function describeResult(result: MigrationResult, colour: boolean): string {
  const who = `${result.user.userName} (${result.user.userId})`;
  const numbered = (steps: MigrationResult['plan']) =>
    steps.map((step, i) => `  ${String(i + 1).padStart(2)}. ${describeStep(step)}\n`).join('');
  switch (result.status) {
    case 'already-compliant':
      return `${paint('Nothing to do', 'green', colour)}: ${who} has no policies attached directly.\n`;
    case 'planned':
      return `${paint('Dry run', 'cyan', colour)} for ${who}: ${result.plan.length} steps planned, nothing changed.\n${numbered(result.plan)}Run again with --apply to make these changes.\n`;
    case 'migrated':
      return `${paint('Migrated', 'green', colour)} ${who}: ${result.changes.length} steps done and verified.\n${numbered(result.changes)}`;
    case 'refused':
    case 'user-not-found':
      return `${paint('Refused', 'red', colour)} for ${who}: nothing changed.\n${(result.reasons ?? []).map((r) => `  - ${r}\n`).join('')}`;
  }
}

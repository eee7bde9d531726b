import { hostname } from 'node:os';
import { Option } from 'commander';
import { USER_LEASE } from '../remediation/lease.js';
import { describeStep, type MigrationResult, migrateUserPolicies } from '../remediation/migrate.js';
import { jsonLineLogger, silentLogger } from '../rule/log.js';
import { IAM_GROUP_NAME } from '../rule/parameters.js';
import { type CliCommand, EXIT_CODE, UsageError } from './command.js';
import { UnknownUserError } from './errors.js';
import {
  addRuleParameterOptions,
  type RuleParameterFlags,
  ruleParametersFrom,
} from './rule-parameter-options.js';
import { paint } from './table.js';

interface RemediateOptions extends RuleParameterFlags {
  readonly user?: string;
  readonly userId?: string;
  readonly group?: string;
  readonly joinableGroups?: string;
  readonly includeExempt: boolean;
  readonly wait?: string;
  readonly apply: boolean;
  readonly format: 'text' | 'json';
}

/** The longest --wait accepted: a user's lease expires after 15 minutes anyway. */
const MAX_WAIT_SECONDS = 900;

/**
 * `remediate`: the same migration the Automation document runs (remediation/migrate.ts), for one user, by
 * name or by ID. A dry run unless --apply: it shows the plan and changes nothing.
 *
 * Exit codes: 0 planned, migrated or nothing to do; 1 refused (the user stays NON_COMPLIANT, nothing
 * changed, the reasons are printed; an exempt user is refused unless --include-exempt); 2 the command could
 * not run (unknown user, bad input, credentials, access, or a failed step that was rolled back); 3 another
 * run is migrating the user and did not finish within --wait (nothing changed; run again later).
 */
export const remediateCommand: CliCommand = (program, bind) => {
  const command = program
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
    .option(
      '--joinable-groups <names>',
      'comma-separated existing groups outside /policy-migration/ that the plan may join when they grant nothing the user lacks (default: none)',
    )
    .option('--include-exempt', 'migrate a user the rule parameters exempt (default: refuse it)', false)
    .option(
      '--wait <seconds>',
      `how long to wait while another run migrates the same user (default 60, at most ${MAX_WAIT_SECONDS})`,
    )
    .option('--apply', 'make the changes (default: dry run)', false)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'));
  addRuleParameterOptions(command).action(
    bind<RemediateOptions>(async (options, _args, { io, aws, globals }) => {
      if (options.user === undefined && options.userId === undefined) {
        throw new UsageError('name the user with --user NAME or --user-id ID');
      }
      const ruleParameters = ruleParametersFrom(options);
      const waitMs = waitMilliseconds(options.wait);
      const joinableGroups = listOf(options.joinableGroups);
      const result = await migrateUserPolicies(
        aws.iam(),
        {
          ...(options.user !== undefined ? { userName: options.user } : {}),
          ...(options.userId !== undefined ? { userId: options.userId } : {}),
          ...(options.group !== undefined ? { groupName: options.group } : {}),
          ...(joinableGroups !== undefined ? { joinableGroups } : {}),
          ruleParameters,
          includeExempt: options.includeExempt,
          dryRun: !options.apply,
        },
        globals.debug ? jsonLineLogger((line) => io.err(`${line}\n`)) : silentLogger,
        {
          holder: `iam-user-policies remediate on host ${hostname()}, pid ${process.pid}`,
          ...(waitMs !== undefined ? { userLease: { ...USER_LEASE, waitMs } } : {}),
        },
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
      if (result.status === 'in-progress') return EXIT_CODE.inProgress;
      return result.status === 'refused' ? EXIT_CODE.nonCompliant : EXIT_CODE.ok;
    }),
  );
};

function waitMilliseconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!/^\d+$/.test(text.trim()) || seconds > MAX_WAIT_SECONDS) {
    throw new UsageError(`--wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return seconds * 1000;
}

function listOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const bad = names.find((n) => !IAM_GROUP_NAME.test(n));
  if (bad !== undefined) {
    throw new UsageError(
      `--joinable-groups: "${bad}" is not an IAM group name (1-128 characters of letters, digits and +=,.@_-)`,
    );
  }
  return names;
}

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
    case 'in-progress':
      return `${paint('In progress elsewhere', 'yellow', colour)} for ${who}: nothing changed.\n${(result.reasons ?? []).map((r) => `  - ${r}\n`).join('')}`;
    case 'refused':
    case 'user-not-found':
      return `${paint('Refused', 'red', colour)} for ${who}: nothing changed.\n${(result.reasons ?? []).map((r) => `  - ${r}\n`).join('')}`;
  }
}

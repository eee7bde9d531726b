import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Option } from 'commander';
import { type ApplyReport, type ApplyUserOutcome, applyDesign } from '../remediation/design/apply-design.js';
import { jsonLineLogger, silentLogger } from '../rule/log.js';
import { type CliCommand, EXIT_CODE, UsageError } from './command.js';
import { paint } from './table.js';

interface ApplyOptions {
  readonly apply: boolean;
  readonly concurrency: string;
  readonly format: 'text' | 'json';
}

/**
 * `apply PLAN`: carries out a plan file written by `plan` (remediation/design/apply-design.ts): builds the
 * design's groups, then moves each user into them and removes its direct policies, with the per-user
 * migration's guarantees. A dry run unless --apply. Resumable: users already as the plan wants them are
 * counted as done; users changed since the plan are skipped and listed.
 *
 * Exit codes: 0 every user migrated, planned or already done; 1 some users were skipped or are being
 * migrated by another run (listed; nothing changed for them); 2 the command could not run, or a user's
 * migration failed and was rolled back.
 */
export const applyCommand: CliCommand = (program, bind) => {
  program
    .command('apply')
    .description(
      'Carry out a plan file from `plan`: create its groups, move each user in and remove its direct policies, without changing what anyone can do. Dry run unless --apply.',
    )
    .argument('<plan>', 'the plan file `plan --out` wrote (group names in it may be edited before applying)')
    .option('--apply', 'make the changes (default: dry run)', false)
    .option('--concurrency <n>', 'users migrated at once (1-16)', '4')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      bind<ApplyOptions>(async (options, args, { io, aws, globals }) => {
        const concurrency = Number(options.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
          throw new UsageError('--concurrency must be a whole number from 1 to 16');
        }
        const file = args[0] as string;
        let planFile: unknown;
        try {
          planFile = JSON.parse(readFileSync(file, 'utf8'));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new UsageError(`cannot read plan file ${file}: ${code ?? 'not valid JSON'}`);
        }
        const report = await applyDesign(aws.iam(), planFile, {
          apply: options.apply,
          concurrency,
          holder: `iam-user-policies apply on host ${hostname()}, pid ${process.pid}`,
          log: globals.debug ? jsonLineLogger((line) => io.err(`${line}\n`)) : silentLogger,
          progress: (done, total) => {
            if (done % 25 === 0 || done === total) io.err(`Applied ${done} of ${total} users so far...\n`);
          },
        });
        io.out(
          options.format === 'json'
            ? `${JSON.stringify(report, null, 2)}\n`
            : describeReport(report, io.colour),
        );
        const count = (s: ApplyUserOutcome['status']) => report.users.filter((u) => u.status === s).length;
        if (count('failed') > 0) return EXIT_CODE.error;
        if (count('skipped') > 0 || count('in-progress') > 0) return EXIT_CODE.nonCompliant;
        return EXIT_CODE.ok;
      }),
    );
};

/** The run for people: what was built, how each user ended, and what to do about the rest. */
export function describeReport(report: ApplyReport, colour: boolean): string {
  const by = (s: ApplyUserOutcome['status']) => report.users.filter((u) => u.status === s);
  const lines: string[] = [];
  const verb = report.dryRun ? 'would create' : 'created';
  lines.push(
    `${report.dryRun ? paint('Dry run', 'cyan', colour) : paint('Applied', 'green', colour)}: ${verb} ${report.createdGroups.length} group(s) and ${report.createdPolicies.length} policy(ies).`,
  );
  const done = report.dryRun ? by('planned') : by('migrated');
  lines.push(
    `${done.length} user(s) ${report.dryRun ? 'would be migrated' : 'migrated'}, ${by('already-applied').length} already as planned, ${by('skipped').length} skipped, ${by('in-progress').length} in progress elsewhere, ${by('failed').length} failed.`,
  );
  for (const g of report.refusedGroups) lines.push(`  - group ${g.name} not used: ${g.reason}`);
  for (const u of [...by('skipped'), ...by('in-progress'), ...by('failed')]) {
    lines.push(`  - ${u.userName} ${u.status}: ${u.reason ?? ''}`);
  }
  if (report.dryRun) lines.push('Run again with --apply to make these changes.');
  return `${lines.join('\n')}\n`;
}

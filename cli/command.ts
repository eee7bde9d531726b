import type { Command } from 'commander';
import type { AwsClients, ClientOptions } from './aws-clients.js';

/**
 * Exit codes, so that `scan` can gate a CI job: 1 means only "NON_COMPLIANT users found"; anything that kept
 * a command from doing its job (usage, credentials, access, an unknown user) is 2; 3 means another run holds
 * the work (`remediate` waited for it and changed nothing).
 */
export const EXIT_CODE = { ok: 0, nonCompliant: 1, error: 2, inProgress: 3 } as const;

/** Where a command writes. Tests pass their own; bin.js passes the process streams. */
export interface CliIo {
  /** Results: tables, JSON, CSV. */
  readonly out: (text: string) => void;
  /** Progress, warnings and errors, so that stdout stays machine-readable. */
  readonly err: (text: string) => void;
  /** Colour is used only when the results go to a terminal. */
  readonly colour: boolean;
}

/** The flags every subcommand accepts, given before or after the subcommand name. */
export interface GlobalOptions extends ClientOptions {
  readonly debug: boolean;
}

/** What a subcommand's action gets besides its own options and arguments. */
export interface CommandContext {
  readonly io: CliIo;
  readonly globals: GlobalOptions;
  /** Clients built from --profile, --region and --endpoint, created on first use. */
  readonly aws: AwsClients;
}

/**
 * A subcommand's work: resolves to the exit code. Errors are thrown, not printed: cli/main.ts turns every
 * error into one line on stderr (see cli/errors.ts).
 */
export type CommandAction<Options> = (
  options: Options,
  args: readonly string[],
  context: CommandContext,
) => Promise<number>;

/** Wraps an action for commander's `.action(...)`, supplying the context and recording the exit code. */
export type BindAction = <Options>(
  action: CommandAction<Options>,
) => (...commanderArgs: unknown[]) => Promise<void>;

/**
 * One subcommand, defined in its own file (cli/scan.ts, cli/remediate.ts, cli/check-template.ts) and listed in
 * COMMANDS in cli/main.ts:
 *
 * @example
 * export const helloCommand: CliCommand = (program, bind) => {
 *   program
 *     .command('hello')
 *     .description('Says hello.')
 *     .option('--name <name>', 'who to greet', 'world')
 *     .action(bind<{ name: string }>(async (options, _args, { io }) => {
 *       io.out(`hello ${options.name}\n`);
 *       return EXIT_CODE.ok;
 *     }));
 * };
 */
export type CliCommand = (program: Command, bind: BindAction) => void;

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

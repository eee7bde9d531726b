import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { applyCommand } from './apply.js';
import { awsClientsFrom } from './aws-clients.js';
import { unknownProfileMessage } from './aws-profile.js';
import { checkTemplateCommand } from './check-template.js';
import type { BindAction, CliCommand, CliIo, CommandContext, GlobalOptions } from './command.js';
import { EXIT_CODE } from './command.js';
import { describeError } from './errors.js';
import { planCommand } from './plan.js';
import { remediateCommand } from './remediate.js';
import { scanCommand } from './scan.js';
import { quietWhenClosed } from './terminal-text.js';

/**
 * Every subcommand, one file each. To add one, write cli/<name>.ts exporting a CliCommand (see cli/command.ts)
 * and add it here.
 */
export const COMMANDS: readonly CliCommand[] = [
  scanCommand,
  remediateCommand,
  planCommand,
  applyCommand,
  checkTemplateCommand,
];

/** The program's name, as package.json's "bin" installs it. */
export const PROGRAM_NAME = 'iam-user-policies';

/**
 * Runs the command line with `argv` (without node and script) and resolves to the exit code. Every error becomes
 * one line on stderr (a stack trace only with --debug); the process is never exited from here.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT_CODE.ok;
  let debug = argv.includes('--debug');
  let profile = process.env.AWS_PROFILE || undefined;
  const contexts: CommandContext[] = [];

  const bind: BindAction =
    (action) =>
    async (...commanderArgs) => {
      const command = commanderArgs[commanderArgs.length - 1] as Command;
      const globals = globalOptions(command.optsWithGlobals());
      debug = globals.debug;
      profile = globals.profile ?? profile;
      const context: CommandContext = { io, globals, aws: awsClientsFrom(globals) };
      contexts.push(context);
      exitCode = await action(command.opts() as never, command.args, context);
    };

  const program = buildProgram(bind, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the help or the usage error.
      return error.exitCode === 0 ? EXIT_CODE.ok : EXIT_CODE.error;
    }
    // An AWS call could not even be configured: a profile nobody defined explains it better than the SDK's
    // "Region is missing" or "could not load credentials".
    const unknownProfile = isSdkConfigurationError(error) ? unknownProfileMessage(profile) : undefined;
    const report =
      unknownProfile !== undefined
        ? { message: unknownProfile, exitCode: EXIT_CODE.error }
        : describeError(error, profile !== undefined ? { profile } : {});
    io.err(`${report.message}\n`);
    if (debug && error instanceof Error && error.stack !== undefined) io.err(`${error.stack}\n`);
    return report.exitCode;
  } finally {
    for (const context of contexts) context.aws.destroy();
  }
}

/** The program with its global flags and every registered subcommand. */
export function buildProgram(bind: BindAction, io: CliIo): Command {
  const program = new Command(PROGRAM_NAME)
    .description(
      'Find IAM users that carry policies directly (Security Hub IAM.2) with the AWS Config rule’s own evaluator, and move their policies to groups.',
    )
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: AWS_PROFILE or the default chain)')
    .option('--region <region>', 'AWS Region (default: AWS_REGION or the profile’s Region)')
    .option('--endpoint <url>', 'send every AWS call to this endpoint, e.g. the local emulator', endpointUrl)
    .option('--debug', 'print stack traces with errors', false)
    .enablePositionalOptions(false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  for (const register of COMMANDS) register(program, bind);
  // Subcommands inherit the overrides so that their usage errors also come back as exit code 2.
  for (const sub of program.commands)
    sub.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  return program;
}

/** The errors the SDK raises before any request: no Region, or no credentials from the chain. */
function isSdkConfigurationError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    /^region is missing$/i.test(error.message.trim()) ||
    ['CredentialsProviderError', 'ProviderError', 'TokenProviderError'].includes(error.name) ||
    /could not load credentials/i.test(error.message)
  );
}

/** Checks --endpoint where it is given, rather than letting the first AWS call fail on it. */
function endpointUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InvalidArgumentError('must be an http:// or https:// URL, e.g. http://127.0.0.1:5000');
  }
  return value;
}

function globalOptions(raw: Record<string, unknown>): GlobalOptions {
  const text = (key: string) => (typeof raw[key] === 'string' ? (raw[key] as string) : undefined);
  const profile = text('profile');
  const region = text('region');
  const endpoint = text('endpoint');
  return {
    ...(profile !== undefined ? { profile } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    debug: raw.debug === true,
  };
}

/** The real process streams; a closed stdout or stderr (`| head`) ends the command quietly. */
export function processIo(): CliIo {
  return {
    out: quietWhenClosed(process.stdout),
    err: quietWhenClosed(process.stderr),
    colour: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  };
}

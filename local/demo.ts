import { IAMClient } from '@aws-sdk/client-iam';
import { paint } from '../cli/table.js';
import { type ConfigStandIn, startConfigStandIn } from './config-stand-in.js';
import { DEMO_RULE, runDemo } from './demo-run.js';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, type Emulator, startEmulator } from './emulator.js';

// `npm start`: the whole project against a local emulator, in one command. Exit code 0 when everything
// happened as the seeded account's design says, 1 when something did not, 2 when the run could not start.
// --verbose also prints the rule handler's JSON log lines (on stderr).

// The demo talks only to the emulator; the SDK's notice about Node 20 support is not its subject.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const verbose = process.argv.includes('--verbose');
const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

let emulator: Emulator | undefined;
let config: ConfigStandIn | undefined;
let iam: IAMClient | undefined;
let interrupted = false;
const stopAll = async () => {
  iam?.destroy();
  await Promise.allSettled([emulator?.stop(), config?.stop()]);
};
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the emulator...\n`);
    void stopAll().finally(() => process.exit(code));
  });
}

try {
  process.stdout.write(
    `${paint('Local run', 'bold', colour)}: AWS Config rule ${DEMO_RULE.configRuleName} and its remediation against the moto emulator\n`,
  );
  // Both are waited for, whichever fails first, so that the other is stopped too: a stand-in left listening
  // would keep this process alive after the error.
  const [startedEmulator, startedConfig] = await Promise.allSettled([startEmulator(), startConfigStandIn()]);
  if (startedEmulator.status === 'fulfilled') emulator = startedEmulator.value;
  if (startedConfig.status === 'fulfilled') config = startedConfig.value;
  if (startedEmulator.status === 'rejected') throw startedEmulator.reason;
  if (startedConfig.status === 'rejected') throw startedConfig.reason;
  iam = new IAMClient({
    endpoint: startedEmulator.value.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
  });
  const outcome = await runDemo(
    { emulator: startedEmulator.value, config: startedConfig.value, iam },
    {
      write: (text) => process.stdout.write(text),
      colour,
      ...(process.stdout.isTTY === true ? { width: process.stdout.columns } : {}),
      ruleLog: verbose ? (line) => process.stderr.write(line) : () => {},
    },
  );
  process.stdout.write('\n');
  if (outcome.asDesigned) {
    process.stdout.write(`${paint('OK', 'green', colour)} ${outcome.summary}\n`);
  } else {
    for (const problem of outcome.problems)
      process.stdout.write(`${paint('NOT AS DESIGNED', 'red', colour)} ${problem}\n`);
    process.stdout.write(`${paint('FAILED', 'red', colour)} ${outcome.summary}\n`);
  }
  process.exitCode = outcome.asDesigned ? 0 : 1;
} catch (error) {
  // After Ctrl-C the calls in flight fail because the emulator is gone: that is not worth reporting.
  if (interrupted) await new Promise(() => {});
  process.stderr.write(
    `error: the local run could not complete: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (verbose && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 2;
} finally {
  await stopAll();
}

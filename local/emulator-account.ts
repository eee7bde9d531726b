import { IAMClient } from '@aws-sdk/client-iam';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, type Emulator, startEmulator } from './emulator.js';
import { DEMO_RULE_PARAMETERS, seedAccount } from './seed-account.js';

// `npm run emulator`: an emulated AWS account to try the CLI on. Starts moto on a free loopback port with the
// local run's seeded account (12 users, one per case), prints how to point the CLI at it, and runs until
// Ctrl-C (or SIGTERM), when it stops the emulator. Exit code 2 when the emulator cannot start.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let emulator: Emulator | undefined;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the emulator...\n`);
    void Promise.resolve(emulator?.stop()).finally(() => process.exit(code));
  });
}

try {
  emulator = await startEmulator();
  const iam = new IAMClient({
    endpoint: emulator.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
  });
  const ids = await seedAccount(iam);
  iam.destroy();
  const exempt = Object.entries(DEMO_RULE_PARAMETERS)
    .map(([name, value]) => `--parameter ${name}=${value}`)
    .join(' ');
  process.stdout.write(
    [
      `moto is answering at ${emulator.endpoint} as account 123456789012, with ${ids.size} seeded users.`,
      '',
      'In another terminal:',
      `  export AWS_ACCESS_KEY_ID=${EMULATOR_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${EMULATOR_CREDENTIALS.secretAccessKey} AWS_REGION=${EMULATOR_REGION}`,
      `  npx iam-user-policies scan --endpoint ${emulator.endpoint} ${exempt}`,
      `  npx iam-user-policies remediate --endpoint ${emulator.endpoint} --user dave`,
      `  npx iam-user-policies plan --endpoint ${emulator.endpoint}`,
      '',
      'These credentials reach nothing but the emulator. Ctrl-C stops it (the account is gone with it).',
      '',
    ].join('\n'),
  );
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  await emulator?.stop();
  process.exit(2);
}

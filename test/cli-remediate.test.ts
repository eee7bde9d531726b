import { GetAccountAuthorizationDetailsCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { type SeededUserIds, seedAccount } from '../local/seed-account.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';

let emulator: Emulator;
let ids: SeededUserIds;
let cli: (...args: string[]) => ReturnType<typeof runCli>;

beforeAll(async () => {
  emulator = await startEmulator();
  ids = await seedAccount(clientsFor(emulator.endpoint).iam);
  cli = (...args) => runCli(['--endpoint', emulator.endpoint, ...args], EMULATOR_CLI_ENV);
});
afterAll(async () => {
  await emulator?.stop();
});

async function accountSnapshot() {
  const { iam } = clientsFor(emulator.endpoint);
  const page = await iam.send(
    new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Group', 'LocalManagedPolicy'] }),
  );
  return { users: page.UserDetailList, groups: page.GroupDetailList, policies: page.Policies };
}

describe('iam-user-policies remediate', () => {
  it('is a dry run by default: prints the numbered plan, changes nothing, exits 0', async () => {
    const before = await accountSnapshot();
    const run = await cli('remediate', '--user', 'dave');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `Dry run for dave (${ids.get('dave')}): ${lines.length - 2} steps planned, nothing changed.`,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^\s+\d+\. create managed policy \/policy-migration\/\S+ from inline policy dave-logs$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^\s+\d+\. delete inline policy dave-logs from dave$/),
    );
    expect(lines.at(-1)).toBe('Run again with --apply to make these changes.');
    expect(await accountSnapshot()).toEqual(before);
  });

  it('--apply migrates the user, after which scan finds it COMPLIANT', async () => {
    const run = await cli('remediate', '--user', 'bob', '--apply');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Migrated bob \(\w+\): \d+ steps done and verified\.\n/);
    const scan = JSON.parse((await cli('scan', '--format', 'json')).stdout);
    expect(scan.users.find((u: { userName: string }) => u.userName === 'bob').compliance).toBe('COMPLIANT');
  });

  it('finds the user by ID, as AWS Config names it', async () => {
    const run = await cli('remediate', '--user-id', ids.get('carol') ?? '?', '--format', 'json');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      status: 'planned',
      user: { userName: 'carol', userId: ids.get('carol') },
    });
    expect(result.changes).toEqual([]);
  });

  it('a second user with the same direct policies joins the first one’s group', async () => {
    const frank = JSON.parse(
      (await cli('remediate', '--user', 'frank', '--apply', '--format', 'json')).stdout,
    );
    const grace = JSON.parse(
      (await cli('remediate', '--user', 'grace', '--apply', '--format', 'json')).stdout,
    );
    const created = frank.changes.find((s: { action: string }) => s.action === 'create-group').groupName;
    expect(grace.changes).toContainEqual({
      action: 'add-user-to-group',
      userName: 'grace',
      groupName: created,
      existingGroup: true,
    });
  });

  it('a user who has nothing directly is told so, exit 0', async () => {
    const run = await cli('remediate', '--user', 'alice');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `Nothing to do: alice (${ids.get('alice')}) has no policies attached directly.\n`,
    );
  });

  it('a refusal prints the reasons, changes nothing, and exits 1 (the user stays NON_COMPLIANT)', async () => {
    const before = await accountSnapshot();
    const run = await cli('remediate', '--user', 'ivan', '--apply');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Refused for ivan \(\w+\): nothing changed\.\n {2}- .*GroupsPerUserQuota/);
    expect(await accountSnapshot()).toEqual(before);
  });
});

describe('iam-user-policies remediate: errors, exit 2, nothing changed', () => {
  it('an unknown user is one line naming it', async () => {
    const run = await cli('remediate', '--user', 'mallory', '--apply');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: there is no IAM user named mallory in this account\n');
    expect(run.stdout).toBe('');
  });

  it('an unknown user ID is one line naming it', async () => {
    const run = await cli('remediate', '--user-id', 'AIDANOSUCHUSER000000');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: there is no IAM user with ID AIDANOSUCHUSER000000 in this account\n');
  });

  it('no user named is a usage error', async () => {
    const run = await cli('remediate');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: name the user with --user NAME or --user-id ID\n');
  });

  it('--user and --user-id together are a usage error', async () => {
    const run = await cli('remediate', '--user', 'bob', '--user-id', 'x');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: option '--user <name>' cannot be used with option '--user-id <id>'/);
  });

  it('an invalid group name is refused before any IAM call', async () => {
    const run = await runCli(
      ['--endpoint', 'http://127.0.0.1:9', 'remediate', '--user', 'carol', '--group', 'ops team'],
      EMULATOR_CLI_ENV,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: migration request is malformed: groupName: must be an IAM group name (1-128 characters of letters, digits and +=,.@_-)\n',
    );
  });
});

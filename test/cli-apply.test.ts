import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, EMULATOR_ACCOUNT_ID, type Emulator, startEmulator } from '../local/emulator.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';
import {
  effectiveGrants,
  policyDocument,
  readInventory,
  seedAccount,
} from './support/remediation-account.js';

const S3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const EC2 = 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess';

let emulator: Emulator;
let iam: IAMClient;
const dir = mkdtempSync(join(tmpdir(), 'cli-apply-'));
const planFile = join(dir, 'plan.json');

beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
  await seedAccount(
    iam,
    {
      users: {
        ann: { managed: [S3, EC2], inline: { q: policyDocument('sqs:SendMessage') } },
        ben: { managed: [S3, EC2], inline: { q: policyDocument('sqs:SendMessage', 2) } },
        cat: { managed: [S3] },
      },
    },
    EMULATOR_ACCOUNT_ID,
  );
});
afterAll(async () => {
  await emulator?.stop();
});

const cli = (...args: string[]) => runCli([...args, '--endpoint', emulator.endpoint], EMULATOR_CLI_ENV);

describe('iam-user-policies apply', () => {
  it('plans, dry-runs, applies and resumes a design from the command line; nobody’s grants change', async () => {
    const before = await effectiveGrants(iam);
    expect((await cli('plan', '--out', planFile)).code).toBe(0);

    const dry = await cli('apply', planFile);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run: would create \d+ group\(s\)/);
    expect(dry.stdout).toMatch(/3 user\(s\) would be migrated/);
    expect(await effectiveGrants(iam)).toEqual(before);

    const applied = await cli('apply', planFile, '--apply');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/3 user\(s\) migrated, 0 already as planned, 0 skipped/);
    expect(applied.stderr).toMatch(/Applied 3 of 3 users so far/);
    const after = await readInventory(iam);
    expect(await effectiveGrants(iam, after)).toEqual(before);
    for (const u of ['ann', 'ben', 'cat']) expect(after.users[u]).toMatchObject({ managed: [], inline: {} });
    expect(after.users.ann?.groups).toEqual(after.users.ben?.groups);

    const again = await cli('apply', planFile, '--apply');
    expect(again.stdout).toMatch(/0 user\(s\) migrated, 3 already as planned/);
  });

  it.each([
    [
      'a plan file that does not exist',
      ['apply', join(dir, 'missing.json')],
      /cannot read plan file .*ENOENT/,
    ],
    ['a plan file that is not JSON', ['apply', join(dir, 'bad.json')], /not valid JSON/],
    ['a concurrency of 0', ['apply', planFile, '--concurrency', '0'], /--concurrency must be a whole number/],
  ])('refuses %s with exit code 2 and changes nothing', async (_name, args, message) => {
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    const before = await readInventory(iam);
    const run = await cli(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(await readInventory(iam)).toEqual(before);
  });
});

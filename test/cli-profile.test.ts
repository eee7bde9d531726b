import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { definedProfiles } from '../cli/aws-profile.js';
import { runCli } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configFile = join(dir, 'config');
writeFileSync(
  configFile,
  '[default]\nregion = eu-west-1\n\n[profile audit]\nsso_session = corp\n[sso-session corp]\n',
);
const credentialsFile = join(dir, 'credentials');
writeFileSync(credentialsFile, '[ci]\naws_access_key_id = AKIAEXAMPLE\n');
const sharedFiles = { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentialsFile };

// Nothing listens on port 9: no call leaves the machine.
const NOWHERE = ['--endpoint', 'http://127.0.0.1:9'];

describe('iam-user-policies with a profile', () => {
  it('an unknown --profile without a Region is named as unknown, not as a missing Region', async () => {
    const run = await runCli([...NOWHERE, '--profile', 'prod', 'scan']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    // One line: the SDK's Node-version notice is not printed either.
    expect(run.stderr).toBe(
      'error: unknown AWS profile prod: it is not defined in ~/.aws/config or ~/.aws/credentials\n',
    );
  });

  it('an unknown AWS_PROFILE with a Region is named, with the profiles that are defined', async () => {
    const run = await runCli([...NOWHERE, 'scan'], {
      ...sharedFiles,
      AWS_PROFILE: 'adit',
      AWS_REGION: 'us-east-1',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: unknown AWS profile adit: it is not defined in ~/.aws/config or ~/.aws/credentials (defined: audit, ci, default)\n',
    );
  });

  it('a defined profile without a Region is still told to give one', async () => {
    const run = await runCli([...NOWHERE, '--profile', 'ci', 'scan'], sharedFiles);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: no AWS Region configured: pass --region (IAM is global: any Region of the partition will do)\n',
    );
  });

  it('profiles are read from [profile NAME] and [default] in config, [NAME] in credentials; sso-session is not one', () => {
    expect([...definedProfiles(sharedFiles)].sort()).toEqual(['audit', 'ci', 'default']);
    expect(definedProfiles({ HOME: dir, AWS_CONFIG_FILE: join(dir, 'missing') }).size).toBe(0);
  });
});

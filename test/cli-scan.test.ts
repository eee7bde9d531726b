import { GetAccountAuthorizationDetailsCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { DEMO_ACCOUNT, DEMO_RULE_PARAMETERS, seedAccount } from '../local/seed-account.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';

let emulator: Emulator;
let scan: (...args: string[]) => ReturnType<typeof runCli>;

beforeAll(async () => {
  emulator = await startEmulator();
  await seedAccount(clientsFor(emulator.endpoint).iam);
  scan = (...args) => runCli(['--endpoint', emulator.endpoint, 'scan', ...args], EMULATOR_CLI_ENV);
});
afterAll(async () => {
  await emulator?.stop();
});

const exemptBreakGlass = ['--exempt-user-names', DEMO_RULE_PARAMETERS.exemptUserNames];
const expectedBefore = new Map(DEMO_ACCOUNT.users.map((u) => [u.userName, u.expected.before]));
const nonCompliantCount = DEMO_ACCOUNT.users.filter((u) => u.expected.before === 'NON_COMPLIANT').length;

describe('iam-user-policies scan', () => {
  it('prints one aligned table row per user with the rule’s verdict, a summary, and exits 1 when any user is NON_COMPLIANT', async () => {
    const run = await scan(...exemptBreakGlass);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USER\s+VERDICT\s+DIRECT\s+ANNOTATION$/);
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(DEMO_ACCOUNT.users.length);
    const verdictColumn = lines[0]?.indexOf('VERDICT');
    for (const row of rows) {
      const [userName, verdict] = row.split(/\s{2,}/);
      expect(expectedBefore.get(userName ?? ''), row).toBe(verdict);
      expect(row.indexOf(verdict ?? '?')).toBe(verdictColumn);
    }
    expect(lines.at(-1)).toBe(
      `12 users: ${nonCompliantCount} NON_COMPLIANT, ${12 - nonCompliantCount} COMPLIANT (2 exempt)`,
    );
    expect(run.stdout).not.toContain('\u001b['); // no colour when stdout is not a terminal
  });

  it('names the direct policies in the annotation, as AWS Config would show it', async () => {
    const run = await scan(...exemptBreakGlass);
    const dave = run.stdout.split('\n').find((l) => l.startsWith('dave '));
    expect(dave).toContain('2 policies attached directly: dave-logs (inline), reports-bucket-read (managed)');
  });

  it('--format json gives every user with verdict, direct policies and exemption, and the summary', async () => {
    const run = await scan('--format', 'json', ...exemptBreakGlass);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.summary).toEqual({
      users: 12,
      nonCompliant: nonCompliantCount,
      compliant: 12 - nonCompliantCount,
      exempt: 2,
    });
    const byName = new Map(report.users.map((u: { userName: string }) => [u.userName, u]));
    expect(byName.get('breakglass-admin')).toMatchObject({
      compliance: 'COMPLIANT',
      exemption: { kind: 'user-name' },
      directPolicies: [{ kind: 'managed', name: 'AdministratorAccess' }],
    });
    expect(byName.get('heidi')).toMatchObject({ compliance: 'NON_COMPLIANT' });
    expect((byName.get('heidi') as { directPolicies: unknown[] }).directPolicies).toHaveLength(12);
    expect(run.stderr).toBe(
      `12 users: ${nonCompliantCount} NON_COMPLIANT, ${12 - nonCompliantCount} COMPLIANT (2 exempt)\n`,
    );
  });

  it('--format csv gives a header and one quoted row per user', async () => {
    const run = await scan('--format', 'csv', ...exemptBreakGlass);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe('userName,userId,path,compliance,directPolicies,exemption,annotation');
    expect(lines).toHaveLength(13);
    const frank = lines.find((l) => l.startsWith('frank,'));
    expect(frank).toMatch(
      /^frank,\w+,\/,NON_COMPLIANT,AmazonSQSReadOnlyAccess \(managed\); CloudWatchReadOnlyAccess \(managed\),,"2 policies attached directly: .*"$/,
    );
  });

  it('applies the rule parameters given as flags: without the exemption the break-glass user is NON_COMPLIANT', async () => {
    const run = await scan('--format', 'json');
    const report = JSON.parse(run.stdout);
    const breakGlass = report.users.find((u: { userName: string }) => u.userName === 'breakglass-admin');
    expect(breakGlass.compliance).toBe('NON_COMPLIANT');
  });

  it('accepts parameters as --parameter name=value and as the rule’s JSON InputParameters', async () => {
    const viaPair = JSON.parse(
      (await scan('--format', 'json', '--parameter', 'exemptPathPrefixes=/break-glass/')).stdout,
    );
    const viaJson = JSON.parse(
      (await scan('--format', 'json', '--rule-parameters', '{"exemptPathPrefixes":"/break-glass/"}')).stdout,
    );
    for (const report of [viaPair, viaJson]) {
      const breakGlass = report.users.find((u: { userName: string }) => u.userName === 'breakglass-admin');
      expect(breakGlass.exemption).toEqual({ kind: 'path', prefix: '/break-glass/' });
    }
  });

  it('exits 0 when every user is compliant', async () => {
    const run = await scan('--exempt-path-prefixes', '/');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
      '12 users: 0 NON_COMPLIANT, 12 COMPLIANT (12 exempt)',
    );
  });

  it('changes nothing in the account', async () => {
    const { iam } = clientsFor(emulator.endpoint);
    const read = () =>
      iam.send(
        new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Group', 'LocalManagedPolicy'] }),
      );
    const before = await read();
    const run = await scan(...exemptBreakGlass);
    expect(run.code, run.stderr).toBe(1); // the scan ran and found the NON_COMPLIANT users
    const after = await read();
    expect(after.UserDetailList).toEqual(before.UserDetailList);
    expect(after.GroupDetailList).toEqual(before.GroupDetailList);
    expect(after.Policies).toEqual(before.Policies);
  });
});

describe('iam-user-policies scan: bad input is refused before any AWS call', () => {
  // An endpoint nothing listens on: had the scan called AWS, the error would be "cannot reach".
  const offline = (...args: string[]) =>
    runCli(['--endpoint', 'http://127.0.0.1:9', 'scan', ...args], EMULATOR_CLI_ENV);

  it('an invalid parameter value is one line naming the parameter, exit 2', async () => {
    const run = await offline('--check-managed-policies', 'maybe');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: invalid rule parameters: checkManagedPolicies: must be "true" or "false"\n',
    );
    expect(run.stdout).toBe('');
  });

  it('an unknown parameter name lists the known ones, exit 2', async () => {
    const run = await offline('--parameter', 'exemptUsers=bob');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^error: invalid rule parameters: unknown parameter\(s\) "exemptUsers"; known: exemptUserNames, /,
    );
  });

  it('a parameter given twice is a usage error, exit 2', async () => {
    const run = await offline('--exempt-user-names', 'a', '--parameter', 'exemptUserNames=b');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: rule parameter exemptUserNames is given twice: by --parameter exemptUserNames=b and by --exempt-user-names\n',
    );
  });

  it('--rule-parameters that is not JSON is a usage error, exit 2', async () => {
    const run = await offline('--rule-parameters', '{exemptUserNames:a}');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: --rule-parameters is not valid JSON\n');
  });

  it('an unknown format is refused with the choices, exit 2', async () => {
    const run = await offline('--format', 'xml');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "error: option '--format <format>' argument 'xml' is invalid. Allowed choices are table, json, csv.",
    );
  });
});

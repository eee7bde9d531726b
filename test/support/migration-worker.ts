/**
 * A separate process that runs migrations, for the concurrency tests: argv[2] is the IAM endpoint, argv[3] a
 * JSON file {runs: string[] (user names, repeats allowed), concurrency, ruleParameters}. Prints one JSON line
 * per run: {userName, status} or {userName, error, name}. Exits 0 when every run ended (whatever its outcome).
 */
import { readFileSync } from 'node:fs';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../../local/emulator.js';
import { migrateUserPolicies } from '../../remediation/migrate.js';
import { projectIamClient } from '../../rule/aws/client-settings.js';
import { parseRuleParameters } from '../../rule/parameters.js';

const [endpoint, file] = process.argv.slice(2);
if (endpoint === undefined || file === undefined) throw new Error('usage: migration-worker ENDPOINT FILE');
const job = JSON.parse(readFileSync(file, 'utf8')) as {
  runs: string[];
  concurrency: number;
  ruleParameters: Record<string, string>;
};
// The client the migration Lambda makes (remediation/handler.ts): the project's timeouts and adaptive retry,
// so an emulator answering 5xx under load is retried as AWS's 5xx would be, and an unreadable answer is one line.
const iam = projectIamClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
const ruleParameters = parseRuleParameters(job.ruleParameters);
let next = 0;
async function lane(): Promise<void> {
  for (;;) {
    const userName = job.runs[next++];
    if (userName === undefined) return;
    try {
      const result = await migrateUserPolicies(iam, { userName, dryRun: false, ruleParameters }, undefined, {
        holder: `migration-worker pid ${process.pid}`,
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
      });
      process.stdout.write(
        `${JSON.stringify({ userName, status: result.status, reasons: result.reasons })}\n`,
      );
    } catch (error) {
      const e = error as Error;
      process.stdout.write(`${JSON.stringify({ userName, error: e.message, name: e.name })}\n`);
    }
  }
}
await Promise.all(Array.from({ length: job.concurrency }, lane));

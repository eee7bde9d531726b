import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { startConfigStandIn } from '../local/config-stand-in.js';
import { REPO_ROOT } from '../local/python-env.js';
import { SDK_CLIENT_SETTINGS } from '../rule/aws/client-settings.js';
import { silentLogger } from '../rule/log.js';
import { runConfigRule } from '../rule/run-rule.js';
import {
  GROUPS_QUOTA,
  INLINE_CHARACTERS_PER_USER,
  largeAccountUserId,
  POLICIES_QUOTA,
  startLargeIam,
  VERSIONS_PER_POLICY,
} from './large-iam.js';
import { writeMigrationBundle, writeRuleBundle } from './rule-bundle.js';
import { seededRandom } from './seeded-random.js';

/** The account sizes the memory part sweeps. */
export const MEMORY_SIZES = [5_000, 20_000] as const;
const LOCAL_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
const PERIODIC_EVENT = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'config-events', 'periodic.json'), 'utf8'),
) as Record<string, unknown>;

/** Peak memory of one scheduled sweep in the bundled function, in its own Node process. */
export interface MemoryMeasurement {
  readonly users: number;
  readonly inlineCharactersPerUser: number;
  readonly peakRssMiB: number;
  readonly usersEvaluated: number;
}

/** What the handler returned, and the process's peak RSS. */
interface BundleRun {
  readonly maxRssKiB: number;
  readonly result: unknown;
}

/** Runs the bundle's handler once on `event` in a Node process of its own. */
function runBundle(bundle: string, env: Record<string, string>, event: unknown): Promise<BundleRun> {
  const script = `const { handler } = await import(${JSON.stringify(bundle)});
const result = await handler(${JSON.stringify(event)});
process.stdout.write('\\n' + JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, result }));`;
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      // The function logs one line per user (as in Lambda); the measurement is the last line.
      { env: { ...process.env, ...env }, maxBuffer: 1 << 30 },
      (error, stdout, stderr) =>
        error
          ? fail(new Error(`${error.message}\n${stderr}`))
          : done(JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as BundleRun),
    );
  });
}

/**
 * Peak RSS of the bundled rule function (the file Lambda runs) sweeping accounts of MEMORY_SIZES users,
 * each with IAM's maximum inline policy text: what decides the function's memory setting.
 */
export async function measureMemory(sizes: readonly number[] = MEMORY_SIZES): Promise<MemoryMeasurement[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const bundle = join(dir, 'index.mjs');
  await writeRuleBundle(bundle);
  const out: MemoryMeasurement[] = [];
  for (const users of sizes) {
    const [iam, config] = await Promise.all([startLargeIam(users), startConfigStandIn()]);
    try {
      const name = `memory-${users}`;
      const run = await runBundle(
        bundle,
        {
          ...LOCAL_ENV,
          AWS_ENDPOINT_URL_IAM: iam.endpoint,
          AWS_ENDPOINT_URL_CONFIG_SERVICE: config.endpoint,
        },
        { ...PERIODIC_EVENT, ruleParameters: '{}', configRuleName: name, resultToken: name },
      );
      out.push({
        users,
        inlineCharactersPerUser: INLINE_CHARACTERS_PER_USER,
        peakRssMiB: Math.round(run.maxRssKiB / 1024),
        usersEvaluated: (run.result as { usersEvaluated: number }).usersEvaluated,
      });
    } finally {
      await Promise.all([iam.stop(), config.stop()]);
    }
  }
  return out;
}

/**
 * Peak memory of one dry-run migration in the bundled migration function, in its own Node process. The
 * account is `users` users with IAM's maximum inline text each, one group each, and `groups` groups and
 * `customerPolicies` customer managed policies with every document at IAM's maximum size.
 */
export interface MigrationMemoryMeasurement {
  readonly users: number;
  readonly inlineCharactersPerUser: number;
  readonly groups: number;
  readonly customerPolicies: number;
  readonly versionsPerPolicy: number;
  readonly peakRssMiB: number;
  /** The dry run's status: "planned" when it read the account and planned the user's migration. */
  readonly status: string;
  readonly planSteps: number;
}

/**
 * Peak RSS of the bundled migration function (the file Lambda runs) planning one user's migration in
 * accounts of MEMORY_SIZES users, each with IAM's maximum inline policy text: what decides the function's
 * memory setting. A dry run makes the read a real run makes (GetAccountAuthorizationDetails for users, groups
 * and customer managed policies, and GetAccountSummary) and plans from it, but takes no lease and writes
 * nothing, so the stand-in needs to answer only the reads. A real run reads the same way once more under the
 * policy set's lease, holding the first read's state (one user's documents, the groups' and the policies'
 * default documents) but not its pages. The groups and policies are one short of
 * IAM's default quotas, leaving room for the group and the policy the plan creates.
 */
export async function measureMigrationMemory(
  sizes: readonly number[] = MEMORY_SIZES,
): Promise<MigrationMemoryMeasurement[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-migration-memory-'));
  const bundle = join(dir, 'index.mjs');
  await writeMigrationBundle(bundle);
  const out: MigrationMemoryMeasurement[] = [];
  for (const users of sizes) {
    const account = {
      users,
      groups: GROUPS_QUOTA - 1,
      customerPolicies: POLICIES_QUOTA - 1,
      migratedUser: Math.floor(users / 2),
    };
    const iam = await startLargeIam(account);
    try {
      const run = await runBundle(
        bundle,
        { ...LOCAL_ENV, AWS_ENDPOINT_URL_IAM: iam.endpoint },
        { IAMResourceId: largeAccountUserId(account.migratedUser), DryRun: 'true' },
      );
      const result = run.result as { status: string; plan: readonly unknown[] };
      if (result.status !== 'planned') {
        throw new Error(
          `the dry run in an account of ${users} users answered ${JSON.stringify(result)}, not a planned migration`,
        );
      }
      out.push({
        users,
        inlineCharactersPerUser: INLINE_CHARACTERS_PER_USER,
        groups: account.groups,
        customerPolicies: account.customerPolicies,
        versionsPerPolicy: VERSIONS_PER_POLICY,
        peakRssMiB: Math.round(run.maxRssKiB / 1024),
        status: result.status,
        planSteps: result.plan.length,
      });
    } finally {
      await iam.stop();
    }
  }
  return out;
}

/**
 * A proxy that answers a share of requests itself with the service's throttling error, at once, and passes
 * the rest on: IAM's Query protocol error (XML) or Config's JSON one, told apart by the request. Seeded.
 */
async function startThrottlingProxy(target: string, share: number, seed: number) {
  const random = seededRandom(seed);
  let requests = 0;
  let throttled = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests++;
    const json = String(request.headers['content-type'] ?? '').includes('json');
    if (random.next() < share) {
      throttled++;
      request.resume();
      request.on('end', () => {
        if (json) {
          response.writeHead(400, {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-errortype': 'ThrottlingException',
          });
          response.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        } else {
          response.writeHead(400, { 'content-type': 'text/xml' });
          response.end(
            '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>bench</RequestId></ErrorResponse>',
          );
        }
      });
      return;
    }
    const url = new URL(request.url ?? '/', target);
    const forward = httpRequest(url, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ requests, throttled }),
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** First sweeps of one account through a throttling proxy, with one client configuration. */
export interface ThrottlingRow {
  readonly settings: string;
  readonly users: number;
  readonly throttledShare: number;
  readonly sweeps: number;
  readonly completed: number;
  /** Wall time of each completed sweep, seconds. */
  readonly wallSeconds: readonly number[];
  readonly requests: number;
  readonly throttledRequests: number;
}

const SETTINGS = {
  'SDK default (standard, 3 attempts)': {},
  'project (adaptive, 10 attempts, timeouts)': SDK_CLIENT_SETTINGS,
} as const;

/**
 * Runs `sweeps` first sweeps (every user reported: 10 IAM pages, 100 PutEvaluations) of a `users`-user
 * account with the rule's own code through a proxy that throttles `share` of all requests, once with the
 * SDK's default retry and once with the project's settings, and counts how many finish.
 */
export async function measureThrottling(users = 10_000, share = 0.3, sweeps = 6): Promise<ThrottlingRow[]> {
  const iam = await startLargeIam(users);
  const rows: ThrottlingRow[] = [];
  try {
    for (const [label, settings] of Object.entries(SETTINGS)) {
      let completed = 0;
      const wallSeconds: number[] = [];
      let requests = 0;
      let throttledRequests = 0;
      for (let run = 0; run < sweeps; run++) {
        const config = await startConfigStandIn();
        const [iamProxy, configProxy] = await Promise.all([
          startThrottlingProxy(iam.endpoint, share, 1000 + run),
          startThrottlingProxy(config.endpoint, share, 2000 + run),
        ]);
        const common = {
          region: 'us-east-1',
          credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
        };
        const clients = {
          iam: new IAMClient({ ...settings, ...common, endpoint: iamProxy.endpoint }),
          config: new ConfigServiceClient({ ...settings, ...common, endpoint: configProxy.endpoint }),
        };
        const name = `throttled-${run}`;
        const start = performance.now();
        try {
          await runConfigRule(
            { ...PERIODIC_EVENT, ruleParameters: '{}', configRuleName: name, resultToken: name },
            { clientsFor: () => clients, log: silentLogger },
          );
          completed++;
          wallSeconds.push(Math.round((performance.now() - start) / 100) / 10);
        } catch {
          // counted as not completed
        } finally {
          for (const p of [iamProxy, configProxy]) {
            requests += p.counts().requests;
            throttledRequests += p.counts().throttled;
          }
          clients.iam.destroy();
          clients.config.destroy();
          await Promise.all([iamProxy.stop(), configProxy.stop(), config.stop()]);
        }
      }
      rows.push({
        settings: label,
        users,
        throttledShare: share,
        sweeps,
        completed,
        wallSeconds,
        requests,
        throttledRequests,
      });
    }
  } finally {
    await iam.stop();
  }
  return rows;
}

/** The parts as Markdown, for docs/reliability.md. */
export function renderScale(
  memory: readonly MemoryMeasurement[] | undefined,
  throttling: readonly ThrottlingRow[] | undefined,
  migrationMemory?: readonly MigrationMemoryMeasurement[],
): string {
  const lines: string[] = [];
  if (memory !== undefined) {
    lines.push(
      '| users | inline text per user | peak RSS of the bundled function |',
      '| ---: | ---: | ---: |',
    );
    for (const m of memory)
      lines.push(
        `| ${m.users.toLocaleString('en')} | ${m.inlineCharactersPerUser.toLocaleString('en')} characters | ${m.peakRssMiB} MiB |`,
      );
    lines.push('');
  }
  if (migrationMemory !== undefined) {
    lines.push(
      '| users | inline text per user | groups | customer managed policies (versions each) | dry run | peak RSS of the bundled migration function |',
      '| ---: | ---: | ---: | ---: | --- | ---: |',
    );
    for (const m of migrationMemory)
      lines.push(
        `| ${m.users.toLocaleString('en')} | ${m.inlineCharactersPerUser.toLocaleString('en')} characters | ${m.groups} | ${m.customerPolicies.toLocaleString('en')} (${m.versionsPerPolicy}) | ${m.status}, ${m.planSteps} steps | ${m.peakRssMiB} MiB |`,
      );
    lines.push('');
  }
  if (throttling !== undefined) {
    lines.push(
      '| client settings | users | throttled | first sweeps completed | wall time of each (s) |',
      '| --- | ---: | ---: | ---: | --- |',
    );
    for (const t of throttling)
      lines.push(
        `| ${t.settings} | ${t.users.toLocaleString('en')} | ${Math.round(t.throttledShare * 100)}% (${t.throttledRequests} of ${t.requests} requests) | ${t.completed} of ${t.sweeps} | ${t.wallSeconds.join(', ') || '-'} |`,
      );
  }
  return lines.join('\n');
}

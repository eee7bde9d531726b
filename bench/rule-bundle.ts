import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { BUNDLING, MIGRATION_ENTRY, REPO_ROOT, RULE_ENTRY } from '../infra/bundling.js';

/** The rule's deployable bundle: its bytes and esbuild's account of where they come from. */
/**
 * The benchmark issue's size target for the deployable rule bundle, "400 KB", read strictly as 400,000 bytes.
 * `npm run bench` judges it and test/perf-counts.test.ts asserts it, next to the drift check.
 */
export const RULE_BUNDLE_MAX_BYTES = 400_000;

export interface RuleBundle {
  /** Bytes of index.mjs, the file Lambda loads. */
  readonly bytes: number;
  readonly path: string | undefined;
  readonly metafile: Metafile;
}

/**
 * Builds the rule's bundle in memory with esbuild and the options the CDK app gives NodejsFunction
 * (infra/bundling.ts), translated the way NodejsFunction translates them (bundle, platform node, ESM, the
 * target, minify, linked source map without sources, main fields, no external modules). Takes well under a
 * second, so the regression test can check the bytes on every `npm test`; the benchmark checks that it
 * matches the asset the CDK app synthesizes.
 *
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_nodejs.BundlingOptions.html
 */
export async function buildRuleBundle(): Promise<RuleBundle> {
  return bundleWithCdkOptions({ entryPoints: [RULE_ENTRY] });
}

/** The migration function's bundle (remediation/handler.ts), built the same way. */
export async function buildMigrationBundle(): Promise<RuleBundle> {
  return bundleWithCdkOptions({ entryPoints: [MIGRATION_ENTRY] });
}

/** Builds the rule's bundle as buildRuleBundle does and writes it to `outfile`, for running it in a process. */
export async function writeRuleBundle(outfile: string): Promise<void> {
  await bundleWithCdkOptions({ entryPoints: [RULE_ENTRY] }, outfile);
}

/** Builds the migration function's bundle as buildMigrationBundle does and writes it to `outfile`. */
export async function writeMigrationBundle(outfile: string): Promise<void> {
  await bundleWithCdkOptions({ entryPoints: [MIGRATION_ENTRY] }, outfile);
}

/**
 * What the AWS SDK alone weighs in the rule's bundle: an entry that creates the handler's two clients (IAM,
 * Config) and the assumed-role credentials of organization mode, and imports only the commands the rule
 * sends, bundled with the same options and no project code. The bundle can never be smaller than this while it bundles these clients.
 */
export async function buildSdkFloorBundle(): Promise<RuleBundle> {
  const contents = [
    "import { ConfigServiceClient, GetComplianceDetailsByConfigRuleCommand, GetResourceConfigHistoryCommand, PutEvaluationsCommand } from '@aws-sdk/client-config-service';",
    "import { GetAccountAuthorizationDetailsCommand, IAMClient } from '@aws-sdk/client-iam';",
    "import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';",
    'const clients = [new ConfigServiceClient({}), new IAMClient({ credentials: fromTemporaryCredentials({ params: { RoleArn: process.argv[2] } }) })];',
    'export const handler = async () => [clients, PutEvaluationsCommand, GetComplianceDetailsByConfigRuleCommand, GetResourceConfigHistoryCommand, GetAccountAuthorizationDetailsCommand];',
  ].join('\n');
  return bundleWithCdkOptions({
    stdin: { contents, resolveDir: REPO_ROOT, sourcefile: 'sdk-floor.ts', loader: 'ts' },
  });
}

async function bundleWithCdkOptions(
  entry:
    | { entryPoints: string[] }
    | { stdin: { contents: string; resolveDir: string; sourcefile: string; loader: 'ts' } },
  writeTo?: string,
): Promise<RuleBundle> {
  const result = await build({
    ...entry,
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    format: BUNDLING.format === 'esm' ? 'esm' : 'cjs',
    ...(BUNDLING.target !== undefined ? { target: BUNDLING.target } : {}),
    minify: BUNDLING.minify === true,
    sourcemap: BUNDLING.sourceMap === true ? 'linked' : false,
    sourcesContent: BUNDLING.sourcesContent !== false,
    external: [...(BUNDLING.externalModules ?? ['@aws-sdk/*'])],
    ...(BUNDLING.mainFields !== undefined ? { mainFields: [...BUNDLING.mainFields] } : {}),
    outfile: writeTo ?? join(REPO_ROOT, 'bench', 'results', 'rule-bundle', 'index.mjs'),
    metafile: true,
    write: writeTo !== undefined,
    logLevel: 'silent',
  });
  if (writeTo !== undefined)
    return { bytes: statSync(writeTo).size, path: writeTo, metafile: result.metafile };
  const code = result.outputFiles?.find((f) => f.path.endsWith('.mjs') || f.path.endsWith('.js'));
  if (code === undefined) throw new Error('esbuild produced no JavaScript file for the rule');
  return { bytes: code.contents.byteLength, path: undefined, metafile: result.metafile };
}

/**
 * Synthesizes the CDK app (infra/app.ts) into a temporary directory and returns the rule function's asset:
 * the S3 asset under the app's first RuleFunction construct, which is the file Lambda runs. The deployed asset
 * carries no metafile (it would ship in the zip), so the metafile comes from `buildRuleBundle`, whose bytes
 * the benchmark checks are the same.
 */
export async function synthesizedRuleBundle(): Promise<RuleBundle> {
  const [{ App }, { Asset }, { buildApp }, { RuleFunction }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-s3-assets'),
    import('../infra/app.js'),
    import('../infra/rule-function.js'),
  ]);
  const outdir = mkdtempSync(join(tmpdir(), 'bench-cdk-'));
  const app = buildApp({ app: new App({ outdir }) });
  app.synth();
  const ruleFunction = app.node.findAll().find((c) => c instanceof RuleFunction);
  const asset = ruleFunction?.node.findAll().find((c) => c instanceof Asset);
  if (asset === undefined) throw new Error(`the synthesized app in ${outdir} has no rule function asset`);
  const path = join(outdir, asset.assetPath, 'index.mjs');
  return { bytes: statSync(path).size, path, metafile: (await buildRuleBundle()).metafile };
}

/** Bytes in the bundle, by where they come from. */
export interface BundleShare {
  readonly part: string;
  readonly bytes: number;
}

/**
 * Groups the bundle's bytes by origin, from esbuild's metafile: each npm package (the SDK's split into its
 * service clients, the credential chain, and the shared core), and the project's own folders.
 */
export function whereTheBytesGo(metafile: Metafile): BundleShare[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  if (output === undefined) throw new Error('the metafile has no entry point output');
  const byPart = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const part = partOf(input);
    byPart.set(part, (byPart.get(part) ?? 0) + bytesInOutput);
  }
  return [...byPart.entries()].map(([part, bytes]) => ({ part, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function partOf(input: string): string {
  const inModules = input.split('node_modules/').at(-1) ?? input;
  if (inModules === input) return `${input.split('/')[0]}/ (project code)`;
  const [scope, name] = inModules.split('/');
  const pkg = scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? input);
  if (/^@aws-sdk\/(credential-provider-|nested-clients|token-providers)/.test(pkg)) {
    return 'AWS SDK credential chain (@aws-sdk/credential-provider-*, nested-clients, token-providers)';
  }
  if (/^@aws-sdk\/client-/.test(pkg)) return `${pkg} (service client)`;
  if (pkg.startsWith('@smithy/') || pkg.startsWith('@aws-sdk/') || pkg.startsWith('@aws/')) {
    return pkg === '@smithy/core' || pkg === '@aws-sdk/core'
      ? pkg
      : 'other SDK runtime (@smithy/*, @aws-sdk/*)';
  }
  return pkg;
}

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The repository root (this file lives in infra/); in the installed package, its dist/ folder. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where `npm run build` puts the prebuilt Lambda bundles, one folder each (dist/lambda/ in the package). */
export const PREBUILT_BUNDLES = join(REPO_ROOT, 'lambda');

/** The Node.js version the bundles target: the same as the pinned Lambda runtime (nodejs24.x). */
export const BUNDLE_TARGET = 'node24';

/** The rule's Lambda entry point, bundled on its own so the bundle holds only what the rule calls. */
export const RULE_ENTRY = join(REPO_ROOT, 'rule', 'handler.ts');
/** The migration function's entry point, invoked by the remediation Automation document. */
export const MIGRATION_ENTRY = join(REPO_ROOT, 'remediation', 'handler.ts');

/**
 * esbuild settings for every function: one minified ESM file (.mjs) with a source map, the AWS SDK clients
 * bundled (`externalModules: []`) so only the commands the code imports are shipped, instead of the whole
 * SDK the runtime provides at whatever version it has that day. Bundling runs the locally installed esbuild:
 * no Docker. The bundles contain no CommonJS `require`, so no createRequire banner is needed (the infra tests
 * check this).
 *
 * @see https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_nodejs-readme.html
 */
export const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: BUNDLE_TARGET,
  minify: true,
  sourceMap: true,
  // File and line numbers are enough for stack traces; the sources themselves would triple the asset.
  sourcesContent: false,
  externalModules: [],
  // ES module builds of the SDK let esbuild drop what is not imported.
  mainFields: ['module', 'main'],
  // No metafile: it would ship in the function's zip (700 KB). bench/rule-bundle.ts builds one to see where the bytes go.
};

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from './bundling.js';
import { conformancePackTemplate } from './conformance-pack.js';
import { readSettings } from './settings.js';

// `npm run --silent conformance-pack > pack.yaml`: the template on stdout, problems on stderr. Settings come
// from the same CDK context (cdk.json) the stacks use, so the pack and the stacks agree. `-- --organization`
// prints the variant for put-organization-conformance-pack (the organization stack's function, no remediation).
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--organization');
if (unknown.length > 0) {
  process.stderr.write(
    `conformance-pack: unknown argument ${unknown.join(' ')}; the only one is --organization\n`,
  );
  process.exit(2);
}
const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
  context?: Record<string, unknown>;
};
const read = readSettings((key) => cdkJson.context?.[key], Object.keys(cdkJson.context ?? {}));
if (!read.ok) {
  for (const problem of read.problems) process.stderr.write(`conformance-pack: ${problem}\n`);
  process.exitCode = 1;
} else {
  const organization = args.includes('--organization');
  process.stdout.write(stringify(conformancePackTemplate(read.settings, { organization }), { lineWidth: 0 }));
}

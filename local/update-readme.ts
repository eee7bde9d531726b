// `npm run docs`: regenerates the README's parameter table from rule/parameters.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withParameterTable } from '../rule/parameters-table.js';
import { REPO_ROOT } from './python-env.js';

const path = join(REPO_ROOT, 'README.md');
const before = readFileSync(path, 'utf8');
const after = withParameterTable(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(
  after === before ? 'README.md parameter table is up to date\n' : 'README.md parameter table updated\n',
);

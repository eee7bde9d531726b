// `npm run docs`: regenerates the README's parameter table from rule/parameters.ts and its Performance table
// from bench/reference.json (after `npm run bench -- --write-reference`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withPerformanceTable } from '../bench/performance-summary.js';
import type { BenchResult } from '../bench/report.js';
import { withParameterTable } from '../rule/parameters-table.js';
import { REPO_ROOT } from './python-env.js';

const path = join(REPO_ROOT, 'README.md');
const reference = JSON.parse(readFileSync(join(REPO_ROOT, 'bench', 'reference.json'), 'utf8')) as BenchResult;
const before = readFileSync(path, 'utf8');
const after = withPerformanceTable(withParameterTable(before), reference);
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'README.md tables are up to date\n' : 'README.md tables updated\n');

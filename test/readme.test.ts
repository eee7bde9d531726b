import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PERFORMANCE_TABLE_END,
  PERFORMANCE_TABLE_START,
  performanceTableMarkdown,
} from '../bench/performance-summary.js';
import type { BenchResult } from '../bench/report.js';
import { REPO_ROOT } from '../local/python-env.js';
import {
  PARAMETER_TABLE_END,
  PARAMETER_TABLE_START,
  parameterTableMarkdown,
} from '../rule/parameters-table.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('documents exactly the rule parameters the code accepts (run `npm run docs` after changing them)', () => {
    const start = readme.indexOf(PARAMETER_TABLE_START);
    const end = readme.indexOf(PARAMETER_TABLE_END) + PARAMETER_TABLE_END.length;
    expect(start).toBeGreaterThanOrEqual(0);
    expect(readme.slice(start, end)).toBe(parameterTableMarkdown());
  });

  it('quotes the Performance figures as bench/reference.json records them (run `npm run docs` after re-recording)', () => {
    const reference = JSON.parse(
      readFileSync(join(REPO_ROOT, 'bench', 'reference.json'), 'utf8'),
    ) as BenchResult;
    const start = readme.indexOf(PERFORMANCE_TABLE_START);
    const end = readme.indexOf(PERFORMANCE_TABLE_END) + PERFORMANCE_TABLE_END.length;
    expect(start).toBeGreaterThanOrEqual(0);
    const table = performanceTableMarkdown(reference);
    expect(readme.slice(start, end)).toBe(table);
    // The memory (rule and migration) and throttling figures the reliability work is judged by are among them.
    expect(table).toMatch(/sweep of 20,000 users with maximal inline policies: peak RSS/);
    expect(table).toMatch(/migration of one user among 20,000 with maximal inline policies: peak RSS/);
    expect(table).toMatch(/at 30% throttled/);
  });

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});

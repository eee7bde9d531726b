import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});

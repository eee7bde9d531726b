import { RULE_PARAMETERS } from './parameters.js';

/** Marks the README's generated parameter table, kept equal to RULE_PARAMETERS by a test. */
export const PARAMETER_TABLE_START =
  '<!-- parameters:start (generated from rule/parameters.ts by `npm run docs`) -->';
export const PARAMETER_TABLE_END = '<!-- parameters:end -->';

/** The README's table of rule parameters, built from the one definition the code uses. */
export function parameterTableMarkdown(): string {
  const rows = Object.entries(RULE_PARAMETERS).map(
    ([name, p]) =>
      `| \`${name}\` | ${p.default === '' ? '(empty)' : `\`${p.default}\``} | ${p.description} |`,
  );
  return [
    PARAMETER_TABLE_START,
    '| Parameter | Default | Meaning |',
    '| --- | --- | --- |',
    ...rows,
    PARAMETER_TABLE_END,
  ].join('\n');
}

/** Replaces the generated table in a README's text (or returns it unchanged if the markers are missing). */
export function withParameterTable(readme: string): string {
  const start = readme.indexOf(PARAMETER_TABLE_START);
  const end = readme.indexOf(PARAMETER_TABLE_END);
  if (start < 0 || end < start) return readme;
  return readme.slice(0, start) + parameterTableMarkdown() + readme.slice(end + PARAMETER_TABLE_END.length);
}

import type { BenchResult, Target } from './report.js';

/** Marks the README's generated Performance table, kept equal to bench/reference.json by a test. */
export const PERFORMANCE_TABLE_START =
  '<!-- performance:start (generated from bench/reference.json by `npm run docs`) -->';
export const PERFORMANCE_TABLE_END = '<!-- performance:end -->';

/**
 * The benchmark targets the README quotes: the sweep against a per-user scan, the change trigger, the bundle,
 * memory at scale and throttling. The rest (group design, apply, remediation) is in docs/performance.md.
 */
const QUOTED = [
  /^sweep of 5,000 users: (IAM calls vs per-user scan|wall time vs per-user scan)$/,
  /^change notification: /,
  /^rule bundle size$/,
  /peak RSS$/,
  /throttled$/,
];

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** The README's Performance table, built from the recorded benchmark (`npm run bench -- --write-reference`). */
export function performanceTableMarkdown(reference: Pick<BenchResult, 'targets'>): string {
  const quoted: Target[] = reference.targets.filter((t) => QUOTED.some((q) => q.test(t.name)));
  return [
    PERFORMANCE_TABLE_START,
    '| Measured | Target | Result |',
    '| --- | --- | --- |',
    ...quoted.map(
      (t) => `| ${cell(t.name)} | ${cell(t.target)} | ${cell(t.measured)}${t.met ? '' : ' (missed)'} |`,
    ),
    PERFORMANCE_TABLE_END,
  ].join('\n');
}

/** Replaces the generated table in a README's text (or returns it unchanged if the markers are missing). */
export function withPerformanceTable(readme: string, reference: Pick<BenchResult, 'targets'>): string {
  const start = readme.indexOf(PERFORMANCE_TABLE_START);
  const end = readme.indexOf(PERFORMANCE_TABLE_END);
  if (start < 0 || end < start) return readme;
  return (
    readme.slice(0, start) +
    performanceTableMarkdown(reference) +
    readme.slice(end + PERFORMANCE_TABLE_END.length)
  );
}

import * as z from 'zod';
import { parseRuleParameters, RULE_PARAMETERS, type RuleParameterName } from '../rule/parameters.js';

/** How often the periodic sweep runs: the values AWS Config accepts for MaximumExecutionFrequency. */
export const PERIODIC_FREQUENCIES = [
  'One_Hour',
  'Three_Hours',
  'Six_Hours',
  'Twelve_Hours',
  'TwentyFour_Hours',
] as const;
export type PeriodicFrequency = (typeof PERIODIC_FREQUENCIES)[number];

/** The rule parameters as AWS Config passes them: a JSON object of strings, names from RULE_PARAMETERS. */
export type RuleParameterValues = Partial<Record<RuleParameterName, string>>;

/** Everything a deployment can choose, with the defaults a cautious team would pick. */
export interface DeploymentSettings {
  /** @default 'iam-user-no-direct-policies' */
  readonly ruleName: string;
  /** @default 'TwentyFour_Hours' */
  readonly periodicFrequency: PeriodicFrequency;
  /** Values for the rule's parameters; unset ones take their defaults from RULE_PARAMETERS. */
  readonly ruleParameters: RuleParameterValues;
  /** Remediate without an operator: off unless asked for. @default false */
  readonly automaticRemediation: boolean;
  /** An SNS topic the alarms notify. @default - alarms only */
  readonly alarmTopicArn: string | undefined;
  /**
   * Account mode: leave the Config rule to a conformance pack (`npm run conformance-pack`), keeping the function,
   * runbook and roles it uses, so that no user is evaluated or remediated twice. @default false
   */
  readonly ruleFromConformancePack: boolean;
  /** Organization mode: accounts the organization rule leaves out. @default [] */
  readonly excludedAccounts: readonly string[];
  /** Organization mode: whether the StackSet is created as the delegated administrator. @default 'DELEGATED_ADMIN' */
  readonly stackSetCallAs: 'SELF' | 'DELEGATED_ADMIN';
}

/** Config rule names: 1 to 128 characters; this project keeps to letters, digits, '-' and '_'. */
const CONFIG_RULE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;

/** `-c key=value` arrives as a string; cdk.json may hold booleans, numbers or lists. */
const contextString = z.union([z.string(), z.boolean(), z.number()]).transform((v) => String(v).trim());
const contextBoolean = contextString.pipe(
  z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true'),
);
const contextList = z
  .union([z.array(contextString), contextString])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''));

/**
 * The CDK context keys the app reads. Rule parameters use their own names (`-c exemptUserNames=breakglass`).
 *
 * @see https://docs.aws.amazon.com/cdk/v2/guide/context.html
 */
export const DeploymentContextSchema = z.object({
  ruleName: contextString
    .pipe(z.string().regex(CONFIG_RULE_NAME, 'must be 1-128 letters, digits, - or _'))
    .optional(),
  periodicFrequency: contextString.pipe(z.enum(PERIODIC_FREQUENCIES)).optional(),
  automaticRemediation: contextBoolean.optional(),
  ruleFromConformancePack: contextBoolean.optional(),
  alarmTopicArn: contextString
    .pipe(z.union([z.literal(''), z.string().regex(SNS_TOPIC_ARN, 'must be an SNS topic ARN')]))
    .optional(),
  excludedAccounts: contextList
    .pipe(z.array(z.string().regex(/^\d{12}$/, 'each entry must be a 12-digit account ID')))
    .optional(),
  stackSetCallAs: contextString.pipe(z.enum(['SELF', 'DELEGATED_ADMIN'])).optional(),
  ...Object.fromEntries(
    Object.keys(RULE_PARAMETERS).map((name) => [name, contextString.optional()] as const),
  ),
});

/**
 * Context keys that belong to the CDK itself, not to this app: feature flags (`@aws-cdk/...`), the CLI's and
 * the library's own switches (`aws:cdk:...`, `aws-cdk:...`), cached lookups (`availability-zones:account=...`,
 * anything with a colon), and the CLI's acknowledged notices in cdk.json.
 *
 * @see https://docs.aws.amazon.com/cdk/v2/guide/context.html
 */
export function isCdkContextKey(key: string): boolean {
  return key.startsWith('@') || key.includes(':') || CDK_PLAIN_CONTEXT_KEYS.has(key);
}
const CDK_PLAIN_CONTEXT_KEYS = new Set(['acknowledged-issue-numbers']);

/** Every context key this app reads. */
export const DEPLOYMENT_CONTEXT_KEYS: readonly string[] = Object.keys(DeploymentContextSchema.shape);

/**
 * One problem per context key that is neither the CDK's nor one this app reads: a misspelt setting of a
 * security control must stop synthesis, not deploy the rule without it (`exemptUsernames` would exempt no one).
 */
export function unknownContextKeyProblems(keys: readonly string[]): string[] {
  const known = new Set(DEPLOYMENT_CONTEXT_KEYS);
  return keys
    .filter((key) => !known.has(key) && !isCdkContextKey(key))
    .map((key) => {
      const near = closestKey(key, DEPLOYMENT_CONTEXT_KEYS);
      return `context "${key}": unknown setting${near !== undefined ? `; did you mean "${near}"?` : ''} (known: ${DEPLOYMENT_CONTEXT_KEYS.join(', ')})`;
    });
}

/** The known key nearest to `key` (same letters in another case, or at most a third of them edited). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const sameLetters = known.find((k) => k.toLowerCase() === key.toLowerCase());
  if (sameLetters !== undefined) return sameLetters;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (
      distance <= Math.max(2, Math.floor(candidate.length / 3)) &&
      (best === undefined || distance < best.distance)
    )
      best = { key: candidate, distance };
  }
  return best?.key;
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The settings, or the problems that stop a deployment (each names the context key). */
export type SettingsResult =
  | { readonly ok: true; readonly settings: DeploymentSettings }
  | { readonly ok: false; readonly problems: readonly string[]; readonly settings: DeploymentSettings };

/** The settings with every default, used when nothing is configured. */
export const DEFAULT_SETTINGS: DeploymentSettings = {
  ruleName: 'iam-user-no-direct-policies',
  periodicFrequency: 'TwentyFour_Hours',
  ruleParameters: {},
  automaticRemediation: false,
  ruleFromConformancePack: false,
  alarmTopicArn: undefined,
  excludedAccounts: [],
  stackSetCallAs: 'DELEGATED_ADMIN',
};

/**
 * Reads the deployment settings from CDK context values. `keys` are every context key set (cdk.json, `-c`),
 * so that unknown ones are problems too. Problems are returned, not thrown, so the app can report each of
 * them as a synthesis error on the stacks (the CDK way) instead of a stack trace.
 */
export function readSettings(
  context: (key: string) => unknown,
  keys: readonly string[] = [],
): SettingsResult {
  const raw = Object.fromEntries(
    DEPLOYMENT_CONTEXT_KEYS.map((key) => [key, context(key)] as const).filter(([, v]) => v !== undefined),
  );
  const unknownKeys = unknownContextKeyProblems(keys);
  const parsed = DeploymentContextSchema.safeParse(raw);
  if (!parsed.success || unknownKeys.length > 0) {
    const problems = [
      ...unknownKeys,
      ...(parsed.error?.issues.map((i) => `context "${i.path.join('.')}": ${i.message}`) ?? []),
    ];
    return { ok: false, problems, settings: DEFAULT_SETTINGS };
  }
  const c = parsed.data as z.infer<typeof DeploymentContextSchema> & Record<string, string | undefined>;
  const ruleParameters: RuleParameterValues = {};
  for (const name of Object.keys(RULE_PARAMETERS) as RuleParameterName[]) {
    const value = c[name];
    if (value !== undefined) ruleParameters[name] = value;
  }
  const settings: DeploymentSettings = {
    ruleName: c.ruleName ?? DEFAULT_SETTINGS.ruleName,
    periodicFrequency: c.periodicFrequency ?? DEFAULT_SETTINGS.periodicFrequency,
    ruleParameters,
    automaticRemediation: c.automaticRemediation ?? false,
    ruleFromConformancePack: c.ruleFromConformancePack ?? false,
    alarmTopicArn: c.alarmTopicArn === '' ? undefined : c.alarmTopicArn,
    excludedAccounts: c.excludedAccounts ?? [],
    stackSetCallAs: c.stackSetCallAs ?? DEFAULT_SETTINGS.stackSetCallAs,
  };
  const problem = ruleParameterProblem(ruleParameters);
  return problem === undefined
    ? { ok: true, settings }
    : { ok: false, problems: [problem], settings: { ...settings, ruleParameters: {} } };
}

/** Validates rule parameter values exactly as the rule will at run time; undefined when they are valid. */
export function ruleParameterProblem(values: RuleParameterValues): string | undefined {
  try {
    parseRuleParameters(values);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The Config rule's InputParameters: every parameter with its configured value or its default, so the
 * console shows all of them and an operator can see what is in force. Empty values are left out, as
 * AWS Config treats a missing parameter and an empty one alike for this rule.
 */
export function ruleInputParameters(values: RuleParameterValues): Record<string, string> {
  const input: Record<string, string> = {};
  for (const [name, spec] of Object.entries(RULE_PARAMETERS) as [RuleParameterName, { default: string }][]) {
    const value = values[name] ?? spec.default;
    if (value !== '') input[name] = value;
  }
  return input;
}

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
  alarmTopicArn: undefined,
  excludedAccounts: [],
  stackSetCallAs: 'DELEGATED_ADMIN',
};

/**
 * Reads the deployment settings from CDK context values. Problems are returned, not thrown, so the app can
 * report each of them as a synthesis error on the stacks (the CDK way) instead of a stack trace.
 */
export function readSettings(context: (key: string) => unknown): SettingsResult {
  const raw = Object.fromEntries(
    Object.keys(DeploymentContextSchema.shape)
      .map((key) => [key, context(key)] as const)
      .filter(([, v]) => v !== undefined),
  );
  const parsed = DeploymentContextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `context "${i.path.join('.')}": ${i.message}`);
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

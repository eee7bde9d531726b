// zod/mini: the same library with a tree-shakable API, which keeps the Lambda bundle small.
import * as z from 'zod/mini';

/** Thrown when an event, a configuration item or an API answer does not have the shape AWS documents. */
export class InputError extends Error {
  override name = 'InputError';
}

/** The kind of a value, for "expected …, got …" (never the value itself: it may be a policy document). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'nothing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The words for an issue the schema gives no message of its own: what was expected, and the kind of what
 * came (never the value). zod/mini carries no message texts (they would weigh in the bundle) and would say
 * only "Invalid input". Passed as the per-parse error map, so schema-given messages ("must be a 12-digit AWS
 * account ID") still win.
 *
 * @see https://zod.dev/error-customization
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const got = 'input' in issue ? `, got ${kindOf(issue.input)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'array' || issue.expected === 'object' ? `an ${issue.expected}` : `a ${issue.expected}`}${got}`;
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `expected at least ${String(issue.minimum)} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}`;
    case 'invalid_format':
      return issue.format === 'datetime'
        ? 'expected an ISO 8601 timestamp with a time zone'
        : `expected the ${issue.format} format`;
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator !== undefined)
        return `expected ${String(issue.discriminator)} to be one of the documented values`;
      // What each alternative expected: "expected a boolean or "true", "false"".
      const alternatives = (issue.errors ?? [])
        .map((branch) => branch[0]?.message)
        .filter((m): m is string => m?.startsWith('expected ') === true)
        .map((m) => m.replace(/^expected (one of )?/, '').replace(/, got .*$/, ''));
      return alternatives.length > 0
        ? `expected ${alternatives.join(' or ')}${got}`
        : 'matches none of the expected shapes';
    }
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    default:
      return undefined;
  }
}

/** The parse options every edge parser uses: messages that say what was expected. */
export const PARSE_OPTIONS = { error: issueMessage } as const;

/** Formats zod issues as "field.path: problem; …" so the operator sees which field was wrong. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Parses `value` with `schema`, throwing an InputError that starts with `what`. */
export function parseOrThrow<T extends z.core.$ZodType>(
  schema: T,
  value: unknown,
  what: string,
): z.output<T> {
  const result = z.safeParse(schema, value, PARSE_OPTIONS);
  if (!result.success) throw new InputError(`${what} is malformed: ${describeIssues(result.error)}`);
  return result.data;
}

/** A string field that holds JSON, parsed in place (Config sends invokingEvent and ruleParameters so). */
const jsonString = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
      return z.NEVER;
    }
  }),
);

const isoTimestamp = z.iso.datetime({ offset: true });

/** The statuses Config records for an item. @see https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigurationItem.html */
export const ConfigurationItemStatusSchema = z.enum([
  'OK',
  'ResourceDiscovered',
  'ResourceNotRecorded',
  'ResourceDeleted',
  'ResourceDeletedNotRecorded',
]);

/** Statuses of a resource that no longer exists: its evaluation is NOT_APPLICABLE. */
export const DELETED_STATUSES: ReadonlySet<string> = new Set([
  'ResourceDeleted',
  'ResourceDeletedNotRecorded',
]);

/**
 * A configuration item as a change notification carries it. `configuration` is left unparsed here: it is
 * parsed by resource type (see iam-user-configuration.ts) once the item is known to be an IAM user that exists.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_example-events.html
 */
export const ConfigurationItemSchema = z.object({
  resourceType: z.string().check(z.minLength(1)),
  resourceId: z.string().check(z.minLength(1)),
  resourceName: z.nullish(z.string()),
  awsAccountId: z.optional(z.string()),
  configurationItemCaptureTime: isoTimestamp,
  configurationItemStatus: ConfigurationItemStatusSchema,
  configuration: z.nullish(z.unknown()),
});
export type ConfigurationItem = z.infer<typeof ConfigurationItemSchema>;

/** A change to a recorded resource, carrying the whole item. */
export const ConfigurationItemChangeNotificationSchema = z.object({
  messageType: z.literal('ConfigurationItemChangeNotification'),
  configurationItem: ConfigurationItemSchema,
  notificationCreationTime: isoTimestamp,
  recordVersion: z.optional(z.string()),
});

/**
 * A change whose item exceeded the notification size: only a summary is sent, and the rule fetches the
 * item with GetResourceConfigHistory.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_example-events.html
 */
export const OversizedConfigurationItemChangeNotificationSchema = z.object({
  messageType: z.literal('OversizedConfigurationItemChangeNotification'),
  configurationItemSummary: z.object({
    resourceType: z.string().check(z.minLength(1)),
    resourceId: z.string().check(z.minLength(1)),
    resourceName: z.nullish(z.string()),
    configurationItemCaptureTime: isoTimestamp,
    configurationItemStatus: ConfigurationItemStatusSchema,
    changeType: z.optional(z.string()),
  }),
  notificationCreationTime: isoTimestamp,
  recordVersion: z.optional(z.string()),
});

/** The periodic trigger: no item, the rule reads the account itself. */
export const ScheduledNotificationSchema = z.object({
  messageType: z.literal('ScheduledNotification'),
  awsAccountId: z.optional(z.string()),
  notificationCreationTime: isoTimestamp,
  recordVersion: z.optional(z.string()),
});

/** The three message types a custom rule with change and periodic triggers receives, told apart by messageType. */
export const InvokingEventSchema = z.discriminatedUnion('messageType', [
  ConfigurationItemChangeNotificationSchema,
  OversizedConfigurationItemChangeNotificationSchema,
  ScheduledNotificationSchema,
]);

/**
 * The event AWS Config sends a custom Lambda rule. `invokingEvent` is a JSON string, parsed here;
 * `ruleParameters` stays a string and is parsed by parseRuleParameters, which gives parameter-level errors.
 *
 * @example see test/fixtures/config-events/create-iam-user.json (a real change notification)
 * @see https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_example-events.html
 */
export const ConfigRuleEventSchema = z.object({
  version: z.optional(z.string()),
  invokingEvent: z.pipe(jsonString, InvokingEventSchema),
  ruleParameters: z.optional(z.string()),
  resultToken: z.string().check(z.minLength(1)),
  eventLeftScope: z._default(z.optional(z.boolean()), false),
  executionRoleArn: z.optional(z.string()),
  configRuleArn: z.string().check(z.minLength(1)),
  configRuleName: z.string().check(z.minLength(1), z.maxLength(128)),
  configRuleId: z.optional(z.string()),
  accountId: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account ID')),
  evaluationMode: z.optional(z.enum(['DETECTIVE', 'PROACTIVE'])),
});
export type ConfigRuleEvent = z.infer<typeof ConfigRuleEventSchema>;

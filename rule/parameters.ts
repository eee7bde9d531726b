// zod/mini: the same library with a tree-shakable API, which keeps the Lambda bundle small.
import * as z from 'zod/mini';
import { PARSE_OPTIONS } from './schemas/config-rule-event.js';

/**
 * The rule's parameters: the single source of truth for their names, defaults and meaning.
 * AWS Config passes them as `InputParameters`, a JSON object of strings; the CDK app, the conformance
 * pack, the README and the CLI all read this table.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_nodejs.html
 */
export const RULE_PARAMETERS = {
  exemptUserNames: {
    default: '',
    description:
      'Comma-separated IAM user names that are exempt (for example break-glass users). Matched without regard to case, as IAM does.',
  },
  exemptPathPrefixes: {
    default: '',
    description:
      'Comma-separated IAM path prefixes whose users are exempt, each starting and ending with "/" (e.g. "/break-glass/").',
  },
  exemptionTagKey: {
    default: '',
    description:
      'A user carrying this tag with a non-empty value is exempt; the value is the documented reason and appears in the annotation. An empty value exempts nothing.',
  },
  checkManagedPolicies: {
    default: 'true',
    description: '"true" or "false": whether managed policies attached to a user make it NON_COMPLIANT.',
  },
  checkInlinePolicies: {
    default: 'true',
    description: '"true" or "false": whether inline user policies make a user NON_COMPLIANT.',
  },
  requiredGroupName: {
    default: '',
    description:
      'When set, a user who is not a member of this IAM group is NON_COMPLIANT (the common-group practice).',
  },
  exemptSesSmtpUsers: {
    default: 'true',
    description:
      '"true" or "false": exempt the users Amazon SES creates for SMTP credentials (named ses-smtp-user.*), which carry an inline sending policy by design, as Security Hub IAM.2 does.',
  },
} as const;

export type RuleParameterName = keyof typeof RULE_PARAMETERS;

/** IAM name rules, as the IAM API reference gives them. */
export const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;
export const IAM_GROUP_NAME = /^[\w+=,.@-]{1,128}$/;
/** Tag keys: letters, numbers, spaces and _ . : / = + - @, up to 128 characters; not starting with aws:. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const IAM_PATH_PREFIX = /^\/([\x21-\x7e]*\/)?$/;

/** The parsed, typed parameters every decision takes. */
export interface RuleParameters {
  readonly exemptUserNames: readonly string[];
  readonly exemptPathPrefixes: readonly string[];
  readonly exemptionTagKey: string | undefined;
  readonly checkManagedPolicies: boolean;
  readonly checkInlinePolicies: boolean;
  readonly requiredGroupName: string | undefined;
  readonly exemptSesSmtpUsers: boolean;
}

const commaList = (s: string): string[] =>
  s
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

const booleanString = z.pipe(
  z.pipe(
    z.string(),
    z.transform((s: string) => s.trim().toLowerCase()),
  ),
  z.pipe(
    z.enum(['true', 'false'], { error: 'must be "true" or "false"' }),
    z.transform((s) => s === 'true'),
  ),
);

const nameList = (pattern: RegExp, what: string) =>
  z.pipe(
    z.pipe(z.string(), z.transform(commaList)),
    z.array(z.string().check(z.regex(pattern, `each entry must be a valid ${what}`))),
  );

const optionalName = (pattern: RegExp, what: string) =>
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((s: string) => s.trim()),
    ),
    z.pipe(
      z.union([z.literal(''), z.string().check(z.regex(pattern, `must be a valid ${what}`))]),
      z.transform((s) => (s === '' ? undefined : s)),
    ),
  );

const RuleParametersSchema = z
  .strictObject(
    {
      exemptUserNames: z._default(nameList(IAM_USER_NAME, 'IAM user name'), []),
      exemptPathPrefixes: z._default(
        nameList(IAM_PATH_PREFIX, 'IAM path prefix that starts and ends with "/"'),
        [],
      ),
      exemptionTagKey: z.optional(optionalName(TAG_KEY, 'tag key')),
      checkManagedPolicies: z._default(booleanString, true),
      checkInlinePolicies: z._default(booleanString, true),
      requiredGroupName: z.optional(optionalName(IAM_GROUP_NAME, 'IAM group name')),
      exemptSesSmtpUsers: z._default(booleanString, true),
    },
    {
      // A misspelt parameter would otherwise be ignored silently and exempt (or flag) the wrong users.
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown parameter(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; known: ${Object.keys(RULE_PARAMETERS).join(', ')}`
          : undefined,
    },
  )
  .check(
    z.refine((p) => p.checkManagedPolicies || p.checkInlinePolicies || p.requiredGroupName !== undefined, {
      message:
        'checkManagedPolicies and checkInlinePolicies are both "false" and no requiredGroupName is set: the rule would check nothing',
    }),
  );

/** Raised for any rule parameter that is not valid; the message names the parameter and the problem. */
export class RuleParameterError extends Error {
  override name = 'RuleParameterError';
}

/**
 * Parses rule parameters from the event's `ruleParameters` (a JSON string) or an already-parsed object.
 * Every value must be a string, as AWS Config passes them; an unknown name or invalid value throws.
 */
export function parseRuleParameters(input: string | Record<string, unknown> | undefined): RuleParameters {
  let raw: unknown = input ?? {};
  if (typeof raw === 'string') {
    if (raw.trim() === '') raw = {};
    else {
      try {
        raw = JSON.parse(raw);
      } catch {
        throw new RuleParameterError('rule parameters are not valid JSON');
      }
    }
  }
  const result = z.safeParse(RuleParametersSchema, raw ?? {}, PARSE_OPTIONS);
  if (!result.success) {
    const details = result.error.issues
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
      .join('; ');
    throw new RuleParameterError(`invalid rule parameters: ${details}`);
  }
  const p = result.data;
  return {
    exemptUserNames: p.exemptUserNames,
    exemptPathPrefixes: p.exemptPathPrefixes,
    exemptionTagKey: p.exemptionTagKey,
    checkManagedPolicies: p.checkManagedPolicies,
    checkInlinePolicies: p.checkInlinePolicies,
    requiredGroupName: p.requiredGroupName,
    exemptSesSmtpUsers: p.exemptSesSmtpUsers,
  };
}

/** The parameters with every default: what the rule applies when Config passes none. */
export const DEFAULT_RULE_PARAMETERS: RuleParameters = parseRuleParameters({});

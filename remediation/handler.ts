import * as z from 'zod';
import { projectIamClient } from '../rule/aws/client-settings.js';
import { jsonLineLogger } from '../rule/log.js';
import { parseRuleParameters, type RuleParameters } from '../rule/parameters.js';
import { parseOrThrow } from '../rule/schemas/config-rule-event.js';
import { RULE_PARAMETERS_ENV } from './function-environment.js';
import { IAM_RESOURCE_ID, type MigrationResult, migrateUserPolicies } from './migrate.js';

// Created once per container. Endpoint and Region come from the SDK's standard configuration (AWS_REGION,
// AWS_ENDPOINT_URL_IAM, ...), so the same code runs against AWS and the local emulator; timeouts and retry
// are the project's (rule/aws/client-settings.ts).
const iam = projectIamClient();
const log = jsonLineLogger();

/**
 * "true"/"false" as the Automation document interpolates a Boolean parameter into a JSON string. No custom
 * message on the enum: the union's message then lists both shapes ('expected a boolean or "true", "false"').
 */
const booleanOrString = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

/**
 * The payload the Automation document's aws:invokeLambdaFunction steps send: the document's own parameter
 * names, so an operator reading either sees the same words. Unknown keys are refused: a misspelt
 * parameter must not be ignored silently.
 *
 * @example { "IAMResourceId": "AIDAEXAMPLEUSERID1234", "GroupName": "", "DryRun": "true" }
 * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-lamb.html
 */
export const RemediationPayloadSchema = z.strictObject({
  IAMResourceId: z
    .string({ error: 'is required (the IAM user ID AWS Config passes as RESOURCE_ID)' })
    .regex(IAM_RESOURCE_ID, 'must be an IAM user ID: 1-128 characters of letters, digits and +=,.@_-'),
  GroupName: z
    .string()
    .regex(
      /^$|^[\w+=,.@-]{1,128}$/,
      'must be empty or an IAM group name: 1-128 characters of letters, digits and +=,.@_-',
    )
    .optional()
    .default(''),
  /** Comma-separated existing groups outside /policy-migration/ that may be joined. */
  JoinableGroups: z
    .string()
    .regex(
      /^$|^[\w+=.@-]{1,128}(,[\w+=.@-]{1,128})*$/,
      'must be empty or comma-separated IAM group names (letters, digits and +=.@_-)',
    )
    .optional()
    .default(''),
  /** Migrate a user the rule exempts (default: refuse it). */
  IncludeExempt: booleanOrString.optional().default(false),
  // Safe by default: without an explicit false, nothing changes.
  DryRun: booleanOrString.optional().default(true),
});

/** The deployed rule's parameters, or an error naming the variable (a stack misconfiguration). */
function deployedRuleParameters(): RuleParameters {
  const raw = process.env[RULE_PARAMETERS_ENV];
  try {
    return parseRuleParameters(raw === undefined || raw.trim() === '' ? {} : raw);
  } catch (error) {
    throw new Error(
      `${RULE_PARAMETERS_ENV} does not hold valid rule parameters: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Raised when the migration refuses a user: the Automation step fails and shows why. */
export class RemediationRefusedError extends Error {
  override name = 'RemediationRefusedError';
}

/**
 * The Lambda function the SSM Automation document invokes. Validates the payload before any IAM call,
 * resolves the user ID, re-reads live state, plans and (unless DryRun) executes. Returns the JSON result;
 * throws on refusal or failure, so that the automation execution fails visibly with the reason. An
 * in-progress result (another run is migrating the user) is returned, not thrown: that run does the work, and
 * failing here would count against the automatic remediation's error threshold for nothing.
 */
export async function handler(payload: unknown): Promise<MigrationResult> {
  try {
    const input = parseOrThrow(RemediationPayloadSchema, payload, 'remediation input');
    const ruleParameters = deployedRuleParameters();
    const joinableGroups = input.JoinableGroups.split(',').filter((n) => n !== '');
    const result = await migrateUserPolicies(
      iam,
      {
        userId: input.IAMResourceId,
        groupName: input.GroupName,
        joinableGroups,
        ruleParameters,
        includeExempt: input.IncludeExempt,
        dryRun: input.DryRun,
      },
      log,
      { holder: `Lambda function ${process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown'}` },
    );
    log({
      event: 'result',
      status: result.status,
      userName: result.user.userName,
      changes: result.changes.length,
    });
    if (result.status === 'refused' || result.status === 'user-not-found') {
      throw new RemediationRefusedError(
        `refused to migrate ${result.user.userName || input.IAMResourceId}, nothing changed: ${(result.reasons ?? []).join(' ')}`,
      );
    }
    return result;
  } catch (error) {
    log({
      event: 'error',
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw error;
  }
}

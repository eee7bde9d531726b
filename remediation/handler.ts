import { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod';
import { jsonLineLogger } from '../rule/log.js';
import { parseOrThrow } from '../rule/schemas/config-rule-event.js';
import { IAM_RESOURCE_ID, type MigrationResult, migrateUserPolicies } from './migrate.js';

// Created once per container. Endpoint and Region come from the SDK's standard configuration (AWS_REGION,
// AWS_ENDPOINT_URL_IAM, ...), so the same code runs against AWS and the local emulator.
const iam = new IAMClient({});
const log = jsonLineLogger();

/** "true"/"false" as the Automation document interpolates a Boolean parameter into a JSON string. */
const booleanOrString = z.union([
  z.boolean(),
  z.enum(['true', 'false'], { error: 'must be true or false' }).transform((s) => s === 'true'),
]);

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
  // Safe by default: without an explicit false, nothing changes.
  DryRun: booleanOrString.optional().default(true),
});

/** Raised when the migration refuses a user: the Automation step fails and shows why. */
export class RemediationRefusedError extends Error {
  override name = 'RemediationRefusedError';
}

/**
 * The Lambda function the SSM Automation document invokes. Validates the payload before any IAM call,
 * resolves the user ID, re-reads live state, plans and (unless DryRun) executes. Returns the JSON result;
 * throws on refusal or failure, so that the automation execution fails visibly with the reason.
 */
export async function handler(payload: unknown): Promise<MigrationResult> {
  try {
    const input = parseOrThrow(RemediationPayloadSchema, payload, 'remediation input');
    const result = await migrateUserPolicies(
      iam,
      { userId: input.IAMResourceId, groupName: input.GroupName, dryRun: input.DryRun },
      log,
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

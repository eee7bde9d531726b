import {
  type ConfigServiceClient,
  type Evaluation,
  type EvaluationResult,
  GetComplianceDetailsByConfigRuleCommand,
  GetResourceConfigHistoryCommand,
  PutEvaluationsCommand,
  type ResourceType,
} from '@aws-sdk/client-config-service';
import { IAM_USER_RESOURCE_TYPE } from '../evaluation.js';
import { OutOfTimeError, stoppedBy } from '../out-of-time.js';
import {
  type ConfigurationItem,
  ConfigurationItemSchema,
  parseOrThrow,
} from '../schemas/config-rule-event.js';
import type { RecordedResult } from '../sweep.js';

/** PutEvaluations accepts at most this many evaluations per call. */
export const PUT_EVALUATIONS_BATCH_SIZE = 100;
/** GetComplianceDetailsByConfigRule returns at most this many results per page. */
export const COMPLIANCE_DETAILS_PAGE_SIZE = 100;
/** How often evaluations Config reports as failed are sent again before the run fails. */
const FAILED_EVALUATION_ATTEMPTS = 3;
/** The result token the console's test invocations send: validate, store nothing. */
export const TEST_MODE_RESULT_TOKEN = 'TESTMODE';

/** Raised when AWS Config keeps refusing some evaluations; every other evaluation was recorded. */
export class EvaluationsRefusedError extends Error {
  override name = 'EvaluationsRefusedError';
  constructor(
    /** The resource IDs whose evaluations Config answered as FailedEvaluations on every attempt. */
    readonly resourceIds: readonly string[],
    attempts: number,
  ) {
    const shown = resourceIds.slice(0, 20).join(', ');
    const more = resourceIds.length > 20 ? ` and ${resourceIds.length - 20} more` : '';
    super(
      `AWS Config did not accept the evaluations of ${resourceIds.length} resource(s) after ${attempts} attempts (every other evaluation was recorded): ${shown}${more}`,
    );
  }
}

/**
 * Reports evaluations in batches of 100, in one call even when there are none. Throttling, timeouts and
 * 5xx answers are retried by the SDK's retry strategy (see client-settings.ts). Every batch is sent before
 * anything is retried: evaluations that Config answers as FailedEvaluations are collected over all batches
 * and sent again (batched again, up to FAILED_EVALUATION_ATTEMPTS rounds), so a resource Config keeps
 * refusing never keeps the others from being recorded; the run then throws, naming the refused ones.
 *
 * Delivery is at least once: PutEvaluations has no idempotency token, so when an answer is lost (a timeout
 * or a reset after Config recorded the batch) the SDK's retry sends the same evaluations again and Config
 * records them twice. Both records carry the same verdict and ordering timestamp, so what Config shows does
 * not change; telling a lost answer from a lost request would take a read per resource.
 *
 * An aborted `abortSignal` (the function's time running out) stops the sending with an OutOfTimeError that
 * says how many evaluations were recorded: the next sweep reads them back and reports only the rest.
 *
 * @see https://docs.aws.amazon.com/config/latest/APIReference/API_PutEvaluations.html
 */
export async function putEvaluations(
  config: ConfigServiceClient,
  resultToken: string,
  evaluations: readonly Evaluation[],
  abortSignal?: AbortSignal,
): Promise<void> {
  const testMode = resultToken === TEST_MODE_RESULT_TOKEN;
  let recorded = 0;
  const send = async (batch: Evaluation[]) => {
    try {
      const answer = await config.send(
        new PutEvaluationsCommand({
          ResultToken: resultToken,
          Evaluations: batch,
          ...(testMode ? { TestMode: true } : {}),
        }),
        { abortSignal },
      );
      const failed = answer.FailedEvaluations ?? [];
      recorded += batch.length - failed.length;
      return failed;
    } catch (error) {
      if (!stoppedBy(abortSignal, error)) throw error;
      const left = evaluations.length - recorded;
      throw new OutOfTimeError(
        `stopped reporting before the function's timeout: ${recorded} of ${evaluations.length} evaluations recorded; the next run reports the other ${left} (Lambda retries the invocation, and the next scheduled sweep reads what is recorded)`,
      );
    }
  };
  // A sweep with nothing new still answers its result token (with no evaluations, which Config does not
  // charge for), so that the rule's status shows a successful evaluation rather than a silent invocation.
  if (evaluations.length === 0) {
    await send([]);
    return;
  }
  let pending: readonly Evaluation[] = evaluations;
  for (let attempt = 1; ; attempt++) {
    const refusedIds = new Set<string>();
    for (let start = 0; start < pending.length; start += PUT_EVALUATIONS_BATCH_SIZE) {
      for (const f of await send(pending.slice(start, start + PUT_EVALUATIONS_BATCH_SIZE))) {
        if (f.ComplianceResourceId !== undefined) refusedIds.add(f.ComplianceResourceId);
      }
    }
    if (refusedIds.size === 0) return;
    pending = pending.filter(
      (e) => e.ComplianceResourceId !== undefined && refusedIds.has(e.ComplianceResourceId),
    );
    if (attempt >= FAILED_EVALUATION_ATTEMPTS || pending.length === 0) {
      throw new EvaluationsRefusedError([...refusedIds], attempt);
    }
  }
}

/**
 * Fetches the configuration item an oversized change notification refers to: the latest one recorded at
 * or before the notification's capture time. Its `configuration` comes back as a JSON string.
 *
 * @see https://docs.aws.amazon.com/config/latest/APIReference/API_GetResourceConfigHistory.html
 */
export async function fetchConfigurationItem(
  config: ConfigServiceClient,
  resourceType: string,
  resourceId: string,
  capturedAt: Date,
  abortSignal?: AbortSignal,
): Promise<ConfigurationItem> {
  const answer = await config.send(
    new GetResourceConfigHistoryCommand({
      resourceType: resourceType as ResourceType,
      resourceId,
      laterTime: capturedAt,
      limit: 1,
    }),
    { abortSignal },
  );
  const item = answer.configurationItems?.[0];
  if (item === undefined) {
    throw new Error(`AWS Config holds no configuration history for ${resourceType} ${resourceId}`);
  }
  let configuration: unknown = null;
  if (item.configuration !== undefined && item.configuration !== null && item.configuration !== '') {
    try {
      configuration = JSON.parse(item.configuration);
    } catch {
      throw new Error(
        `the configuration of ${resourceType} ${resourceId} from GetResourceConfigHistory is not JSON`,
      );
    }
  }
  return parseOrThrow(
    ConfigurationItemSchema,
    {
      resourceType: item.resourceType,
      resourceId: item.resourceId,
      resourceName: item.resourceName,
      awsAccountId: item.accountId,
      configurationItemCaptureTime: item.configurationItemCaptureTime?.toISOString(),
      configurationItemStatus: item.configurationItemStatus,
      configuration,
    },
    `configuration item of ${resourceType} ${resourceId} from GetResourceConfigHistory`,
  );
}

/**
 * Reads the results this rule already holds for IAM users (all three compliance types, so that users
 * already marked NOT_APPLICABLE are not reported again), 100 per call.
 *
 * @see https://docs.aws.amazon.com/config/latest/APIReference/API_GetComplianceDetailsByConfigRule.html
 */
export async function readRecordedResults(
  config: ConfigServiceClient,
  configRuleName: string,
  abortSignal?: AbortSignal,
): Promise<Map<string, RecordedResult>> {
  const results = new Map<string, RecordedResult>();
  let nextToken: string | undefined;
  do {
    const page = await config.send(
      new GetComplianceDetailsByConfigRuleCommand({
        ConfigRuleName: configRuleName,
        ComplianceTypes: ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE'],
        Limit: COMPLIANCE_DETAILS_PAGE_SIZE,
        ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
      }),
      { abortSignal },
    );
    for (const r of page.EvaluationResults ?? []) {
      const recorded = toRecordedResult(r);
      if (recorded !== undefined) results.set(recorded.resourceId, recorded);
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  return results;
}

function toRecordedResult(r: EvaluationResult): RecordedResult | undefined {
  const qualifier = r.EvaluationResultIdentifier?.EvaluationResultQualifier;
  if (qualifier?.ResourceType !== IAM_USER_RESOURCE_TYPE || qualifier.ResourceId === undefined)
    return undefined;
  const compliance = r.ComplianceType;
  if (
    compliance !== 'COMPLIANT' &&
    compliance !== 'NON_COMPLIANT' &&
    compliance !== 'NOT_APPLICABLE' &&
    compliance !== 'INSUFFICIENT_DATA'
  ) {
    return undefined;
  }
  return { resourceId: qualifier.ResourceId, compliance, annotation: r.Annotation };
}

import type { ConfigServiceClient, Evaluation } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';
import { fetchConfigurationItem, putEvaluations, readRecordedResults } from './aws/config.js';
import { readAccountUsers } from './aws/iam.js';
import { evaluateConfigurationItem, type ItemVerdict } from './evaluate-item.js';
import { toEvaluation } from './evaluation.js';
import type { Logger } from './log.js';
import { OutOfTimeError, stoppedBy } from './out-of-time.js';
import { parseRuleParameters, type RuleParameters } from './parameters.js';
import {
  type ConfigRuleEvent,
  ConfigRuleEventSchema,
  DELETED_STATUSES,
  parseOrThrow,
} from './schemas/config-rule-event.js';
import { planSweep } from './sweep.js';

/** The AWS clients the rule calls, for the account the event concerns. */
export interface RuleClients {
  readonly config: ConfigServiceClient;
  readonly iam: IAMClient;
}

export interface RuleDependencies {
  /** Clients for the account named by the event (the organization deployment assumes a role there). */
  readonly clientsFor: (event: ConfigRuleEvent) => Promise<RuleClients> | RuleClients;
  readonly log: Logger;
  /** Aborts shortly before the function's timeout (out-of-time.ts); the run then stops and says how far it got. */
  readonly abortSignal?: AbortSignal;
}

/** What one invocation decided and reported: returned to the caller (the local run and tests read it). */
export interface RuleRunResult {
  readonly messageType: string;
  readonly evaluations: readonly Evaluation[];
  /** Scheduled runs only: users judged, and how many results were unchanged and not reported again. */
  readonly usersEvaluated?: number;
  readonly unchanged?: number;
}

/**
 * Handles one AWS Config rule invocation: parses the event and parameters (throwing, with nothing reported,
 * if either is malformed), decides, and reports with PutEvaluations. A change notification costs exactly one
 * AWS call; an oversized one adds GetResourceConfigHistory; a scheduled one reads the whole account with
 * GetAccountAuthorizationDetails and reports only what changed. When `deps.abortSignal` aborts (the
 * function's time running out) it stops with an OutOfTimeError saying what was recorded; a later run, which
 * reads back what Config holds, reports the rest.
 */
export async function runConfigRule(rawEvent: unknown, deps: RuleDependencies): Promise<RuleRunResult> {
  const event = parseOrThrow(ConfigRuleEventSchema, rawEvent, 'AWS Config rule event');
  const params = parseRuleParameters(event.ruleParameters);
  const clients = await deps.clientsFor(event);
  const message = event.invokingEvent;
  const { abortSignal } = deps;

  let evaluations: Evaluation[];
  let extra: Partial<RuleRunResult> = {};
  switch (message.messageType) {
    case 'ConfigurationItemChangeNotification': {
      const item = message.configurationItem;
      const judged = evaluateConfigurationItem(item, event.eventLeftScope, params);
      logDecision(deps.log, judged, true);
      evaluations = [
        toEvaluation(
          judged.resourceId,
          judged.verdict,
          new Date(item.configurationItemCaptureTime),
          judged.resourceType,
        ),
      ];
      break;
    }
    case 'OversizedConfigurationItemChangeNotification': {
      const summary = message.configurationItemSummary;
      const capturedAt = new Date(summary.configurationItemCaptureTime);
      const judged =
        DELETED_STATUSES.has(summary.configurationItemStatus) || event.eventLeftScope
          ? evaluateConfigurationItem({ ...summary, configuration: null }, event.eventLeftScope, params)
          : evaluateConfigurationItem(
              await whileTimeLasts(abortSignal, 'reading the oversized configuration item', () =>
                fetchConfigurationItem(
                  clients.config,
                  summary.resourceType,
                  summary.resourceId,
                  capturedAt,
                  abortSignal,
                ),
              ),
              false,
              params,
            );
      logDecision(deps.log, judged, true);
      evaluations = [toEvaluation(judged.resourceId, judged.verdict, capturedAt, judged.resourceType)];
      break;
    }
    case 'ScheduledNotification': {
      const sweep = await sweepAccount(clients, event.configRuleName, params, deps.log, abortSignal);
      const at = new Date(message.notificationCreationTime);
      evaluations = sweep.toReport.map((d) => toEvaluation(d.resourceId, d.verdict, at));
      extra = { usersEvaluated: sweep.usersEvaluated, unchanged: sweep.unchanged };
      break;
    }
  }
  await putEvaluations(clients.config, event.resultToken, evaluations, abortSignal);
  deps.log({
    event: 'reported',
    messageType: message.messageType,
    configRuleName: event.configRuleName,
    evaluations: evaluations.length,
    testMode: event.resultToken === 'TESTMODE',
  });
  return { messageType: message.messageType, evaluations, ...extra };
}

async function sweepAccount(
  clients: RuleClients,
  configRuleName: string,
  params: RuleParameters,
  log: Logger,
  abortSignal: AbortSignal | undefined,
) {
  const [users, recorded] = await whileTimeLasts(abortSignal, "reading the account's users", () =>
    Promise.all([
      readAccountUsers(clients.iam, abortSignal),
      readRecordedResults(clients.config, configRuleName, abortSignal),
    ]),
  );
  const decisions = planSweep(users, params, recorded);
  for (const d of decisions) {
    log({
      event: 'evaluation',
      userName: d.userName,
      userId: d.resourceId,
      compliance: d.verdict.compliance,
      reason: d.verdict.annotation,
      change: d.change,
      reported: d.change !== 'unchanged',
    });
  }
  return {
    toReport: decisions.filter((d) => d.change !== 'unchanged'),
    usersEvaluated: users.length,
    unchanged: decisions.filter((d) => d.change === 'unchanged').length,
  };
}

/** Runs a read, turning the SDK's AbortError at the deadline into an OutOfTimeError that says what stopped. */
async function whileTimeLasts<T>(
  abortSignal: AbortSignal | undefined,
  what: string,
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!stoppedBy(abortSignal, error)) throw error;
    throw new OutOfTimeError(
      `stopped ${what} before the function's timeout: nothing was reported; the next run (Lambda retries the invocation) reads again. If every run stops here, the function needs a longer timeout`,
    );
  }
}

function logDecision(log: Logger, judged: ItemVerdict, reported: boolean): void {
  log({
    event: 'evaluation',
    resourceType: judged.resourceType,
    userName: judged.userName,
    userId: judged.resourceId,
    compliance: judged.verdict.compliance,
    reason: judged.verdict.annotation,
    reported,
  });
}

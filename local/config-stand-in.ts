import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small local stand-in for the three AWS Config API actions the rule calls, because moto accepts
 * PutEvaluations only in test mode and serves neither GetComplianceDetailsByConfigRule nor
 * GetResourceConfigHistory for IAM users (see AWS-FACTS.md). It speaks the real wire protocol (AWS JSON 1.1,
 * X-Amz-Target StarlingDoveService.*), so the rule's unchanged SDK code talks to it, and it enforces the
 * documented limits (100 evaluations per PutEvaluations, 256-character annotations, Limit <= 100), so that
 * code which would fail against AWS fails here too.
 *
 * Results are kept per rule. A real result token identifies the rule invocation; here the token IS the rule's
 * name: send events whose `resultToken` equals `configRuleName` and the sweep reads back what it reported.
 *
 * @see https://docs.aws.amazon.com/config/latest/APIReference/API_PutEvaluations.html
 */
export interface ConfigStandIn {
  readonly endpoint: string;
  /** Calls received, by action name. */
  readonly calls: Record<string, number>;
  /** The latest stored result per resource ID for one rule (what Config's dashboards would show). */
  results(ruleName: string): StoredResult[];
  /** Every evaluation accepted by PutEvaluations, in order (stored ones only, not test mode). */
  readonly reported: StoredResult[];
  /** Registers a configuration item that GetResourceConfigHistory will return. */
  addConfigurationItem(item: HistoryItem): void;
  /** Makes the next `times` PutEvaluations calls report this resource as a FailedEvaluation (Infinity: forever). */
  failEvaluationsOf(resourceId: string, times: number): void;
  /**
   * Records the `occurrence`-th PutEvaluations call from now (1 = the next) and then drops its connection
   * without an answer: a lost answer, as a reset or a timeout after Config recorded the batch gives.
   */
  loseAnswerOfPutEvaluations(occurrence: number): void;
  resetCalls(): void;
  stop(): Promise<void>;
}

export interface StoredResult {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly complianceType: string;
  readonly annotation: string | undefined;
  readonly orderingTimestamp: number;
}

/** A configuration item as GetResourceConfigHistory returns it (configuration is serialised for you). */
export interface HistoryItem {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly resourceName?: string;
  readonly accountId?: string;
  readonly configurationItemCaptureTime: Date;
  readonly configurationItemStatus: string;
  readonly configuration: unknown;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const VALID_EVALUATION_TYPES = new Set(['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE']);

/** Starts the stand-in on a free loopback port. */
export async function startConfigStandIn(): Promise<ConfigStandIn> {
  const rules = new Map<string, Map<string, StoredResult>>();
  const latestOf = (rule: string) => {
    const latest = rules.get(rule) ?? new Map<string, StoredResult>();
    rules.set(rule, latest);
    return latest;
  };
  const reported: StoredResult[] = [];
  const history: HistoryItem[] = [];
  const failures = new Map<string, number>();
  const calls: Record<string, number> = {};
  let putEvaluationsUntilLostAnswer = 0;

  const actions: Record<string, (body: Record<string, unknown>) => unknown> = {
    PutEvaluations(body) {
      if (typeof body.ResultToken !== 'string' || body.ResultToken === '') {
        throw new ApiError('InvalidResultTokenException', 'The result token is missing.');
      }
      const evaluations = (body.Evaluations ?? []) as Record<string, unknown>[];
      if (!Array.isArray(evaluations) || evaluations.length > 100) {
        throw new ApiError('ValidationException', 'Evaluations: at most 100 items.');
      }
      const failed: Record<string, unknown>[] = [];
      const accepted: StoredResult[] = [];
      for (const e of evaluations) {
        const annotation = e.Annotation as string | undefined;
        if (annotation !== undefined && (annotation.length < 1 || annotation.length > 256)) {
          throw new ApiError('ValidationException', 'Annotation: length must be between 1 and 256.');
        }
        if (!VALID_EVALUATION_TYPES.has(String(e.ComplianceType))) {
          throw new ApiError(
            'InvalidParameterValueException',
            `ComplianceType ${String(e.ComplianceType)} is not valid.`,
          );
        }
        if (typeof e.ComplianceResourceId !== 'string' || typeof e.OrderingTimestamp !== 'number') {
          throw new ApiError(
            'ValidationException',
            'ComplianceResourceId and OrderingTimestamp are required.',
          );
        }
        const pendingFailures = failures.get(e.ComplianceResourceId) ?? 0;
        if (pendingFailures > 0) {
          failures.set(e.ComplianceResourceId, pendingFailures - 1);
          failed.push(e);
          continue;
        }
        accepted.push({
          resourceType: String(e.ComplianceResourceType),
          resourceId: e.ComplianceResourceId,
          complianceType: String(e.ComplianceType),
          annotation,
          orderingTimestamp: e.OrderingTimestamp,
        });
      }
      if (body.TestMode !== true) {
        const latest = latestOf(body.ResultToken);
        for (const r of accepted) {
          reported.push(r);
          const previous = latest.get(r.resourceId);
          if (previous === undefined || previous.orderingTimestamp <= r.orderingTimestamp)
            latest.set(r.resourceId, r);
        }
      }
      return { FailedEvaluations: failed };
    },

    GetComplianceDetailsByConfigRule(body) {
      if (typeof body.ConfigRuleName !== 'string')
        throw new ApiError('ValidationException', 'ConfigRuleName is required.');
      const limit = body.Limit === undefined || body.Limit === 0 ? 10 : Number(body.Limit);
      if (limit > 100) throw new ApiError('ValidationException', 'Limit: at most 100.');
      const types = (body.ComplianceTypes as string[] | undefined) ?? [];
      const all = [...latestOf(body.ConfigRuleName).values()].filter(
        (r) => types.length === 0 || types.includes(r.complianceType),
      );
      const start = body.NextToken === undefined ? 0 : Number(body.NextToken);
      const page = all.slice(start, start + limit);
      return {
        EvaluationResults: page.map((r) => ({
          EvaluationResultIdentifier: {
            EvaluationResultQualifier: {
              ConfigRuleName: body.ConfigRuleName,
              ResourceType: r.resourceType,
              ResourceId: r.resourceId,
            },
            OrderingTimestamp: r.orderingTimestamp,
          },
          ComplianceType: r.complianceType,
          ...(r.annotation !== undefined ? { Annotation: r.annotation } : {}),
          ResultRecordedTime: r.orderingTimestamp,
          ConfigRuleInvokedTime: r.orderingTimestamp,
        })),
        ...(start + limit < all.length ? { NextToken: String(start + limit) } : {}),
      };
    },

    GetResourceConfigHistory(body) {
      const laterTime = typeof body.laterTime === 'number' ? body.laterTime * 1000 : Number.POSITIVE_INFINITY;
      const matching = history
        .filter((i) => i.resourceType === body.resourceType && i.resourceId === body.resourceId)
        .filter((i) => i.configurationItemCaptureTime.getTime() <= laterTime)
        .sort((a, b) => b.configurationItemCaptureTime.getTime() - a.configurationItemCaptureTime.getTime());
      if (matching.length === 0) {
        throw new ApiError(
          'ResourceNotDiscoveredException',
          `Resource ${String(body.resourceId)} is not discovered.`,
        );
      }
      const limit = typeof body.limit === 'number' && body.limit > 0 ? body.limit : 10;
      return {
        configurationItems: matching.slice(0, limit).map((i) => ({
          resourceType: i.resourceType,
          resourceId: i.resourceId,
          resourceName: i.resourceName,
          accountId: i.accountId,
          configurationItemCaptureTime: i.configurationItemCaptureTime.getTime() / 1000,
          configurationItemStatus: i.configurationItemStatus,
          configuration: i.configuration === null ? null : JSON.stringify(i.configuration),
        })),
      };
    },
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const action = target.replace(/^StarlingDoveService\./, '');
    calls[action] = (calls[action] ?? 0) + 1;
    const send = (status: number, payload: unknown, errorType?: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': `stand-in-${Date.now()}`,
        ...(errorType !== undefined ? { 'x-amzn-errortype': errorType } : {}),
      });
      response.end(JSON.stringify(payload));
    };
    const implementation = actions[action];
    if (implementation === undefined) {
      send(
        400,
        { __type: 'UnknownOperationException', message: `${action} is not served by the stand-in` },
        'UnknownOperationException',
      );
      return;
    }
    try {
      const answer = implementation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      if (action === 'PutEvaluations' && putEvaluationsUntilLostAnswer > 0) {
        if (--putEvaluationsUntilLostAnswer === 0) {
          response.socket?.destroy();
          return;
        }
      }
      send(200, answer);
    } catch (error) {
      const type = error instanceof ApiError ? error.type : 'InternalFailure';
      send(error instanceof ApiError ? 400 : 500, { __type: type, message: (error as Error).message }, type);
    }
  }

  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    reported,
    results: (ruleName) => [...latestOf(ruleName).values()],
    addConfigurationItem: (item) => history.push(item),
    failEvaluationsOf: (resourceId, times) => failures.set(resourceId, times),
    loseAnswerOfPutEvaluations: (occurrence) => {
      putEvaluationsUntilLostAnswer = occurrence;
    },
    resetCalls: () => {
      for (const key of Object.keys(calls)) delete calls[key];
    },
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

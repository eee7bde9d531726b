import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';

/**
 * Settings every AWS SDK client of the project is created with (the rule, the remediation, the CLI).
 *
 * - Timeouts: without them a response that never arrives holds the invocation until Lambda's own timeout,
 *   with no retry inside it. A timed-out request throws TimeoutError, which the SDK's retry strategy counts
 *   as transient and retries. `throwOnRequestTimeout` is needed for requestTimeout to throw at all.
 * - Adaptive retry with SDK_MAX_ATTEMPTS attempts: IAM and Config throttle exactly when several tools scan
 *   one account. A 10,000-user sweep makes about 210 calls; at 30% throttled answers the default 3 attempts
 *   leave each call a 2.7% chance of failing (the sweep fails almost surely), 10 attempts leave 6e-6 per call
 *   (about 0.1% per sweep), and the adaptive client-side rate limiter slows the sending down meanwhile.
 *   Measured with a throttling proxy: see docs/reliability.md and `npm run bench -- --only throttling`.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 * @see https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html
 */
export const SDK_MAX_ATTEMPTS = 10;
/** Time to open a connection (TCP and TLS) before the attempt is abandoned and retried. */
export const SDK_CONNECTION_TIMEOUT_MS = 3_000;
/**
 * Time for one whole request and response. A GetAccountAuthorizationDetails page of 1,000 users with their
 * documents is a few megabytes; IAM answers it in seconds, so 30 s leaves room without holding a lost answer
 * for long: 10 attempts at most of 30 s would still end inside the rule's 5-minute timeout only if most are
 * short, which is what throttling (answered at once) gives.
 */
export const SDK_REQUEST_TIMEOUT_MS = 30_000;
/** A socket silent for this long mid-answer is given up (and the attempt retried). */
export const SDK_SOCKET_IDLE_TIMEOUT_MS = 15_000;

/** Client constructor options shared by every client. */
export const SDK_CLIENT_SETTINGS = {
  retryMode: 'adaptive',
  maxAttempts: SDK_MAX_ATTEMPTS,
  requestHandler: {
    connectionTimeout: SDK_CONNECTION_TIMEOUT_MS,
    requestTimeout: SDK_REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
    socketTimeout: SDK_SOCKET_IDLE_TIMEOUT_MS,
  },
} as const;

/** Renew shared credentials this long before they expire, as the SDK does for its own. */
const CREDENTIAL_RENEWAL_MARGIN_MS = 5 * 60_000;

/**
 * One credential provider for several clients: each SDK client memoizes credentials on its own, so two
 * clients given the same AssumeRole provider would assume the role twice. This one asks the provider once,
 * shares the answer (and the request in flight) until shortly before it expires, and asks again after a
 * failure.
 */
export function sharedCredentials<C extends { readonly expiration?: Date | undefined }>(
  provider: () => Promise<C>,
  now: () => number = Date.now,
): () => Promise<C> {
  let current: Promise<C> | undefined;
  let expiresAt = Number.POSITIVE_INFINITY;
  return async () => {
    if (current === undefined || expiresAt - CREDENTIAL_RENEWAL_MARGIN_MS <= now()) {
      const pending = provider();
      current = pending;
      expiresAt = Number.POSITIVE_INFINITY;
      pending.then(
        (c) => {
          if (current === pending) expiresAt = c.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
        },
        () => {
          if (current === pending) current = undefined;
        },
      );
    }
    return current;
  };
}

/** Raised instead of the SDK's "inspect the hidden field {error}.$response" when an answer cannot be read. */
export class UnreadableAnswerError extends Error {
  override name = 'UnreadableAnswerError';
}

/** The part of a client's middleware stack used here (the SDK's own types differ per client). */
export interface MiddlewareHost {
  readonly middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { clientName?: string; commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Turns an answer the SDK could not deserialize (truncated, cut off by a proxy, not the documented format)
 * into one line naming the call, the HTTP status and what went wrong, after the SDK's retries. The raw body
 * is not included: it may hold policy documents.
 */
export function withReadableErrors<C>(client: C): C {
  (client as unknown as MiddlewareHost).middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (
          !(error instanceof Error) ||
          !('$response' in error) ||
          !/Deserialization error/.test(error.message)
        )
          throw error;
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const service = (context.clientName ?? 'AWS').replace(/Client$/, '');
        const command = (context.commandName ?? 'call').replace(/Command$/, '');
        // The parser's own words (mismatched tags...) stay in `cause`, for --debug.
        throw new UnreadableAnswerError(
          `${service} ${command}: the answer${status !== undefined ? ` (HTTP ${status})` : ''} could not be read as ${service}'s (a wrong endpoint, a proxy in between, or an answer cut off), so nothing was concluded from it; run again`,
          { cause: error },
        );
      }
    },
    { step: 'initialize', name: 'readableDeserializationErrors' },
  );
  return client;
}

/**
 * An IAM client as the project makes one (the rule, the migration, the CLI, the tests' migration workers):
 * SDK_CLIENT_SETTINGS, then `config` (endpoint, Region, credentials), with readable errors.
 */
export function projectIamClient(config: IAMClientConfig = {}): IAMClient {
  return withReadableErrors(new IAMClient({ ...SDK_CLIENT_SETTINGS, ...config }));
}

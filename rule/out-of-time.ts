/**
 * Stopping before Lambda's timeout. A sweep that is killed by the timeout ends with "Task timed out" and no
 * word on how far it got; stopped a little before, it says what it recorded and what is left. What was
 * recorded stays recorded, and the next run (Lambda retries a failed asynchronous invocation twice; the next
 * scheduled sweep in any case) reads what Config holds and reports only the rest, so the work converges.
 */

/** How long before the function's timeout the rule stops: enough to log the error and return. */
export const STOP_BEFORE_TIMEOUT_MS = 10_000;

/** Raised when the rule stopped before the function's timeout; the message says what was done and what is left. */
export class OutOfTimeError extends Error {
  override name = 'OutOfTimeError';
}

/**
 * A signal that aborts STOP_BEFORE_TIMEOUT_MS before the function's timeout, given the time Lambda says is
 * left (`context.getRemainingTimeInMillis()`), or undefined where there is no timeout (the local run, tests).
 * AbortSignal.timeout's timer does not keep the process alive.
 */
export function deadlineSignal(remainingMs: number | undefined): AbortSignal | undefined {
  if (remainingMs === undefined || !Number.isFinite(remainingMs)) return undefined;
  return AbortSignal.timeout(Math.max(0, remainingMs - STOP_BEFORE_TIMEOUT_MS));
}

/** Whether `error` is the SDK giving up a call because `signal` was aborted. */
export function stoppedBy(signal: AbortSignal | undefined, error: unknown): boolean {
  return signal?.aborted === true && error instanceof Error && error.name === 'AbortError';
}

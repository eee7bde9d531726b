import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { IAMClient } from '@aws-sdk/client-iam';

/** AWS calls made through the clients a counter watches, by command name. */
export interface CallCounter {
  readonly byCommand: Record<string, number>;
  total(): number;
  /** Calls to commands whose name matches, e.g. `/^PutEvaluations/`. */
  count(command: RegExp): number;
  reset(): void;
}

/**
 * Counts the calls a client makes with a middleware in the SDK's initialize step, which runs once per
 * `send`, before retries: so a count is what the code asked for, measured rather than reasoned out. A retried
 * call (throttling) still counts once; the emulator does not throttle.
 *
 * @see https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/middleware-stack.html
 */
export function countCalls(...clients: (IAMClient | ConfigServiceClient)[]): CallCounter {
  const byCommand: Record<string, number> = {};
  for (const client of clients) {
    // Both clients share the SDK's middleware stack type up to their input/output unions.
    (client as IAMClient).middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        byCommand[name] = (byCommand[name] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'benchCallCounter' },
    );
  }
  return {
    byCommand,
    total: () => Object.values(byCommand).reduce((a, b) => a + b, 0),
    count: (command) =>
      Object.entries(byCommand)
        .filter(([name]) => command.test(name))
        .reduce((a, [, n]) => a + n, 0),
    reset: () => {
      for (const key of Object.keys(byCommand)) delete byCommand[key];
    },
  };
}

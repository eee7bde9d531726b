import type { IAMClient } from '@aws-sdk/client-iam';

/** The middleware stack surface used here (the SDK's generic types do not line up across versions). */
interface ObservableStack {
  readonly middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<{ output: unknown }>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<{ output: unknown }>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Reports progress while the account is read: one line on stderr per GetAccountAuthorizationDetails page that
 * has more after it. A small account (one page) stays quiet; a large one shows how far the read has got. It
 * observes the calls readAccountUsers makes rather than changing that function.
 */
export function reportReadProgress(iam: IAMClient, write: (line: string) => void): void {
  let users = 0;
  let pages = 0;
  (iam as unknown as ObservableStack).middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'GetAccountAuthorizationDetailsCommand') {
        const page = result.output as { UserDetailList?: unknown[]; IsTruncated?: boolean };
        users += page.UserDetailList?.length ?? 0;
        pages += 1;
        if (page.IsTruncated === true)
          write(`Read ${users} IAM users so far (page ${pages}), reading more...\n`);
        else if (pages > 1) write(`Read ${users} IAM users in ${pages} pages.\n`);
      }
      return result;
    },
    { step: 'initialize', name: 'reportReadProgress' },
  );
}

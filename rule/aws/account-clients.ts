/**
 * Which credentials the rule uses for one event: its own (the event is about the account the function runs
 * in) or a role assumed in the member account the event names (organization deployment).
 */
export type AccountAccess =
  | { readonly kind: 'own'; readonly accountId: string }
  | { readonly kind: 'assumeRole'; readonly accountId: string; readonly roleArn: string };

/** Raised when the rule cannot work out which account's credentials to use; nothing is reported. */
export class AccountAccessError extends Error {
  override name = 'AccountAccessError';
}

const LAMBDA_FUNCTION_ARN = /^arn:(aws[a-z-]*):lambda:[a-z0-9-]+:(\d{12}):function:[\w-]{1,64}(:[\w$-]+)?$/;
/** IAM role names: up to 64 characters of letters, digits and `+=,.@_-`. */
const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;
/** Shows up in the member account's CloudTrail as the session that made the rule's calls. */
export const MEMBER_ROLE_SESSION_NAME = 'iam-user-no-direct-policies-rule';
/**
 * The partition and account a function runs in, from the ARN Lambda passes in the invocation context
 * (`context.invokedFunctionArn`, possibly with a version or alias qualifier).
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
export function functionLocation(invokedFunctionArn: string): { partition: string; accountId: string } {
  const match = LAMBDA_FUNCTION_ARN.exec(invokedFunctionArn);
  if (match === null || match[1] === undefined || match[2] === undefined) {
    throw new AccountAccessError(`"${invokedFunctionArn}" is not a Lambda function ARN`);
  }
  return { partition: match[1], accountId: match[2] };
}

/**
 * Decides whose credentials serve an event. The event's account is the function's own: its execution role.
 * Another account (an organization rule invoked from a member account): the member role of that name in
 * that account, which trusts only this function's role. Another account without a member role configured
 * (a single-account deployment) is refused: evaluating with the wrong account's credentials would report
 * results to the wrong place.
 *
 * @see https://docs.aws.amazon.com/config/latest/developerguide/config-rule-multi-account-deployment.html
 */
export function accountAccessFor(
  eventAccountId: string,
  invokedFunctionArn: string,
  memberRoleName: string | undefined,
): AccountAccess {
  if (!ACCOUNT_ID.test(eventAccountId)) {
    throw new AccountAccessError(`event account "${eventAccountId}" is not a 12-digit AWS account ID`);
  }
  const fn = functionLocation(invokedFunctionArn);
  if (eventAccountId === fn.accountId) return { kind: 'own', accountId: eventAccountId };
  if (memberRoleName === undefined) {
    throw new AccountAccessError(
      `the event is for account ${eventAccountId} but this function runs in ${fn.accountId} and has no member role configured; deploy the organization stack to evaluate other accounts`,
    );
  }
  return {
    kind: 'assumeRole',
    accountId: eventAccountId,
    roleArn: `arn:${fn.partition}:iam::${eventAccountId}:role/${memberRoleName}`,
  };
}

/** What the resolver needs: the function's own clients and how to build clients for a member role. */
export interface AccountClientsOptions<C> {
  readonly own: C;
  /** The member role's name (organization deployment); undefined in a single-account deployment. */
  readonly memberRoleName: string | undefined;
  /**
   * Builds clients signed with the member role. The handler uses the SDK's fromTemporaryCredentials, whose
   * credentials every client memoizes and renews before they expire.
   */
  readonly createClients: (roleArn: string) => C;
}

/**
 * Returns `clientsFor(eventAccountId, invokedFunctionArn)`: the function's own clients for its own
 * account (and when no function ARN is known, as in local runs), otherwise clients signed with the member
 * role of the event's account. Clients are kept per account for the container's life, so a warm container
 * assumes each member role about once an hour.
 */
export function accountClientsResolver<C>(
  options: AccountClientsOptions<C>,
): (eventAccountId: string, invokedFunctionArn: string | undefined) => C {
  if (options.memberRoleName !== undefined && !IAM_ROLE_NAME.test(options.memberRoleName)) {
    throw new AccountAccessError(`member role name "${options.memberRoleName}" is not a valid IAM role name`);
  }
  const byAccount = new Map<string, C>();
  return (eventAccountId, invokedFunctionArn) => {
    if (invokedFunctionArn === undefined) return options.own;
    const access = accountAccessFor(eventAccountId, invokedFunctionArn, options.memberRoleName);
    if (access.kind === 'own') return options.own;
    let clients = byAccount.get(access.accountId);
    if (clients === undefined) {
      clients = options.createClients(access.roleArn);
      byAccount.set(access.accountId, clients);
    }
    return clients;
  };
}

import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { accountClientsResolver, MEMBER_ROLE_SESSION_NAME } from './aws/account-clients.js';
import { jsonLineLogger } from './log.js';
import { type RuleRunResult, runConfigRule } from './run-rule.js';

// Created once per container and reused across invocations. Endpoints and Region come from the SDK's
// standard configuration (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM, ...), so the same code runs
// against AWS and against the local emulator.
const clients = { config: new ConfigServiceClient({}), iam: new IAMClient({}) };
const log = jsonLineLogger();
// Organization deployment: MEMBER_ROLE_NAME names the role the function assumes in each member account.
const clientsForAccount = accountClientsResolver({
  own: clients,
  memberRoleName: process.env.MEMBER_ROLE_NAME || undefined,
  createClients: (roleArn) => {
    // The SDK's own provider (its STS client is already in the bundle for the default credential chain);
    // each client memoizes the credentials and renews them before they expire.
    const credentials = fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: MEMBER_ROLE_SESSION_NAME },
    });
    return { config: new ConfigServiceClient({ credentials }), iam: new IAMClient({ credentials }) };
  },
});

/**
 * The Lambda entry point AWS Config invokes for the rule. A malformed event or parameter makes the
 * invocation fail (Config shows the error) and nothing is reported.
 */
export async function handler(
  event: unknown,
  context?: { readonly invokedFunctionArn?: string },
): Promise<RuleRunResult> {
  try {
    return await runConfigRule(event, {
      clientsFor: (e) => clientsForAccount(e.accountId, context?.invokedFunctionArn),
      log,
    });
  } catch (error) {
    log({
      event: 'error',
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw error;
  }
}

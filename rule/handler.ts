import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { accountClientsResolver, MEMBER_ROLE_SESSION_NAME } from './aws/account-clients.js';
import {
  projectIamClient,
  SDK_CLIENT_SETTINGS,
  sharedCredentials,
  withReadableErrors,
} from './aws/client-settings.js';
import { jsonLineLogger } from './log.js';
import { deadlineSignal } from './out-of-time.js';
import { type RuleClients, type RuleRunResult, runConfigRule } from './run-rule.js';

/**
 * The rule's two clients with the project's timeouts and retry (client-settings.ts). For a member account
 * both share one AssumeRole provider, so the role is assumed once per account, not once per client; the
 * SDK's own provider renews the credentials before they expire.
 */
export function ruleClients(credentials?: ReturnType<typeof fromTemporaryCredentials>): RuleClients {
  const own = credentials !== undefined ? { credentials } : {};
  return {
    config: withReadableErrors(new ConfigServiceClient({ ...SDK_CLIENT_SETTINGS, ...own })),
    iam: projectIamClient(own),
  };
}

/** Clients signed with the member role `roleArn`, assumed once for both clients. */
export function memberRoleClients(
  roleArn: string,
  assume: (roleArn: string) => ReturnType<typeof fromTemporaryCredentials> = (arn) =>
    fromTemporaryCredentials({
      params: { RoleArn: arn, RoleSessionName: MEMBER_ROLE_SESSION_NAME },
      clientConfig: SDK_CLIENT_SETTINGS,
    }),
): RuleClients {
  return ruleClients(sharedCredentials(assume(roleArn)));
}

// Created once per container and reused across invocations. Endpoints and Region come from the SDK's
// standard configuration (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM, ...), so the same code runs
// against AWS and against the local emulator.
const log = jsonLineLogger();
// Organization deployment: MEMBER_ROLE_NAME names the role the function assumes in each member account.
const clientsForAccount = accountClientsResolver({
  own: ruleClients(),
  memberRoleName: process.env.MEMBER_ROLE_NAME || undefined,
  createClients: (roleArn) => memberRoleClients(roleArn),
});

/** The part of Lambda's context object the rule reads. */
export interface RuleInvocationContext {
  readonly invokedFunctionArn?: string;
  readonly getRemainingTimeInMillis?: () => number;
}

/**
 * The Lambda entry point AWS Config invokes for the rule. A malformed event or parameter makes the
 * invocation fail (Config shows the error) and nothing is reported. A run that would outlast the function's
 * timeout stops shortly before it, says how far it got, and fails, so that Lambda's retry does the rest.
 */
export async function handler(event: unknown, context?: RuleInvocationContext): Promise<RuleRunResult> {
  const abortSignal = deadlineSignal(context?.getRemainingTimeInMillis?.());
  try {
    return await runConfigRule(event, {
      clientsFor: (e) => clientsForAccount(e.accountId, context?.invokedFunctionArn),
      log,
      ...(abortSignal !== undefined ? { abortSignal } : {}),
    });
  } catch (error) {
    log({
      event: 'error',
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw error;
  }
}

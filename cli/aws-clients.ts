import type { IAMClient } from '@aws-sdk/client-iam';
import { type MiddlewareHost, projectIamClient } from '../rule/aws/client-settings.js';

/** Where the clients send their calls: the global flags; anything left unset comes from the SDK's chain. */
export interface ClientOptions {
  readonly profile?: string;
  readonly region?: string;
  readonly endpoint?: string;
}

/** The client commands use, created on first use: check-template makes no AWS call at all. */
export interface AwsClients {
  /** The IAM client, with the project's timeouts and adaptive retry (rule/aws/client-settings.ts). */
  iam(): IAMClient;
  /** Closes the clients' connections. */
  destroy(): void;
}

/** The failed AWS call, attached to errors so that "access denied" can name the IAM action. */
export interface FailedCall {
  /** The IAM action name as a policy writes it, e.g. "iam:GetAccountAuthorizationDetails". */
  readonly action: string;
}

const SERVICE_PREFIX: Record<string, string> = { IAMClient: 'iam' };

/** The symbol under which errors from these clients carry their FailedCall. */
export const FAILED_CALL = Symbol('failedCall');

/**
 * Builds clients from the global flags. Anything a flag leaves open (credentials, Region, endpoint) comes from
 * the SDK's standard chain: AWS_PROFILE, AWS_REGION, ~/.aws/config, AWS_ENDPOINT_URL and so on.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
 */
export function awsClientsFrom(options: ClientOptions): AwsClients {
  const config = {
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
  };
  let iam: IAMClient | undefined;
  return {
    iam: () => {
      iam ??= tagFailedCalls(projectIamClient(config));
      return iam;
    },
    destroy: () => iam?.destroy(),
  };
}

/** Marks every error a client throws with the IAM action of the call that failed. */
function tagFailedCalls<C>(client: C): C {
  (client as unknown as MiddlewareHost).middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const prefix = SERVICE_PREFIX[context.clientName ?? ''];
        const command = context.commandName?.replace(/Command$/, '');
        if (prefix !== undefined && command !== undefined && typeof error === 'object' && error !== null) {
          Object.defineProperty(error, FAILED_CALL, { value: { action: `${prefix}:${command}` } });
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'tagFailedCalls' },
  );
  return client;
}

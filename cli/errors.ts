import { RuleParameterError } from '../rule/parameters.js';
import { InputError } from '../rule/schemas/config-rule-event.js';
import { FAILED_CALL, type FailedCall } from './aws-clients.js';
import { EXIT_CODE, UsageError } from './command.js';

/** What the person running the command is told: one line, and the exit code. */
export interface ErrorReport {
  readonly message: string;
  readonly exitCode: number;
}

/** What the command was run with, for messages that name it. */
export interface ErrorContext {
  /** The profile in use: --profile, else AWS_PROFILE. */
  readonly profile?: string;
}

/** A user named on the command line does not exist in the account: one line, exit code 2. */
export class UnknownUserError extends Error {
  override name = 'UnknownUserError';
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);
const REJECTED_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'IncompleteSignature',
  'InvalidAccessKeyId',
]);
const EXPIRED_CREDENTIALS = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EAI_AGAIN', 'ETIMEDOUT']);

/**
 * Turns an error into the one line a person can act on: which credentials or permission is missing and what to
 * do. Never a stack trace (that is --debug's job); never a policy document.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 */
export function describeError(error: unknown, context: ErrorContext = {}): ErrorReport {
  const fail = (message: string): ErrorReport => ({ message, exitCode: EXIT_CODE.error });
  if (!(error instanceof Error)) return fail(`error: ${String(error)}`);
  const name = error.name;
  const message = error.message.trim();

  if (
    error instanceof UsageError ||
    error instanceof RuleParameterError ||
    error instanceof UnknownUserError ||
    error instanceof InputError ||
    name === 'MigrationFailedError'
  ) {
    return fail(`error: ${message}`);
  }
  if (CREDENTIAL_ERRORS.has(name) || /could not load credentials/i.test(message)) {
    const ssoProfile = /profile=([^\s]+?)\.?\s[\s\S]*aws sso login/i.exec(message)?.[1];
    if (ssoProfile !== undefined) {
      return fail(
        `error: the SSO session of profile ${ssoProfile} has expired or was never started: run \`aws sso login --profile ${ssoProfile}\``,
      );
    }
    if (context.profile !== undefined) {
      return fail(
        `error: no AWS credentials for profile ${context.profile}: check that it is defined in ~/.aws/config or ~/.aws/credentials`,
      );
    }
    return fail(
      'error: no AWS credentials found: pass --profile NAME or set AWS_PROFILE (run `aws sso login` first for SSO profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  }
  if (/^region is missing$/i.test(message)) {
    return fail(
      'error: no AWS Region configured: pass --region (IAM is global: any Region of the partition will do)',
    );
  }
  if (EXPIRED_CREDENTIALS.has(name)) {
    return fail(
      'error: the AWS credentials have expired: refresh them (for example `aws sso login`) and run again',
    );
  }
  if (REJECTED_CREDENTIALS.has(name)) {
    return fail(`error: AWS rejected the credentials (${name}): check the profile or access key in use`);
  }
  if (ACCESS_DENIED.has(name)) {
    const action = deniedAction(error);
    return fail(
      action !== undefined
        ? `error: access denied: the credentials in use are not allowed ${action}; grant it to them and run again`
        : `error: access denied: ${message}`,
    );
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return fail(`error: cannot reach the AWS endpoint (${code}): check --endpoint, the network or a proxy`);
  }
  const call = failedCall(error);
  return fail(`error: ${call !== undefined ? `${call.action} failed: ` : ''}${message || name}`);
}

/** The IAM action AWS names in the AccessDenied message, else the action of the call that failed. */
function deniedAction(error: Error): string | undefined {
  const named = /not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9*]+)/.exec(error.message)?.[1];
  return named ?? failedCall(error)?.action;
}

function failedCall(error: Error): FailedCall | undefined {
  return (error as unknown as Record<symbol, FailedCall | undefined>)[FAILED_CALL];
}

/**
 * The one place where AWS SDK errors become keyrotate errors.
 *
 * Messages are built from the operation name and the error code only. SDK messages are never
 * copied: some services echo request parameters in them, and a PutSecretValue request carries
 * the secret. The SDK error stays available as `cause`, which keyrotate never logs or returns.
 */
import { AccessDeniedError, AwsRequestError, KeyRotateError, TransientAwsError } from '../core/errors';

/** Throttling codes across the services keyrotate calls (IAM, STS, Secrets Manager, KMS, DynamoDB). */
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/**
 * Codes that mean "the same call may succeed later" even when AWS answers with a 4xx.
 * `LimitExceededException` is deliberately absent: IAM uses it for the two-keys-per-user quota,
 * which waiting does not fix.
 */
const TRANSIENT_CODES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceFailure',
  'ServiceFailureException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServiceError',
  'InternalServiceErrorException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'EntityTemporarilyUnmodifiable',
  'EntityTemporarilyUnmodifiableException',
  'ConcurrentModification',
  'ConcurrentModificationException',
  'TransactionConflictException',
]);

/** Node.js socket errors (`error.code`): the request may not even have reached AWS. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const ACCESS_DENIED_CODES = new Set(['UnauthorizedOperation', 'AuthorizationError']);

/** A code is an identifier; anything else (a strange endpoint) is not put into a message. */
const SAFE_CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/;

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** The AWS error code (`name` of an SDK exception, `code` of a Node.js socket error), or 'UnknownError'. */
export function awsErrorCode(error: unknown): string {
  const e = shape(error);
  for (const candidate of [e.code, e.Code, e.name]) {
    if (typeof candidate === 'string' && SAFE_CODE.test(candidate) && candidate !== 'Error') return candidate;
  }
  return 'UnknownError';
}

/**
 * True when `error` carries `code`. Query-protocol services (IAM, STS) send `NoSuchEntity` where
 * the SDK's modelled class is `NoSuchEntityException`: both spellings match.
 */
export function hasAwsErrorCode(error: unknown, code: string): boolean {
  const e = shape(error);
  return [e.name, e.Code, e.code].some((c) => c === code || c === `${code}Exception`);
}

function httpStatus(error: unknown): number | undefined {
  const status = shape(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(error: unknown): string {
  const message = shape(error).message;
  return typeof message === 'string' ? message : '';
}

export function isTransientAwsError(error: unknown): boolean {
  const code = awsErrorCode(error);
  const status = httpStatus(error);
  return (
    THROTTLING_CODES.has(code) ||
    TRANSIENT_CODES.has(code) ||
    NETWORK_CODES.has(code) ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    shape(error).$fault === 'server' ||
    // Node.js reports a dropped keep-alive socket with this message and no code.
    messageOf(error).includes('socket hang up')
  );
}

function isAccessDenied(error: unknown): boolean {
  const code = awsErrorCode(error);
  return code.startsWith('AccessDenied') || ACCESS_DENIED_CODES.has(code);
}

/**
 * Turns any error thrown by an SDK call into a KeyRotateError. `operation` names the call
 * (`'IAM CreateAccessKey'`); it is the only free text in the message besides the error code.
 * KeyRotateErrors pass through unchanged.
 */
export function toKeyRotateError(operation: string, error: unknown): KeyRotateError {
  if (error instanceof KeyRotateError) return error;
  const code = awsErrorCode(error);
  if (isTransientAwsError(error)) {
    return new TransientAwsError(`${operation} failed transiently (${code}); retry later`, { cause: error });
  }
  if (isAccessDenied(error)) {
    return new AccessDeniedError(
      `${operation} was denied (${code}): check the Lambda role's permissions and keyrotate's scope`,
      { cause: error },
    );
  }
  return new AwsRequestError(operation, code, { cause: error });
}

/**
 * Runs one SDK call and maps whatever it throws. `expected` turns the call's expected error codes
 * (not found, conflict) into typed errors first; returning undefined falls back to the generic mapping.
 * Recoveries (an idempotent "already gone") are written as plain try/catch where they happen.
 */
export async function callAws<T>(
  operation: string,
  call: () => Promise<T>,
  expected?: (error: unknown) => KeyRotateError | undefined,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw expected?.(error) ?? toKeyRotateError(operation, error);
  }
}

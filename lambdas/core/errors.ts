/**
 * Every error keyrotate raises on purpose. The class name is the `errorType` Step Functions
 * sees (a Node.js Lambda reports `error.name`), so the state machine retries and catches by
 * these names: keep them stable. Each concrete class states its name as a string literal, so no
 * bundler or minifier setting can rename a Step Functions error type.
 *
 * Messages carry identifiers (user names, key ids, secret ARNs, field names) and never a
 * secret value. Wrapped SDK errors go in `cause`, which is never serialised into a message.
 */
export abstract class KeyRotateError extends Error {
  /** Transient errors are retried with backoff by the state machine; terminal ones are not. */
  abstract readonly transient: boolean;
}

/** A terminal error: retrying cannot help. Before delivery it leads to RollBack. */
export abstract class TerminalError extends KeyRotateError {
  readonly transient = false;
}

/** A transient error: the same call may succeed later (throttling, 5xx, propagation). */
export abstract class TransientError extends KeyRotateError {
  readonly transient = true;
}

/** Bad input. Names the field (a JSON path such as `delivery.secretId`) and what is allowed. */
export class ValidationError extends TerminalError {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`invalid ${field}: ${detail}`);
  }
}

export class UserNotFoundError extends TerminalError {
  override readonly name = 'UserNotFoundError';
  constructor(readonly userName: string, options?: { cause?: unknown }) {
    super(`IAM user '${userName}' does not exist`, options);
  }
}

export class AccessKeyNotFoundError extends TerminalError {
  override readonly name = 'AccessKeyNotFoundError';
  constructor(readonly accessKeyId: string, options?: { cause?: unknown }) {
    super(`access key ${accessKeyId} does not exist (or is not visible to keyrotate)`, options);
  }
}

/** The user is outside the configured scope (listed users, IAM path, tag). */
export class UserOutOfScopeError extends TerminalError {
  override readonly name = 'UserOutOfScopeError';
  constructor(readonly userName: string, scope: string) {
    super(`IAM user '${userName}' is not in keyrotate's scope (${scope})`);
  }
}

/** Two Active keys and nothing that says which one is current: never guess. */
export class AmbiguousCurrentKeyError extends TerminalError {
  override readonly name = 'AmbiguousCurrentKeyError';
  constructor(readonly userName: string, readonly accessKeyIds: readonly string[], hint: string) {
    super(`cannot tell which key of IAM user '${userName}' is current (${accessKeyIds.join(', ')}): ${hint}`);
  }
}

/** The recorded current key (secret AWSCURRENT or `oldAccessKeyId`) contradicts IAM. */
export class KeyStateConflictError extends TerminalError {
  override readonly name = 'KeyStateConflictError';
}

/** Another rotation of the same user holds the lock. Changes nothing; fails fast. */
export class RotationInProgressError extends TerminalError {
  override readonly name = 'RotationInProgressError';
  constructor(readonly userName: string, readonly holder: string) {
    super(`another rotation of IAM user '${userName}' is in progress (${holder}); nothing was changed`);
  }
}

/** The rotation's lock was lost (expired and taken by another rotation): stop, act on nothing. */
export class RotationLockLostError extends TerminalError {
  override readonly name = 'RotationLockLostError';
  constructor(readonly userName: string, readonly rotationId: string) {
    super(`rotation ${rotationId} no longer holds the lock of IAM user '${userName}'`);
  }
}

/** A secret's stored value does not belong to this user, or is not keyrotate's format. */
export class SecretMismatchError extends TerminalError {
  override readonly name = 'SecretMismatchError';
}

export class SecretNotFoundError extends TerminalError {
  override readonly name = 'SecretNotFoundError';
  constructor(readonly secretId: string, options?: { cause?: unknown }) {
    super(`secret '${secretId}' does not exist`, options);
  }
}

/** A PGP key that cannot be used. `form` is the recognised input form (base64-binary, armored, keybase, …). */
export class PgpKeyError extends TerminalError {
  override readonly name = 'PgpKeyError';
  constructor(
    readonly form: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`PGP key (${form}): ${detail}`, options);
  }
}

/**
 * A remote PGP key (keybase:, external:, github:) could not be fetched: refused URL, timeout,
 * HTTP error, oversized answer. `url` is shown without query string or credentials.
 * resolvePgpKey wraps it in a PgpKeyError naming the key form.
 */
export class PgpKeyFetchError extends TerminalError {
  override readonly name = 'PgpKeyFetchError';
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot fetch ${url}: ${reason}`, options);
  }
}

/** The new key never authenticated before the deadline (not a propagation delay any more). */
export class VerificationFailedError extends TerminalError {
  override readonly name = 'VerificationFailedError';
}

/** The old key was used recently and the policy says stop (both keys stay Active). */
export class OldKeyInUseError extends TerminalError {
  override readonly name = 'OldKeyInUseError';
}

/** AWS said the caller may not do this (a scoping or deployment problem). */
export class AccessDeniedError extends TerminalError {
  override readonly name = 'AccessDeniedError';
}

/**
 * Any other AWS error answer (terminal). Names the operation and the AWS error code only: SDK
 * messages can echo request parameters, and a PutSecretValue request carries the secret.
 */
export class AwsRequestError extends TerminalError {
  override readonly name = 'AwsRequestError';
  constructor(
    readonly operation: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} failed (${code})`, options);
  }
}

/** A Lambda environment variable is missing or malformed (a deployment problem). Names the variable. */
export class ConfigurationError extends TerminalError {
  override readonly name = 'ConfigurationError';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`environment variable ${variable}: ${detail}`);
  }
}

/** Throttling, 5xx, timeouts: retried by the state machine with backoff and jitter. */
export class TransientAwsError extends TransientError {
  override readonly name = 'TransientAwsError';
}

/** The new key is not accepted yet (IAM is eventually consistent); retried until a deadline. */
export class KeyNotPropagatedError extends TransientError {
  override readonly name = 'KeyNotPropagatedError';
  constructor(readonly accessKeyId: string) {
    super(`new access key ${accessKeyId} is not accepted by STS yet (IAM propagation)`);
  }
}

/** The old key was used within `requireUnusedSeconds`: wait and re-check (retried by name). */
export class OldKeyRecentlyUsedError extends TransientError {
  override readonly name = 'OldKeyRecentlyUsedError';
}

/** Names the state machine retries (transient). */
export const TRANSIENT_ERROR_NAMES = ['TransientAwsError', 'KeyNotPropagatedError', 'OldKeyRecentlyUsedError'] as const;

/** A safe, secret-free one-line description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

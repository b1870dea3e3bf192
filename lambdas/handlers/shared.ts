/**
 * What every keyrotate Lambda shares: the middy chain, the Powertools logger, the outcome log
 * line, and the rule for errors. A handler file only says which core function it calls and
 * which adapters that function needs.
 *
 * Handlers import the adapters they use directly, and the core step module rather than the
 * `core/rotation` barrel: a shared module importing every adapter (or the barrel, which reaches
 * openpgp through the PGP step) would put openpgp and every SDK client in every bundle.
 *
 * Logging is identifiers only. The event is never logged (logEvent is forced off, whatever
 * POWERTOOLS_LOGGER_LOG_EVENT says), nor a result as a whole, nor an error object (its `cause`
 * is an SDK error that may echo a request): `safeIdentifiers` copies named identifier fields,
 * never anything else.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { envConfig } from '../adapters/env-config';
import { KeyRotateError, ValidationError } from '../core/errors';
import type { Clock } from '../core/ports';

export const logger = new Logger({ serviceName: 'keyrotate' });

/** The KEYROTATE_* environment, each variable validated on first use (ConfigurationError). */
export const config = envConfig();

/**
 * Adapter options for the state machine's steps: the core reads a key's last use through
 * getAccessKeyLastUsed only, never from a listing, and needs secret version dates only in the
 * Secrets Manager rotation function. Leaving them out saves one IAM call per key and one
 * Secrets Manager call per describe, and the permissions `iam:GetAccessKeyLastUsed` /
 * `secretsmanager:ListSecretVersionIds` for the roles that need nothing else of them.
 */
export const WITHOUT_LAST_USED = { lastUsedDates: false } as const;
export const WITHOUT_VERSION_DATES = { versionDates: false } as const;

export const systemClock: Clock = { now: () => new Date() };
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const random = (): number => Math.random();

/** Fields whose values are identifiers or small facts, never secrets. */
const IDENTIFIER_FIELDS = new Set([
  'rotationId',
  'userName',
  'userArn',
  'accessKeyId',
  'oldAccessKeyId',
  'staleAccessKeyId',
  'currentKeySource',
  'dryRun',
  'lockHeldBy',
  'type',
  'secretId',
  'secretArn',
  'secretVersionId',
  'previousVersionId',
  'withdrawnVersion',
  'deletedKeys',
  'keyFingerprint',
  'callerArn',
  'attempts',
  'deleted',
  'result',
  'id',
  'status',
  'action',
  'step',
  'mode',
  'outcome',
  'regions',
  'sesSmtpRegions',
  'Step',
  'SecretId',
  'ClientRequestToken',
  'Error',
  // Clean-up that failed after the work was done; built from identifiers and error names only.
  'warnings',
  // The Secrets Manager token of an earlier rotation whose finish createSecret completed.
  'predecessor',
]);

/** Objects worth looking into for identifiers (plan, newKey, delivery, …). */
const CONTAINER_FIELDS = new Set(['plan', 'newKey', 'delivery', 'previousKey', 'oldKey', 'error', 'input']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIdentifierValue(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return true;
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The identifier fields of `value` (and of its known sub-objects, two levels deep), nothing else. */
export function safeIdentifiers(value: unknown, depth = 0): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  if (!isRecord(value)) return picked;
  for (const [key, field] of Object.entries(value)) {
    if (IDENTIFIER_FIELDS.has(key) && isIdentifierValue(field)) picked[key] = field;
    else if (CONTAINER_FIELDS.has(key) && depth < 2) {
      const nested = safeIdentifiers(field, depth + 1);
      if (Object.keys(nested).length > 0) picked[key] = nested;
    }
  }
  return picked;
}

/** Reads `field` of the event as an object, or fails naming it (a state machine wiring bug). */
export function objectField<T>(event: unknown, field: string): T {
  const value = isRecord(event) ? event[field] : undefined;
  if (!isRecord(value)) throw new ValidationError(field, 'must be an object (check the state machine Parameters)');
  return value as T;
}

/** Like objectField, but absent and null are allowed (optional inputs such as `smtp`). */
export function optionalObjectField<T>(event: unknown, field: string): T | null {
  const value = isRecord(event) ? event[field] : undefined;
  return value === undefined || value === null ? null : objectField<T>(event, field);
}

export function stringField(event: unknown, field: string): string {
  const value = isRecord(event) ? event[field] : undefined;
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'must be a non-empty string');
  return value;
}

/**
 * An error that is not a KeyRotateError is a bug (adapters map every SDK error). It is rethrown
 * with its own name, so Step Functions still shows e.g. `TypeError` as errorType and does not
 * retry it, but with a fixed message: some built-in messages quote their input (JSON.parse
 * quotes the text it failed on), and that input may be a secret. Its stack frames, which name
 * files and lines only, are kept for the log.
 */
export function withheldError(step: string, error: unknown): Error {
  const name = error instanceof Error && /^\w{1,64}$/.test(error.name) ? error.name : 'Error';
  const safe = new Error(`unexpected ${name} in ${step}; its message is withheld because it may quote secret data`);
  safe.name = name;
  const frames = error instanceof Error ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)) : [];
  safe.stack = [`${name}: ${safe.message}`, ...frames].join('\n');
  return safe;
}

/**
 * Logs one line per invocation: `<step> succeeded` (info) with the identifiers of the event and
 * the result, or `<step> failed` (error) with the identifiers, the error name and its message
 * (KeyRotateError messages carry identifiers only, by contract).
 */
function outcomeLogging(step: string): MiddlewareObj<unknown, unknown> {
  return {
    after: (request) => {
      logger.info(`${step} succeeded`, { step, event: safeIdentifiers(request.event), result: safeIdentifiers(request.response) });
    },
    onError: (request) => {
      const error = request.error instanceof KeyRotateError ? request.error : withheldError(step, request.error);
      request.error = error;
      logger.error(`${step} failed`, {
        step,
        event: safeIdentifiers(request.event),
        errorName: error.name,
        errorMessage: error.message,
        ...(error instanceof KeyRotateError ? { transient: error.transient } : { stack: error.stack }),
      });
    },
  };
}

/**
 * Builds a Lambda handler around one core call. `deps` is evaluated once per container, on the
 * first invocation (not at import), so a missing environment variable is a typed
 * ConfigurationError of the invocation rather than an opaque init failure.
 */
export function stepHandler<D, R>(
  step: string,
  deps: () => D,
  run: (deps: D, event: unknown) => Promise<R>,
) {
  let built: { value: D } | undefined;
  // middy's early-timeout race is off: it needs context.getRemainingTimeInMillis, which local
  // runners may not provide, and a Lambda timeout already reaches Step Functions as States.Timeout.
  return middy<unknown, R, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(outcomeLogging(step) as MiddlewareObj<unknown, R, Error, Context>)
    .handler(async (event) => run((built ??= { value: deps() }).value, event));
}

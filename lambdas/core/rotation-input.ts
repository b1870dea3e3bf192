/**
 * The execution input, validated before anything else happens (guarantee "bad input changes
 * nothing": a typed error naming the field, and no AWS change). Strict on purpose: an unknown field is
 * an error, because a typo such as `gracePeriodSecond` silently ignored would retire a key early.
 *
 * Error messages name the field (a JSON path) and what is allowed; they never echo the value:
 * someone may paste a secret access key where a key id belongs.
 */
import { KeyRotateError, ValidationError } from './errors';
import { parsePgpKeySpec } from './pgp-key-spec';
import { checkSesSmtpRegions } from './ses-regions';
import type { Delivery, KeyStatus, OldKeyAction, OldKeyPolicy, RotationRequest } from './types';

/** IAM's user-name pattern. */
export const USER_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
/** IAM's access-key-id pattern (AKIA… for IAM users). */
export const ACCESS_KEY_ID_PATTERN = /^[A-Z0-9]{16,128}$/;
/** Secrets Manager names: 1-512 of these characters. */
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
/** The SecretId parameter's limit. */
export const MAX_SECRET_ID_LENGTH = 2048;
/** An armored RSA-4096 key with a few signatures is ~10 KB; Step Functions state is ≤ 256 KB. */
export const MAX_PGP_KEY_LENGTH = 64 * 1024;
export const MAX_SES_REGIONS = 32;
/** Step Functions' longest Wait, and a year is longer than any sane grace period. */
export const MAX_SECONDS = 31_536_000;

const TOP_LEVEL_FIELDS = [
  'userName',
  'accessKeyId',
  'oldAccessKeyId',
  'delivery',
  'sesSmtpRegions',
  'allowUnlistedSesRegions',
  'newKeyStatus',
  'oldKey',
  'dryRun',
] as const;
const OLD_KEY_FIELDS = ['action', 'gracePeriodSeconds', 'deletionDelaySeconds', 'requireUnusedSeconds'] as const;
const NEW_KEY_STATUSES: readonly KeyStatus[] = ['Active', 'Inactive'];
const OLD_KEY_ACTIONS: readonly OldKeyAction[] = ['delete', 'deactivate'];

export const DEFAULT_OLD_KEY_POLICY: OldKeyPolicy = Object.freeze({
  action: 'delete',
  gracePeriodSeconds: 0,
  deletionDelaySeconds: 0,
  requireUnusedSeconds: 0,
});

// C0 and C1 control characters and DEL; `multiline` fields (armored PGP keys) may hold line breaks and tabs.
const CONTROL = /\p{Cc}/u;
const CONTROL_EXCEPT_LINE_BREAKS = /(?![\t\n\r])\p{Cc}/u;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field name from the input, shown safely (bounded, printable). */
function fieldName(prefix: string, key: string): string {
  const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return prefix + shown.replace(/[^\x20-\x7e]/g, '?');
}

function rejectUnknownFields(object: JsonObject, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(fieldName(prefix, key), `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }
}

function text(
  value: unknown,
  field: string,
  rule: { readonly maxLength: number; readonly pattern?: RegExp; readonly patternText?: string; readonly multiline?: boolean },
): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > rule.maxLength) throw new ValidationError(field, `must be at most ${rule.maxLength} characters long`);
  if ((rule.multiline ? CONTROL_EXCEPT_LINE_BREAKS : CONTROL).test(value)) {
    throw new ValidationError(field, 'must not contain control characters');
  }
  if (rule.pattern && !rule.pattern.test(value)) throw new ValidationError(field, `must match ${rule.patternText}`);
  return value;
}

function userName(value: unknown, field: string): string {
  return text(value, field, { maxLength: 64, pattern: USER_NAME_PATTERN, patternText: '[\\w+=,.@-]{1,64} (an IAM user name)' });
}

function accessKeyId(value: unknown, field: string): string {
  const id = text(value, field, {
    maxLength: 128,
    pattern: ACCESS_KEY_ID_PATTERN,
    patternText: '[A-Z0-9]{16,128} (an access key id such as AKIA…)',
  });
  // ASIA… ids are temporary STS credentials: they belong to no IAM user and cannot be rotated.
  if (id.startsWith('ASIA')) throw new ValidationError(field, 'is a temporary (STS) access key id; only IAM user keys (AKIA…) can be rotated');
  return id;
}

function boolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValidationError(field, 'must be true or false');
  return value;
}

function seconds(value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_SECONDS) {
    throw new ValidationError(field, `must be a whole number of seconds from 0 to ${MAX_SECONDS}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as T;
}

function secretId(value: unknown): string {
  const field = 'delivery.secretId';
  const id = text(value, field, { maxLength: MAX_SECRET_ID_LENGTH });
  const pattern = id.startsWith('arn:') ? SECRET_ARN_PATTERN : SECRET_NAME_PATTERN;
  if (!pattern.test(id)) {
    throw new ValidationError(
      field,
      'must be a secret name (1-512 of A-Z a-z 0-9 / _ + = . @ -) or a Secrets Manager secret ARN',
    );
  }
  return id;
}

function pgpKey(value: unknown): string {
  const field = 'delivery.pgpKey';
  const spec = text(value, field, { maxLength: MAX_PGP_KEY_LENGTH, multiline: true });
  try {
    parsePgpKeySpec(spec, field);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // A PgpKeyError (a recognised form with a problem) is re-labelled with the input path; its
    // message names the form, and a public key is not a secret anyway.
    if (error instanceof KeyRotateError) throw new ValidationError(field, error.message);
    throw error;
  }
  return spec;
}

function delivery(value: unknown): Delivery {
  if (value === undefined) throw new ValidationError('delivery', 'is required ({ "type": "secretsManager", "secretId": … } or { "type": "pgp", "pgpKey": … })');
  if (!isObject(value)) throw new ValidationError('delivery', 'must be an object');
  if (value.type === 'secretsManager') {
    rejectUnknownFields(value, ['type', 'secretId'], 'delivery.');
    if (value.secretId === undefined) throw new ValidationError('delivery.secretId', 'is required for secretsManager delivery');
    return { type: 'secretsManager', secretId: secretId(value.secretId) };
  }
  if (value.type === 'pgp') {
    rejectUnknownFields(value, ['type', 'pgpKey'], 'delivery.');
    if (value.pgpKey === undefined) throw new ValidationError('delivery.pgpKey', 'is required for pgp delivery');
    return { type: 'pgp', pgpKey: pgpKey(value.pgpKey) };
  }
  throw new ValidationError('delivery.type', 'must be "secretsManager" or "pgp"');
}

function sesSmtpRegions(value: unknown, allowUnlisted: boolean, defaults: readonly string[]): string[] {
  const field = 'sesSmtpRegions';
  if (value === undefined) return [...defaults];
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of region names ([] for none)');
  if (value.length > MAX_SES_REGIONS) throw new ValidationError(field, `must list at most ${MAX_SES_REGIONS} regions`);
  value.forEach((region, index) => text(region, `${field}[${index}]`, { maxLength: 32 }));
  return checkSesSmtpRegions(value as string[], field, allowUnlisted);
}

function oldKeyPolicy(value: unknown): OldKeyPolicy {
  if (value === undefined) return DEFAULT_OLD_KEY_POLICY;
  if (!isObject(value)) throw new ValidationError('oldKey', 'must be an object');
  rejectUnknownFields(value, OLD_KEY_FIELDS, 'oldKey.');
  const policy: OldKeyPolicy = {
    action: oneOf(value.action, 'oldKey.action', OLD_KEY_ACTIONS, DEFAULT_OLD_KEY_POLICY.action),
    gracePeriodSeconds: seconds(value.gracePeriodSeconds, 'oldKey.gracePeriodSeconds'),
    deletionDelaySeconds: seconds(value.deletionDelaySeconds, 'oldKey.deletionDelaySeconds'),
    requireUnusedSeconds: seconds(value.requireUnusedSeconds, 'oldKey.requireUnusedSeconds'),
  };
  // Ignoring a delay the user set would be a silent surprise: say it has no effect.
  if (policy.action === 'deactivate' && policy.deletionDelaySeconds > 0) {
    throw new ValidationError('oldKey.deletionDelaySeconds', 'applies only when oldKey.action is "delete"');
  }
  // A Standard execution lives at most a year; both waits run inside one execution.
  if (policy.gracePeriodSeconds + policy.deletionDelaySeconds > MAX_SECONDS) {
    throw new ValidationError('oldKey', `gracePeriodSeconds + deletionDelaySeconds must be at most ${MAX_SECONDS}`);
  }
  return policy;
}

/**
 * Validates and defaults the execution input. Pure: no network (a PGP key spec is checked for
 * syntax only; Keybase/GitHub keys are fetched at delivery).
 * @throws ValidationError naming the field as a JSON path (`delivery.secretId`, `oldKey.action`)
 */
export function parseRotationInput(
  input: unknown,
  config: { readonly defaultSesSmtpRegions: readonly string[] },
): RotationRequest {
  if (!isObject(input)) throw new ValidationError('input', 'must be a JSON object');
  rejectUnknownFields(input, TOP_LEVEL_FIELDS, '');

  const hasUser = input.userName !== undefined;
  const hasKey = input.accessKeyId !== undefined;
  if (hasUser === hasKey) {
    throw new ValidationError(hasUser ? 'accessKeyId' : 'userName', 'give exactly one of userName or accessKeyId');
  }
  const user = hasUser ? userName(input.userName, 'userName') : undefined;
  const startKey = hasKey ? accessKeyId(input.accessKeyId, 'accessKeyId') : undefined;
  const oldAccessKeyId = input.oldAccessKeyId === undefined ? undefined : accessKeyId(input.oldAccessKeyId, 'oldAccessKeyId');
  const chosenDelivery = delivery(input.delivery);
  const allowUnlisted = boolean(input.allowUnlistedSesRegions, 'allowUnlistedSesRegions', false);
  const regions = sesSmtpRegions(input.sesSmtpRegions, allowUnlisted, config.defaultSesSmtpRegions);
  const newKeyStatus = oneOf(input.newKeyStatus, 'newKeyStatus', NEW_KEY_STATUSES, 'Active');
  const oldKey = oldKeyPolicy(input.oldKey);
  const dryRun = boolean(input.dryRun, 'dryRun', false);

  if (newKeyStatus === 'Inactive') {
    // Consumers of a secret read AWSCURRENT: promoting an Inactive key there is an outage.
    if (chosenDelivery.type === 'secretsManager') {
      throw new ValidationError('newKeyStatus', '"Inactive" is only possible with pgp delivery (a secret\'s AWSCURRENT must hold a working key)');
    }
    // The old key stays Active (the user keeps a working key): an old-key policy would be ignored.
    if (input.oldKey !== undefined) {
      throw new ValidationError('oldKey', 'must be omitted when newKeyStatus is "Inactive": the old key then stays Active');
    }
  }

  return {
    ...(user !== undefined ? { userName: user } : {}),
    ...(startKey !== undefined ? { accessKeyId: startKey } : {}),
    ...(oldAccessKeyId !== undefined ? { oldAccessKeyId } : {}),
    delivery: chosenDelivery,
    sesSmtpRegions: regions,
    newKeyStatus,
    oldKey,
    dryRun,
  };
}

/**
 * The KEYROTATE_* environment of the Lambdas (docs/internals.md, "Lambda environment").
 *
 * Each Lambda reads only the variables it needs, so every value is parsed on first use and then
 * kept (a container reads each once). A missing or malformed variable is a deployment problem:
 * ConfigurationError names the variable and what is allowed, never anything else.
 */
import { ConfigurationError, ValidationError } from '../core/errors';
import { parseUserScope } from '../core/scope';
import type { OldKeyAction, UserScope } from '../core/types';

export interface EnvConfig {
  /** KEYROTATE_KMS_KEY_ID (required where secrets are sealed or opened). */
  kmsKeyId(): string;
  /** KEYROTATE_LOCK_TABLE (required where the lock is taken, checked or released). */
  lockTable(): string;
  /** KEYROTATE_SCOPE (required where users are resolved). */
  scope(): UserScope;
  /** KEYROTATE_DEFAULT_SES_REGIONS; without it, the Lambda's own region (AWS_REGION), or none. */
  defaultSesRegions(): readonly string[];
  /** KEYROTATE_VERIFY_SECONDS, default 20. */
  verifySeconds(): number;
  /** KEYROTATE_ROTATION_OLD_KEY_ACTION, default `deactivate`. */
  rotationOldKeyAction(): OldKeyAction;
  /** KEYROTATE_ROTATION_LOCK_SECONDS, default 3600. */
  rotationLockSeconds(): number;
  /** KEYROTATE_KEYBASE_URL, default `https://keybase.io`, without a trailing slash. */
  keybaseUrl(): string;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

function once<T>(read: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => (cached ??= { value: read() }).value;
}

function parseJson(variable: string, raw: string, expected: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    // The parser's message quotes the input; the variable name and the expected shape are enough.
    throw new ConfigurationError(variable, `must be ${expected} in JSON`);
  }
}

function required(env: NodeJS.ProcessEnv, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ConfigurationError(variable, 'is not set');
  return value;
}

function integer(env: NodeJS.ProcessEnv, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigurationError(variable, `must be a whole number of seconds from ${min} to ${max}, got '${raw}'`);
  }
  return Number(raw);
}

/** KEYROTATE_SCOPE: the JSON is parsed here, its meaning is checked by the core's parseUserScope. */
export function parseScope(raw: string, variable = 'KEYROTATE_SCOPE'): UserScope {
  const value = parseJson(variable, raw, 'an object { userNames?, pathPrefix?, tag? }');
  try {
    return parseUserScope(value, variable);
  } catch (error) {
    if (error instanceof ValidationError) throw new ConfigurationError(variable, error.message);
    throw error;
  }
}

export function parseRegions(raw: string, variable = 'KEYROTATE_DEFAULT_SES_REGIONS'): string[] {
  const value = parseJson(variable, raw, 'an array of region names');
  if (!Array.isArray(value) || !value.every((r) => typeof r === 'string' && REGION.test(r))) {
    throw new ConfigurationError(variable, 'must be a JSON array of AWS region names such as ["eu-west-1"]');
  }
  return value as string[];
}

/** Lazily validated view of `env` (process.env in the Lambdas; a plain object in tests). */
export function envConfig(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  return {
    kmsKeyId: once(() => required(env, 'KEYROTATE_KMS_KEY_ID')),
    lockTable: once(() => {
      const table = required(env, 'KEYROTATE_LOCK_TABLE');
      if (!/^[\w.-]{3,255}$/.test(table) && !table.startsWith('arn:')) {
        throw new ConfigurationError('KEYROTATE_LOCK_TABLE', `'${table}' is not a DynamoDB table name or ARN`);
      }
      return table;
    }),
    scope: once(() => parseScope(required(env, 'KEYROTATE_SCOPE'))),
    defaultSesRegions: once(() => {
      const raw = env.KEYROTATE_DEFAULT_SES_REGIONS?.trim();
      if (raw) return parseRegions(raw);
      const region = env.AWS_REGION?.trim();
      return region && REGION.test(region) ? [region] : [];
    }),
    verifySeconds: once(() => integer(env, 'KEYROTATE_VERIFY_SECONDS', 20, 1, 900)),
    rotationOldKeyAction: once(() => {
      const raw = env.KEYROTATE_ROTATION_OLD_KEY_ACTION?.trim() || 'deactivate';
      if (raw !== 'deactivate' && raw !== 'delete') {
        throw new ConfigurationError('KEYROTATE_ROTATION_OLD_KEY_ACTION', `must be 'deactivate' or 'delete', got '${raw}'`);
      }
      return raw;
    }),
    rotationLockSeconds: once(() => integer(env, 'KEYROTATE_ROTATION_LOCK_SECONDS', 3600, 60, 86_400)),
    keybaseUrl: once(() => {
      const raw = env.KEYROTATE_KEYBASE_URL?.trim() || 'https://keybase.io';
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new ConfigurationError('KEYROTATE_KEYBASE_URL', `'${raw}' is not a URL`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new ConfigurationError('KEYROTATE_KEYBASE_URL', 'must be an http(s) URL');
      }
      return raw.replace(/\/+$/, '');
    }),
  };
}

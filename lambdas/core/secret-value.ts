/**
 * The JSON keyrotate keeps in Secrets Manager: build it, and read it back
 * strictly. Errors name the secret and the field, never a value: the value is the secret.
 */
import { SecretMismatchError } from './errors';
import type { StoredSecretValue } from './types';

const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

const FULL_FIELDS = [
  'userName',
  'accessKeyId',
  'secretAccessKey',
  'sesSmtpPasswordV4',
  'sesSmtpRegion',
  'sesSmtpPasswords',
  'createDate',
] as const;
const SEED_FIELDS = ['userName', 'sesSmtpRegions'] as const;

/**
 * What a keyrotate secret holds: a full value written by a rotation, or the seed an operator
 * writes so the first rotation knows whom to rotate: `{"userName": "x"}`, optionally with
 * `"sesSmtpRegions": ["eu-west-1"]` (default: the deployment's regions; `[]`: none).
 */
export type ParsedSecretValue =
  | { readonly kind: 'seed'; readonly userName: string; readonly sesSmtpRegions?: readonly string[] }
  | { readonly kind: 'full'; readonly value: StoredSecretValue };

/**
 * Builds the stored value. `smtpPasswords` maps each region to its password, in the order the
 * regions were asked for; the first one also fills Terraform's single `sesSmtpPasswordV4`.
 */
export function buildSecretValue(parts: {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly createDate: string;
  readonly smtpPasswords: Readonly<Record<string, string>>;
}): StoredSecretValue {
  const [firstRegion] = Object.keys(parts.smtpPasswords);
  const firstPassword = firstRegion === undefined ? undefined : parts.smtpPasswords[firstRegion];
  return {
    userName: parts.userName,
    accessKeyId: parts.accessKeyId,
    secretAccessKey: parts.secretAccessKey,
    ...(firstRegion !== undefined && firstPassword !== undefined
      ? { sesSmtpPasswordV4: firstPassword, sesSmtpRegion: firstRegion }
      : {}),
    sesSmtpPasswords: { ...parts.smtpPasswords },
    createDate: parts.createDate,
  };
}

/**
 * The JSON text, fields always in the same order, so a re-run of StoreSecret produces the very
 * same string (PutSecretValue is only idempotent for an identical value).
 */
export function serializeSecretValue(value: StoredSecretValue): string {
  const ordered: Record<string, unknown> = {};
  for (const field of FULL_FIELDS) {
    if (value[field] !== undefined) ordered[field] = value[field];
  }
  return JSON.stringify(ordered);
}

function mismatch(secretId: string, detail: string): SecretMismatchError {
  return new SecretMismatchError(`secret '${secretId}' does not hold keyrotate's value: ${detail}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a secret value strictly: unknown fields, wrong types and inconsistent SMTP fields are
 * errors (a value keyrotate did not write must not be half-understood and then overwritten).
 * @throws SecretMismatchError naming the field, never quoting the value
 */
export function parseSecretValue(text: string, secretId: string): ParsedSecretValue {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text: never pass it on.
    throw mismatch(secretId, 'the value is not JSON');
  }
  if (!isRecord(data)) throw mismatch(secretId, 'the value is not a JSON object');
  if (typeof data.userName !== 'string' || !USER_NAME.test(data.userName)) {
    throw mismatch(secretId, 'field userName is missing or not an IAM user name');
  }
  const userName = data.userName;

  if (data.accessKeyId === undefined) {
    for (const field of Object.keys(data)) {
      if (!(SEED_FIELDS as readonly string[]).includes(field)) {
        throw mismatch(secretId, `unexpected field ${JSON.stringify(field.slice(0, 64))} (a value without accessKeyId may hold only userName and sesSmtpRegions)`);
      }
    }
    if (data.sesSmtpRegions === undefined) return { kind: 'seed', userName };
    const regions = data.sesSmtpRegions;
    if (!Array.isArray(regions) || !regions.every((r): r is string => typeof r === 'string')) {
      throw mismatch(secretId, 'field sesSmtpRegions must be an array of region names');
    }
    return { kind: 'seed', userName, sesSmtpRegions: regions };
  }

  for (const field of Object.keys(data)) {
    if (!(FULL_FIELDS as readonly string[]).includes(field)) {
      throw mismatch(secretId, `unexpected field ${JSON.stringify(field.slice(0, 64))}`);
    }
  }
  if (typeof data.accessKeyId !== 'string' || !ACCESS_KEY_ID.test(data.accessKeyId)) {
    throw mismatch(secretId, 'field accessKeyId is not an access key id');
  }
  if (typeof data.secretAccessKey !== 'string' || data.secretAccessKey.length === 0) {
    throw mismatch(secretId, 'field secretAccessKey is missing or empty');
  }
  if (typeof data.createDate !== 'string' || Number.isNaN(Date.parse(data.createDate))) {
    throw mismatch(secretId, 'field createDate is missing or not a date');
  }
  const passwords = data.sesSmtpPasswords ?? {};
  if (!isRecord(passwords) || !Object.values(passwords).every((p) => typeof p === 'string')) {
    throw mismatch(secretId, 'field sesSmtpPasswords must map regions to strings');
  }
  const smtpPasswords = passwords as Record<string, string>;
  const region = data.sesSmtpRegion;
  const password = data.sesSmtpPasswordV4;
  if (region === undefined && password === undefined) {
    if (Object.keys(smtpPasswords).length > 0) {
      throw mismatch(secretId, 'fields sesSmtpRegion and sesSmtpPasswordV4 are missing beside sesSmtpPasswords');
    }
  } else if (typeof region !== 'string' || typeof password !== 'string' || smtpPasswords[region] !== password) {
    throw mismatch(secretId, 'fields sesSmtpRegion, sesSmtpPasswordV4 and sesSmtpPasswords do not agree');
  }
  return {
    kind: 'full',
    value: {
      userName,
      accessKeyId: data.accessKeyId,
      secretAccessKey: data.secretAccessKey,
      ...(typeof region === 'string' && typeof password === 'string'
        ? { sesSmtpPasswordV4: password, sesSmtpRegion: region }
        : {}),
      sesSmtpPasswords: smtpPasswords,
      createDate: data.createDate,
    },
  };
}

/**
 * The regions a full value holds passwords for, its `sesSmtpRegion` first (the order a rotation
 * of this secret keeps).
 */
export function secretValueRegions(value: StoredSecretValue): string[] {
  const regions = Object.keys(value.sesSmtpPasswords);
  if (value.sesSmtpRegion === undefined) return regions;
  return [value.sesSmtpRegion, ...regions.filter((r) => r !== value.sesSmtpRegion)];
}

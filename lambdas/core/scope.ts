/**
 * Which IAM users keyrotate may touch. The Lambda roles are scoped the same way (by name, path
 * or tag) by the construct; this check gives a clear error before IAM would deny the call.
 */
import { UserOutOfScopeError, ValidationError } from './errors';
import type { IamUser } from './ports';
import type { UserScope } from './types';

const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const PATH = /^\/([\x21-\x7e]*\/)?$/;

/** True when any configured rule matches: a listed name, the path prefix, or the tag. */
export function isUserInScope(user: IamUser, scope: UserScope): boolean {
  if (scope.userNames?.includes(user.userName)) return true;
  if (scope.pathPrefix !== undefined && user.path.startsWith(scope.pathPrefix)) return true;
  if (scope.tag !== undefined && user.tags[scope.tag.key] === scope.tag.value) return true;
  return false;
}

/** A one-line description of the scope, for error messages. */
export function describeScope(scope: UserScope): string {
  const rules: string[] = [];
  if (scope.userNames && scope.userNames.length > 0) rules.push(`users ${scope.userNames.join(', ')}`);
  if (scope.pathPrefix !== undefined) rules.push(`path prefix ${scope.pathPrefix}`);
  if (scope.tag !== undefined) rules.push(`tag ${scope.tag.key}=${scope.tag.value}`);
  return rules.length > 0 ? rules.join(' or ') : 'no user is in scope';
}

/** @throws UserOutOfScopeError */
export function assertUserInScope(user: IamUser, scope: UserScope): void {
  if (!isUserInScope(user, scope)) throw new UserOutOfScopeError(user.userName, describeScope(scope));
}

/**
 * Parses KEYROTATE_SCOPE's JSON value (already JSON.parse'd). `field` names the source in errors.
 * An empty scope is valid and matches nobody: keyrotate never defaults to "every user".
 * @throws ValidationError
 */
export function parseUserScope(value: unknown, field = 'KEYROTATE_SCOPE'): UserScope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'must be a JSON object with userNames, pathPrefix and/or tag');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['userNames', 'pathPrefix', 'tag'].includes(key)) {
      throw new ValidationError(`${field}.${key.slice(0, 64)}`, 'unknown field; allowed: userNames, pathPrefix, tag');
    }
  }
  const scope: { userNames?: string[]; pathPrefix?: string; tag?: { key: string; value: string } } = {};
  if (record.userNames !== undefined) {
    const names = record.userNames;
    if (!Array.isArray(names) || !names.every((n): n is string => typeof n === 'string' && USER_NAME.test(n))) {
      throw new ValidationError(`${field}.userNames`, 'must be an array of IAM user names ([\\w+=,.@-]{1,64})');
    }
    scope.userNames = names;
  }
  if (record.pathPrefix !== undefined) {
    const path = record.pathPrefix;
    if (typeof path !== 'string' || path.length > 512 || !PATH.test(path)) {
      throw new ValidationError(`${field}.pathPrefix`, "must be an IAM path starting and ending with '/', e.g. /service/");
    }
    scope.pathPrefix = path;
  }
  if (record.tag !== undefined) {
    const tag = record.tag as Record<string, unknown> | null;
    if (
      typeof tag !== 'object' ||
      tag === null ||
      typeof tag.key !== 'string' ||
      typeof tag.value !== 'string' ||
      tag.key.length === 0 ||
      tag.key.length > 128 ||
      tag.value.length > 256 ||
      Object.keys(tag).some((k) => k !== 'key' && k !== 'value')
    ) {
      throw new ValidationError(`${field}.tag`, 'must be { "key": string (1-128), "value": string (0-256) }');
    }
    scope.tag = { key: tag.key, value: tag.value };
  }
  return scope;
}

/**
 * The props of `AccessKeyRotation` and their resolution: defaults applied and every value
 * validated at once, with messages that name the prop, the value received and what is allowed
 * (construction fails before anything is synthesized).
 */
import { Duration, Token } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { SES_SMTP_REGIONS } from '../lambdas/core/ses-regions';

/** What happens to the old key once the new one is delivered and verified. */
export type OldKeyAction = 'delete' | 'deactivate';

/** Where a user's new key goes. */
export type KeyDelivery =
  /** Stored as a new version of this secret (AWSPENDING, then promoted to AWSCURRENT). */
  | { readonly secret: ISecret }
  /**
   * Encrypted to this PGP public key and returned in the execution output, as Terraform's
   * `pgp_key`: base64 of a binary key, an armored key (or its base64), `keybase:NAME`,
   * `github:NAME` or `external:NAME|URL`.
   */
  | { readonly pgpKey: string };

/** Per-user overrides of the construct-wide old-key policy. */
export interface OldKeyPolicyOverrides {
  /** @default - the construct's `oldKeyAction` */
  readonly action?: OldKeyAction;
  /** @default - the construct's `gracePeriod` */
  readonly gracePeriod?: Duration;
  /** @default - the construct's `deletionDelay` */
  readonly deletionDelay?: Duration;
  /** @default - the construct's `requireUnusedFor` */
  readonly requireUnusedFor?: Duration;
}

/** One IAM user whose keys the construct rotates. */
export interface RotatedUser {
  /** The IAM user name (not the ARN). */
  readonly userName: string;
  /** Where the new key is delivered. */
  readonly delivery: KeyDelivery;
  /**
   * When to rotate (EventBridge Scheduler `rate(…)`, `cron(…)` or `at(…)`).
   * @default - no schedule: the user is rotated on demand only (console, SDK, `keyrotate rotate`)
   */
  readonly schedule?: ScheduleExpression;
  /**
   * SES regions to derive an SMTP password for; `[]` for none.
   * @default - the construct's `defaultSesSmtpRegions` (decided by Plan at run time)
   */
  readonly sesSmtpRegions?: string[];
  /**
   * Status of the new key, as Terraform's `status`.
   * @default 'Active'
   */
  readonly newKeyStatus?: 'Active' | 'Inactive';
  /** @default - the construct-wide old-key policy */
  readonly oldKey?: OldKeyPolicyOverrides;
}

/**
 * The users the Lambdas may touch. A user is in scope if any configured rule matches (listed,
 * under the path, or carrying the tag). The Lambda roles are limited to the same users by IAM
 * resource ARNs and `iam:ResourceTag` conditions, and Plan checks it again at run time.
 */
export interface RotationScope {
  /**
   * Users by name, at any IAM path.
   * @default - no user by name
   */
  readonly userNames?: string[];
  /**
   * An IAM path prefix such as `/service/` (starts and ends with `/`).
   * @default - no path rule
   */
  readonly pathPrefix?: string;
  /**
   * A tag the user must carry (`iam:ResourceTag/KEY` = VALUE).
   * @default - no tag rule
   */
  readonly tag?: { readonly key: string; readonly value: string };
}

export interface AccessKeyRotationProps {
  /**
   * The users to rotate: each gets a schedule (when `schedule` is set) and is in scope.
   * @default [] - no scheduled user; then `scope` is required
   */
  readonly users?: RotatedUser[];
  /** How long the old key stays Active after the new one is delivered and verified (0 to 365 days). */
  readonly gracePeriod: Duration;
  /** How long the old key stays Inactive before it is deleted (0 to 365 days; ignored when kept). */
  readonly deletionDelay: Duration;
  /**
   * If set, the old key must not have been used for this long before it is deactivated;
   * otherwise DeactivateOldKey re-checks every `oldKeyRecheckInterval`.
   * @default Duration.seconds(0) - the old key is deactivated after the grace period, used or not
   */
  readonly requireUnusedFor?: Duration;
  /**
   * `delete`: deactivate, wait `deletionDelay`, delete. `deactivate`: keep it Inactive.
   * @default 'delete'
   */
  readonly oldKeyAction?: OldKeyAction;
  /**
   * Wait between two checks of a recently used old key (1 minute to 1 day).
   * @default Duration.hours(1)
   */
  readonly oldKeyRecheckInterval?: Duration;
  /**
   * How many re-checks before the rotation stops and reports, leaving both keys Active (0 to 1000).
   * @default 24
   */
  readonly oldKeyMaxRechecks?: number;
  /**
   * The users the Lambdas may touch (IAM resource ARNs and tag conditions).
   * @default - exactly the users listed in `users`
   */
  readonly scope?: RotationScope;
  /**
   * More secrets that on-demand rotations may deliver to (scheduled users' secrets are
   * always allowed).
   * @default [] - only the secrets of `users`
   */
  readonly secrets?: ISecret[];
  /**
   * KMS key that seals secrets between Lambdas and encrypts the execution history, the lock
   * table and the log groups. An imported key's policy must allow the Lambda roles, Step
   * Functions and `logs.<region>.amazonaws.com` (the construct cannot edit it).
   * @default - a new key with automatic rotation enabled
   */
  readonly encryptionKey?: IKey;
  /**
   * Retention of the Lambda and state machine log groups.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;
  /**
   * SES regions used when an execution input omits `sesSmtpRegions`; `[]` for none.
   * @default - the stack's region if it has an SES SMTP endpoint, else none (decided at deploy
   * time for an environment-agnostic stack)
   */
  readonly defaultSesSmtpRegions?: string[];
  /**
   * How long one VerifyNewKey invocation retries STS before it hands back to the state
   * machine's retry (1 to 600 seconds).
   * @default Duration.seconds(20)
   */
  readonly verifyWindow?: Duration;
  /**
   * Keybase API base URL for `keybase:NAME` PGP keys.
   * @default 'https://keybase.io'
   */
  readonly keybaseUrl?: string;
  /**
   * Name of the state machine (1 to 80 of letters, digits and `-_.+!@()='`).
   * @default - derived from the construct path (unique per stack)
   */
  readonly stateMachineName?: string;
  /**
   * Where EventBridge Scheduler sends a start it could not deliver after its retries.
   * @default - none: undelivered starts show in the Scheduler's InvocationDroppedCount metric
   */
  readonly scheduleDeadLetterQueue?: IQueue;
}

/** Options of `AccessKeyRotation.addSecretsManagerRotation`. */
export interface SecretsManagerRotationOptions {
  /** The IAM user whose key the secret holds (written into the secret value on first rotation). */
  readonly userName: string;
  /** Interval between rotations (4 hours to 1000 days, Secrets Manager's bounds). */
  readonly automaticallyAfter: Duration;
  /**
   * What finishSecret does with the previous key.
   * @default 'deactivate'
   */
  readonly oldKeyAction?: OldKeyAction;
  /**
   * Rotate once when the schedule is deployed.
   * @default false - Secrets Manager only test-invokes the function at deployment; no key is created
   */
  readonly rotateImmediately?: boolean;
}

/** The execution input's `oldKey`, in seconds. */
export interface ResolvedOldKeyPolicy {
  readonly action: OldKeyAction;
  readonly gracePeriodSeconds: number;
  readonly deletionDelaySeconds: number;
  readonly requireUnusedSeconds: number;
}

export interface ResolvedUser {
  readonly userName: string;
  readonly delivery: KeyDelivery;
  readonly schedule?: ScheduleExpression;
  readonly sesSmtpRegions?: readonly string[];
  readonly newKeyStatus: 'Active' | 'Inactive';
  readonly oldKey: ResolvedOldKeyPolicy;
}

export interface ResolvedScope {
  readonly userNames?: readonly string[];
  readonly pathPrefix?: string;
  readonly tag?: { readonly key: string; readonly value: string };
}

export interface ResolvedProps {
  readonly users: readonly ResolvedUser[];
  readonly oldKey: ResolvedOldKeyPolicy;
  readonly oldKeyRecheckInterval: Duration;
  readonly oldKeyMaxRechecks: number;
  readonly scope: ResolvedScope;
  readonly secrets: readonly ISecret[];
  readonly encryptionKey?: IKey;
  readonly logRetention: RetentionDays;
  /** Undefined: decided from the stack's region (see the construct). */
  readonly defaultSesSmtpRegions?: readonly string[];
  readonly verifySeconds: number;
  readonly keybaseUrl: string;
  readonly stateMachineName?: string;
  readonly scheduleDeadLetterQueue?: IQueue;
}

/** IAM's user name pattern (CreateUser: `[\w+=,.@-]+`, 1 to 64 characters). */
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
/** IAM's path pattern: `/` alone, or `/…/` of printable ASCII, at most 512 characters. */
const IAM_PATH = /^\/([\x21-\x7e]*\/)?$/;
/** IAM tag keys: letters, digits, spaces and `_ . : / = + - @`, 1 to 128 characters. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const MAX_WAIT = Duration.days(365);
/** A Standard workflow runs at most one year; leave a day for the steps themselves. */
const MAX_EXECUTION = Duration.days(364);

/** A construct-level error: names the prop, the value and what is allowed. */
export class AccessKeyRotationPropsError extends Error {
  constructor(
    readonly prop: string,
    message: string,
  ) {
    super(`AccessKeyRotation: ${prop}: ${message}`);
    this.name = 'AccessKeyRotationPropsError';
  }
}

function fail(prop: string, message: string): never {
  throw new AccessKeyRotationPropsError(prop, message);
}

/** A short printable rendering of a value for messages. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function seconds(prop: string, value: Duration, min: Duration, max: Duration): number {
  if (Token.isUnresolved(value)) fail(prop, 'must be a concrete Duration (not a token)');
  const s = value.toSeconds({ integral: false });
  if (!Number.isInteger(s)) fail(prop, `must be a whole number of seconds, got ${value.toHumanString()}`);
  if (s < min.toSeconds() || s > max.toSeconds()) {
    fail(prop, `must be from ${min.toHumanString()} to ${max.toHumanString()}, got ${value.toHumanString()}`);
  }
  return s;
}

export function checkUserName(prop: string, userName: string): string {
  if (Token.isUnresolved(userName)) return userName;
  if (typeof userName !== 'string' || !USER_NAME.test(userName)) {
    fail(prop, `${show(userName)} is not an IAM user name (1 to 64 of letters, digits and + = , . @ _ -)`);
  }
  return userName;
}

export function checkOldKeyAction(prop: string, action: string): OldKeyAction {
  if (action !== 'delete' && action !== 'deactivate') fail(prop, `must be 'delete' or 'deactivate', got ${show(action)}`);
  return action;
}

function checkRegions(prop: string, regions: readonly string[]): string[] {
  if (!Array.isArray(regions)) fail(prop, 'must be an array of region names');
  const result: string[] = [];
  for (const region of regions) {
    if (Token.isUnresolved(region)) {
      result.push(region);
      continue;
    }
    if (!SES_SMTP_REGIONS.includes(region)) {
      fail(prop, `${show(region)} has no SES SMTP endpoint; allowed: ${SES_SMTP_REGIONS.join(', ')}`);
    }
    if (!result.includes(region)) result.push(region);
  }
  return result;
}

function checkPgpKey(prop: string, pgpKey: string): void {
  if (Token.isUnresolved(pgpKey)) return;
  if (typeof pgpKey !== 'string' || pgpKey.trim() === '') fail(prop, 'must be a non-empty PGP public key or key reference');
  // A private key must never end up in a template or a schedule's input.
  if (/PRIVATE KEY BLOCK/.test(pgpKey)) fail(prop, 'is a PGP PRIVATE key; give the public key');
  const known = /^(keybase:|github:|external:)/.test(pgpKey) || /BEGIN PGP PUBLIC KEY BLOCK/.test(pgpKey) || /^[A-Za-z0-9+/=\s]+$/.test(pgpKey);
  if (!known) {
    fail(prop, 'must be base64 of a binary or armored public key, an armored key, keybase:NAME, github:NAME or external:NAME|URL');
  }
}

function resolveOldKey(prop: string, overrides: OldKeyPolicyOverrides | undefined, base: ResolvedOldKeyPolicy): ResolvedOldKeyPolicy {
  return {
    action: overrides?.action === undefined ? base.action : checkOldKeyAction(`${prop}.action`, overrides.action),
    gracePeriodSeconds:
      overrides?.gracePeriod === undefined
        ? base.gracePeriodSeconds
        : seconds(`${prop}.gracePeriod`, overrides.gracePeriod, Duration.seconds(0), MAX_WAIT),
    deletionDelaySeconds:
      overrides?.deletionDelay === undefined
        ? base.deletionDelaySeconds
        : seconds(`${prop}.deletionDelay`, overrides.deletionDelay, Duration.seconds(0), MAX_WAIT),
    requireUnusedSeconds:
      overrides?.requireUnusedFor === undefined
        ? base.requireUnusedSeconds
        : seconds(`${prop}.requireUnusedFor`, overrides.requireUnusedFor, Duration.seconds(0), MAX_WAIT),
  };
}

function checkScope(prop: string, scope: RotationScope): ResolvedScope {
  const resolved: { userNames?: string[]; pathPrefix?: string; tag?: { key: string; value: string } } = {};
  if (scope.userNames !== undefined) {
    if (!Array.isArray(scope.userNames)) fail(`${prop}.userNames`, 'must be an array of IAM user names');
    resolved.userNames = scope.userNames.map((name, i) => checkUserName(`${prop}.userNames[${i}]`, name));
    if (resolved.userNames.length === 0) delete resolved.userNames;
  }
  if (scope.pathPrefix !== undefined) {
    const p = scope.pathPrefix;
    if (!Token.isUnresolved(p) && (typeof p !== 'string' || !IAM_PATH.test(p) || p.length > 512)) {
      fail(`${prop}.pathPrefix`, `${show(p)} is not an IAM path: it must start and end with '/' (e.g. '/service/')`);
    }
    resolved.pathPrefix = p;
  }
  if (scope.tag !== undefined) {
    const { key, value } = scope.tag;
    if (!Token.isUnresolved(key) && (typeof key !== 'string' || !TAG_KEY.test(key) || key.startsWith('aws:'))) {
      fail(`${prop}.tag.key`, `${show(key)} is not a usable IAM tag key (1 to 128 characters, not 'aws:')`);
    }
    if (!Token.isUnresolved(value) && (typeof value !== 'string' || !TAG_VALUE.test(value))) {
      fail(`${prop}.tag.value`, `${show(value)} is not an IAM tag value (0 to 256 characters)`);
    }
    resolved.tag = { key, value };
  }
  if (resolved.userNames === undefined && resolved.pathPrefix === undefined && resolved.tag === undefined) {
    fail(prop, 'matches no user: give userNames (non-empty), pathPrefix or tag');
  }
  return resolved;
}

/** Whether a scope certainly covers a user name at synth time (path and tag are only known at run time). */
export function scopeMayInclude(scope: ResolvedScope, userName: string): boolean {
  return scope.pathPrefix !== undefined || scope.tag !== undefined || (scope.userNames ?? []).includes(userName) || Token.isUnresolved(userName);
}

/** Applies the defaults and validates every prop; throws AccessKeyRotationPropsError. */
export function resolveProps(props: AccessKeyRotationProps): ResolvedProps {
  if (props.gracePeriod === undefined) fail('gracePeriod', 'is required (Duration.seconds(0) for none)');
  if (props.deletionDelay === undefined) fail('deletionDelay', 'is required (Duration.seconds(0) for none)');
  const oldKey: ResolvedOldKeyPolicy = {
    action: checkOldKeyAction('oldKeyAction', props.oldKeyAction ?? 'delete'),
    gracePeriodSeconds: seconds('gracePeriod', props.gracePeriod, Duration.seconds(0), MAX_WAIT),
    deletionDelaySeconds: seconds('deletionDelay', props.deletionDelay, Duration.seconds(0), MAX_WAIT),
    requireUnusedSeconds: seconds('requireUnusedFor', props.requireUnusedFor ?? Duration.seconds(0), Duration.seconds(0), MAX_WAIT),
  };
  const oldKeyRecheckInterval = props.oldKeyRecheckInterval ?? Duration.hours(1);
  seconds('oldKeyRecheckInterval', oldKeyRecheckInterval, Duration.minutes(1), Duration.days(1));
  const oldKeyMaxRechecks = props.oldKeyMaxRechecks ?? 24;
  if (!Number.isInteger(oldKeyMaxRechecks) || oldKeyMaxRechecks < 0 || oldKeyMaxRechecks > 1000) {
    fail('oldKeyMaxRechecks', `must be a whole number from 0 to 1000, got ${show(oldKeyMaxRechecks)}`);
  }

  const usersProp = props.users ?? [];
  if (!Array.isArray(usersProp)) fail('users', 'must be an array');
  const seen = new Set<string>();
  const users = usersProp.map((user, i): ResolvedUser => {
    const prop = `users[${i}]`;
    const userName = checkUserName(`${prop}.userName`, user.userName);
    if (seen.has(userName)) fail(`${prop}.userName`, `${show(userName)} is listed twice; one entry per user`);
    seen.add(userName);
    const delivery = user.delivery as Partial<{ secret: ISecret; pgpKey: string }> | undefined;
    const hasSecret = delivery?.secret !== undefined;
    const hasPgp = delivery?.pgpKey !== undefined;
    if (hasSecret === hasPgp) fail(`${prop}.delivery`, 'must be exactly one of { secret } or { pgpKey }');
    if (hasPgp) checkPgpKey(`${prop}.delivery.pgpKey`, delivery.pgpKey as string);
    const newKeyStatus = user.newKeyStatus ?? 'Active';
    if (newKeyStatus !== 'Active' && newKeyStatus !== 'Inactive') {
      fail(`${prop}.newKeyStatus`, `must be 'Active' or 'Inactive', got ${show(newKeyStatus)}`);
    }
    return {
      userName,
      delivery: user.delivery,
      schedule: user.schedule,
      sesSmtpRegions: user.sesSmtpRegions === undefined ? undefined : checkRegions(`${prop}.sesSmtpRegions`, user.sesSmtpRegions),
      newKeyStatus,
      oldKey: resolveOldKey(`${prop}.oldKey`, user.oldKey, oldKey),
    };
  });

  const recheckSeconds = oldKeyRecheckInterval.toSeconds() * oldKeyMaxRechecks;
  for (const [prop, policy] of [['', oldKey] as const, ...users.map((u, i) => [`users[${i}].oldKey`, u.oldKey] as const)]) {
    const total = policy.gracePeriodSeconds + policy.deletionDelaySeconds + (policy.requireUnusedSeconds > 0 ? recheckSeconds : 0);
    if (total > MAX_EXECUTION.toSeconds()) {
      fail(
        prop || 'gracePeriod',
        `grace period + deletion delay${policy.requireUnusedSeconds > 0 ? ' + old-key re-checks' : ''} add up to ` +
          `${Math.ceil(total / 86_400)} days; a Standard workflow runs at most ${MAX_EXECUTION.toDays()} days here`,
      );
    }
  }

  const scope =
    props.scope === undefined
      ? users.length > 0
        ? { userNames: users.map((u) => u.userName) }
        : fail('scope', 'is required when users is empty: without it the Lambdas could touch no user')
      : checkScope('scope', props.scope);
  for (const [i, user] of users.entries()) {
    if (!scopeMayInclude(scope, user.userName)) {
      fail(`users[${i}].userName`, `${show(user.userName)} is outside scope (scope.userNames: ${(scope.userNames ?? []).join(', ')})`);
    }
  }

  const verifySeconds = seconds('verifyWindow', props.verifyWindow ?? Duration.seconds(20), Duration.seconds(1), Duration.seconds(600));
  const keybaseUrl = props.keybaseUrl ?? 'https://keybase.io';
  if (!Token.isUnresolved(keybaseUrl) && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(keybaseUrl)) {
    fail('keybaseUrl', `${show(keybaseUrl)} is not an http(s) URL`);
  }
  const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
  const name = props.stateMachineName;
  if (name !== undefined && !Token.isUnresolved(name) && !/^[A-Za-z0-9+!@.()\-=_']{1,80}$/.test(name)) {
    fail('stateMachineName', `${show(name)} is not a state machine name (1 to 80 of letters, digits and - _ . + ! @ ( ) = ')`);
  }

  return {
    users,
    oldKey,
    oldKeyRecheckInterval,
    oldKeyMaxRechecks,
    scope,
    secrets: props.secrets ?? [],
    encryptionKey: props.encryptionKey,
    logRetention,
    defaultSesSmtpRegions:
      props.defaultSesSmtpRegions === undefined ? undefined : checkRegions('defaultSesSmtpRegions', props.defaultSesSmtpRegions),
    verifySeconds,
    keybaseUrl,
    stateMachineName: name,
    scheduleDeadLetterQueue: props.scheduleDeadLetterQueue,
  };
}

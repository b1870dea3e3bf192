import {
  AmbiguousCurrentKeyError,
  KeyStateConflictError,
  OldKeyInUseError,
  RotationInProgressError,
  SecretMismatchError,
  ValidationError,
} from '../errors';
import { type KeyEvidence, type KnownCurrentKey, planKeys } from '../plan-keys';
import { parseRotationInput } from '../rotation-input';
import { assertUserInScope } from '../scope';
import { parseSecretValue } from '../secret-value';
import type { LockHolder, RotationLock } from '../ports';
import type { AccessKeyInfo, KeyPlan, OldKeyPolicy, RotationPlan, RotationRequest, UserScope } from '../types';
import { LOCK_MARGIN_SECONDS, OLD_KEY_USAGE_SLACK_SECONDS } from './common';
import type { RotationDeps } from './deps';

/** Execution names are 1-80 characters; Secrets Manager tokens 32-64. No blanks or controls. */
const ROTATION_ID = /^[^\s\p{Cc}]{1,128}$/u;

export interface PlanConfig {
  /** Users keyrotate may touch (KEYROTATE_SCOPE). */
  readonly scope: UserScope;
  /** Used when the input omits `sesSmtpRegions` (KEYROTATE_DEFAULT_SES_REGIONS). */
  readonly defaultSesSmtpRegions: readonly string[];
}

/**
 * How long the rotation may hold the user: both waits, the budget for the old key to fall
 * silent, and a margin for every Lambda and retry in between.
 */
export function lockLeaseSeconds(oldKey: OldKeyPolicy): number {
  const usageBudget = oldKey.requireUnusedSeconds > 0 ? oldKey.requireUnusedSeconds + OLD_KEY_USAGE_SLACK_SECONDS : 0;
  return oldKey.gracePeriodSeconds + usageBudget + oldKey.deletionDelaySeconds + LOCK_MARGIN_SECONDS;
}

/**
 * The key in the secret's AWSPREVIOUS value, when it is a full value of the same user: the key
 * AWSCURRENT was moved off. Anything else (no such version, a seed, another user) is no evidence.
 */
async function previousKeyOfSecret(deps: Pick<RotationDeps, 'secrets'>, secretId: string, userName: string): Promise<string | undefined> {
  try {
    const previous = await deps.secrets.getValue(secretId, { stage: 'AWSPREVIOUS' });
    if (!previous) return undefined;
    const parsed = parseSecretValue(previous.value, secretId);
    return parsed.kind === 'full' && parsed.value.userName === userName ? parsed.value.accessKeyId : undefined;
  } catch (error) {
    // An old value that is not keyrotate's (binary, foreign JSON) is simply no evidence.
    if (error instanceof SecretMismatchError) return undefined;
    throw error;
  }
}

/**
 * Every independent statement of which key is current. The secret is what consumers read, so it
 * is listed first; `accessKeyId` (start from a key) counts only when `oldAccessKeyId` is absent.
 */
async function knownCurrentKey(
  deps: Pick<RotationDeps, 'secrets'>,
  request: RotationRequest,
  userName: string,
): Promise<KnownCurrentKey | null> {
  const claims: KnownCurrentKey[] = [];
  if (request.delivery.type === 'secretsManager') {
    const { secretId } = request.delivery;
    const current = await deps.secrets.getValue(secretId, { stage: 'AWSCURRENT' });
    if (current) {
      const parsed = parseSecretValue(current.value, secretId);
      const owner = parsed.kind === 'full' ? parsed.value.userName : parsed.userName;
      // Delivering this user's key into another user's secret would break that user's consumers.
      if (owner !== userName) {
        throw new SecretMismatchError(
          `secret '${secretId}' belongs to IAM user '${owner}', not '${userName}'; nothing was changed`,
        );
      }
      if (parsed.kind === 'full') claims.push({ accessKeyId: parsed.value.accessKeyId, source: 'secretsManager' });
    }
  }
  if (request.oldAccessKeyId !== undefined) claims.push({ accessKeyId: request.oldAccessKeyId, source: 'oldAccessKeyId' });
  else if (request.accessKeyId !== undefined) claims.push({ accessKeyId: request.accessKeyId, source: 'accessKeyId' });

  const [first, ...rest] = claims;
  const disagreeing = rest.find((claim) => claim.accessKeyId !== first?.accessKeyId);
  if (first && disagreeing) {
    throw new KeyStateConflictError(
      `${first.source} says access key ${first.accessKeyId} of IAM user '${userName}' is current, ` +
        `${disagreeing.source} says ${disagreeing.accessKeyId}; nothing was changed`,
    );
  }
  return first ?? null;
}

/**
 * planKeys' evidence of an unfinished retirement, read only where it can matter: the user has a
 * second Active key. The secret's AWSPREVIOUS counts when the secret names the current key.
 * keyrotate's delivery record counts only when something names the delivered key as current: the
 * secret's AWSCURRENT value (what consumers read, so they have the key), or the operator's
 * `oldAccessKeyId` / `accessKeyId`. On its own it proves nothing a consumer has: for PGP the
 * ciphertext may sit in a failed execution nobody read, and retiring the replaced key could cut
 * its consumers off; then the record only explains the ambiguity to the operator.
 */
async function keyEvidence(
  deps: Pick<RotationDeps, 'secrets' | 'lock'>,
  request: RotationRequest,
  keys: readonly AccessKeyInfo[],
  known: KnownCurrentKey | null,
  userName: string,
): Promise<KeyEvidence> {
  if (keys.filter((k) => k.status === 'Active').length < 2) return {};
  const record = await deps.lock.deliveryRecord(userName);
  // planKeys lets it decide only when the known current key is the delivered one.
  const delivered: KeyEvidence =
    record === null
      ? {}
      : { delivered: { accessKeyId: record.accessKeyId, replacedAccessKeyId: record.replacedAccessKeyId, rotationId: record.rotationId } };
  if (request.delivery.type !== 'secretsManager' || known?.source !== 'secretsManager') return delivered;
  const previousAccessKeyId = await previousKeyOfSecret(deps, request.delivery.secretId, userName);
  return previousAccessKeyId === undefined ? delivered : { ...delivered, previousAccessKeyId };
}

/**
 * An unfinished retirement (planKeys) is removed before the new key exists, so the request's own
 * usage policy must allow it now: with `requireUnusedSeconds`, a use within that window means a
 * consumer still relies on the key, and nothing is changed.
 */
async function assertRetiringKeyUnused(
  deps: Pick<RotationDeps, 'directory' | 'clock'>,
  keyPlan: KeyPlan,
  request: RotationRequest,
  userName: string,
): Promise<void> {
  const window = request.oldKey.requireUnusedSeconds;
  if (keyPlan.staleKeyReason !== 'unfinishedRetirement' || keyPlan.staleAccessKeyId === null || window <= 0) return;
  const lastUsed = await deps.directory.getAccessKeyLastUsed(keyPlan.staleAccessKeyId);
  if (lastUsed === undefined || lastUsed.getTime() + window * 1000 <= deps.clock.now().getTime()) return;
  throw new OldKeyInUseError(
    `access key ${keyPlan.staleAccessKeyId} of IAM user '${userName}' is the key an earlier rotation replaced, still Active ` +
      `because that rotation could not retire it, and was last used at ${lastUsed.toISOString()}, within requireUnusedSeconds ` +
      `(${window}); nothing was changed: move its consumers to the current key, then retry`,
  );
}

/** A key-state refusal that, while another rotation holds the user, may be that rotation's doing. */
function isKeyStateError(error: unknown): boolean {
  return error instanceof KeyStateConflictError || error instanceof AmbiguousCurrentKeyError;
}

/**
 * The Plan step: validate the input, resolve and scope-check the user, take the per-user lock
 * (a dry run only reads who holds it), then read the keys and, for Secrets Manager delivery, the
 * secret's AWSCURRENT value, and decide the old and stale keys (planKeys).
 *
 * The lock comes before the key state is read, for two reasons. A rotation in flight has two
 * keys for a while; planning against them would fail with a key-state error telling the operator
 * to delete a key by hand, and that key is the other rotation's new one. And `snapshot` (the keys
 * that are not this rotation's) must be read while no other rotation can add or remove a key:
 * CreateKey and RollBack delete every key outside it. Every failure after the lock releases it,
 * so bad input, scope, ambiguity or a busy user still change nothing.
 *
 * @throws ValidationError, UserNotFoundError, AccessKeyNotFoundError, UserOutOfScopeError,
 *   RotationInProgressError, SecretNotFoundError, SecretMismatchError, AmbiguousCurrentKeyError,
 *   KeyStateConflictError, OldKeyInUseError (an unfinished retirement's key is still in use)
 */
export async function planRotation(
  deps: Pick<RotationDeps, 'directory' | 'secrets' | 'lock' | 'clock'>,
  request: { readonly input: unknown; readonly rotationId: string },
  config: PlanConfig,
): Promise<RotationPlan> {
  const { rotationId } = request;
  if (typeof rotationId !== 'string' || !ROTATION_ID.test(rotationId)) {
    throw new ValidationError('rotationId', 'must be 1-128 characters without blanks or control characters');
  }
  const input = parseRotationInput(request.input, config);

  const userName = input.userName ?? (await deps.directory.findUserNameByAccessKey(input.accessKeyId as string));
  const user = await deps.directory.getUser(userName);
  assertUserInScope(user, config.scope);

  const now = deps.clock.now();
  const lockExpiresAt = new Date(now.getTime() + lockLeaseSeconds(input.oldKey) * 1000);
  // A dry run takes no lock; it reports the holder, and blames it for a key state it may cause.
  let otherHolder: LockHolder | null = null;
  if (input.dryRun) {
    const holder = await deps.lock.holder(userName);
    otherHolder = holder && holder.owner !== rotationId ? holder : null;
  } else {
    await deps.lock.acquire(userName, rotationId, lockExpiresAt);
  }

  let keyPlan: KeyPlan;
  try {
    const keys = await deps.directory.listAccessKeys(userName);
    const known = await knownCurrentKey(deps, input, userName);
    keyPlan = planKeys(keys, known, { userName }, await keyEvidence(deps, input, keys, known, userName));
    await assertRetiringKeyUnused(deps, keyPlan, input, userName);
  } catch (error) {
    if (!input.dryRun) await releaseAfterFailure(deps.lock, userName, rotationId);
    if (otherHolder && isKeyStateError(error)) {
      throw new RotationInProgressError(userName, `rotation ${otherHolder.owner}, lease until ${otherHolder.expiresAt.toISOString()}`);
    }
    throw error;
  }

  const plan: RotationPlan = {
    rotationId,
    userName,
    userArn: user.arn,
    ...keyPlan,
    delivery: input.delivery,
    sesSmtpRegions: input.sesSmtpRegions,
    newKeyStatus: input.newKeyStatus,
    oldKey: input.oldKey,
    dryRun: input.dryRun,
    lockExpiresAt: lockExpiresAt.toISOString(),
  };
  return input.dryRun ? { ...plan, lockHeldBy: otherHolder?.owner ?? null } : plan;
}

/**
 * Plan changed nothing but the lock, so it lets go. If even that fails, the planning error is
 * the one to report; the lease then runs out on its own.
 */
async function releaseAfterFailure(lock: Pick<RotationLock, 'release'>, userName: string, rotationId: string): Promise<void> {
  try {
    await lock.release(userName, rotationId);
  } catch {
    // Deliberately ignored: see above.
  }
}

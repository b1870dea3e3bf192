import { KeyStateConflictError, SecretMismatchError, ValidationError } from '../errors';
import { type KnownCurrentKey, planKeys } from '../plan-keys';
import { parseRotationInput } from '../rotation-input';
import { assertUserInScope } from '../scope';
import { parseSecretValue } from '../secret-value';
import type { OldKeyPolicy, RotationPlan, RotationRequest, UserScope } from '../types';
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
 * The Plan step: validate the input, resolve and scope-check the user, read the keys (and, for
 * Secrets Manager delivery, the secret's AWSCURRENT value), decide old/stale keys (planKeys),
 * then take the per-user lock (not for dry runs). Bad input or an ambiguous key state changes
 * nothing: validation comes first, then reads only, then the lock.
 *
 * @throws ValidationError, UserNotFoundError, AccessKeyNotFoundError, UserOutOfScopeError,
 *   SecretNotFoundError, SecretMismatchError, AmbiguousCurrentKeyError, KeyStateConflictError,
 *   RotationInProgressError
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
  const keys = await deps.directory.listAccessKeys(userName);
  const known = await knownCurrentKey(deps, input, userName);
  const keyPlan = planKeys(keys, known, { userName });

  const now = deps.clock.now();
  const lockExpiresAt = new Date(now.getTime() + lockLeaseSeconds(input.oldKey) * 1000);
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
  if (input.dryRun) {
    const holder = await deps.lock.holder(userName);
    return { ...plan, lockHeldBy: holder && holder.owner !== rotationId ? holder.owner : null };
  }
  // Last, so that nothing above (validation, scope, ambiguity) ever leaves a lock behind.
  await deps.lock.acquire(userName, rotationId, lockExpiresAt);
  return plan;
}

import { SecretNotFoundError, ValidationError } from '../errors';
import { clientRequestTokenFor } from '../tokens';
import type { DeliveryResult, NewKeyRef, RotationPlan } from '../types';
import { assertLockHeld, releaseAtEnd } from './common';
import type { RotationDeps } from './deps';

export interface RollBackRequest {
  readonly mode: 'rollback' | 'release';
  readonly plan: RotationPlan;
  readonly newKey?: NewKeyRef | null;
  readonly delivery?: DeliveryResult | null;
  /** The caught Step Functions error ({ Error, Cause }); only logged by the handler. */
  readonly error?: unknown;
}

export interface RollBackResult {
  readonly deletedKeys: readonly string[];
  /** This rotation's secret version that lost AWSPENDING, or null. */
  readonly withdrawnVersion: string | null;
  /** Present only when the lock could not be released (it frees itself at plan.lockExpiresAt). */
  readonly warnings?: readonly string[];
}

/**
 * The end of every mode. Best effort: this step runs because the rotation already failed, and
 * failing here would replace that error (the one the operator needs) with a lock error.
 */
async function withRelease(
  deps: Pick<RotationDeps, 'lock'>,
  plan: RotationPlan,
  result: Omit<RollBackResult, 'warnings'>,
): Promise<RollBackResult> {
  const warning = await releaseAtEnd(deps.lock, plan);
  return warning === null ? result : { ...result, warnings: [warning] };
}

const NOTHING: RollBackResult = { deletedKeys: [], withdrawnVersion: null };

/** A deleted secret holds nothing to withdraw; the keys must still be cleaned up. */
async function versionsOrNone(deps: Pick<RotationDeps, 'secrets'>, secretId: string) {
  try {
    return (await deps.secrets.describe(secretId)).versions;
  } catch (error) {
    if (error instanceof SecretNotFoundError) return [];
    throw error;
  }
}

/**
 * RollBack (`mode: 'rollback'`): deletes every key of the user not in plan.snapshot (the new key
 * and any orphan; never a snapshot key), withdraws AWSPENDING from this rotation's secret version
 * unless it became AWSCURRENT (then nothing is rolled back), releases the lock.
 * ReleaseLock (`mode: 'release'`): only releases the lock. Both idempotent. The release is best
 * effort in both modes: a failure is returned in `warnings`, never thrown.
 *
 * `newKey` and `delivery` are not needed: a step may have crashed before returning them, so the
 * keys are found from the snapshot and the secret version from the rotation id.
 * @throws RotationLockLostError (another rotation holds the user: nothing is deleted)
 */
export async function rollBack(
  deps: Pick<RotationDeps, 'directory' | 'secrets' | 'lock'>,
  request: RollBackRequest,
): Promise<RollBackResult> {
  const { plan } = request;
  if (request.mode === 'release') return withRelease(deps, plan, NOTHING);
  if (request.mode !== 'rollback') throw new ValidationError('mode', 'must be "rollback" or "release"');

  let pendingVersion: string | null = null;
  if (plan.delivery.type === 'secretsManager') {
    const token = clientRequestTokenFor(plan.rotationId);
    const versions = await versionsOrNone(deps, plan.delivery.secretId);
    const ours = versions.find((v) => v.versionId === token);
    // Consumers may already read the new key (guarantee "verified before retired"): keep it, and only let go of the user.
    if (ours?.stages.includes('AWSCURRENT')) return withRelease(deps, plan, NOTHING);
    if (ours?.stages.includes('AWSPENDING')) pendingVersion = token;
  }
  const keys = await deps.directory.listAccessKeys(plan.userName);
  const extra = keys.filter((k) => !plan.snapshot.includes(k.accessKeyId)).map((k) => k.accessKeyId);

  if (extra.length > 0 || pendingVersion !== null) {
    // Without the lock, a key outside the snapshot could be another rotation's new key.
    await assertLockHeld(deps.lock, plan);
    if (pendingVersion !== null && plan.delivery.type === 'secretsManager') {
      await deps.secrets.removeStage(plan.delivery.secretId, 'AWSPENDING', pendingVersion);
    }
    for (const accessKeyId of extra) await deps.directory.deleteAccessKey(plan.userName, accessKeyId);
  }
  return withRelease(deps, plan, { deletedKeys: extra, withdrawnVersion: pendingVersion });
}

import { KeyStateConflictError, OldKeyInUseError, OldKeyRecentlyUsedError, ValidationError } from '../errors';
import { clientRequestTokenFor } from '../tokens';
import type { AccessKeyInfo, DeliveryResult, KeyStatus, NewKeyRef, RotationOutput, RotationPlan } from '../types';
import { OLD_KEY_USAGE_SLACK_SECONDS, assertLockHeld, describeFailure, releaseAtEnd } from './common';
import type { RotationDeps } from './deps';

export interface RetireRequest {
  readonly step: 'deactivate' | 'finish';
  readonly plan: RotationPlan;
  readonly newKey: NewKeyRef;
  readonly delivery: DeliveryResult;
}

export interface DeactivateResult {
  /** The old key after this step, or null on a first rotation (or when it is already gone). */
  readonly oldKey: { readonly accessKeyId: string; readonly status: KeyStatus } | null;
  /** The new key after this step (Inactive when newKeyStatus asked for it). */
  readonly newKey: { readonly accessKeyId: string; readonly status: KeyStatus };
}

type RetireDeps = Pick<RotationDeps, 'directory' | 'secrets' | 'lock' | 'clock'>;

function find(keys: readonly AccessKeyInfo[], accessKeyId: string): AccessKeyInfo | undefined {
  return keys.find((k) => k.accessKeyId === accessKeyId);
}

/**
 * Invariant 2 checked where it matters, not only trusted to the state machine's order: the new
 * key must still exist and work, and a secret's consumers must already read it.
 */
async function assertNewKeyInService(deps: RetireDeps, plan: RotationPlan, keys: readonly AccessKeyInfo[], newKey: NewKeyRef): Promise<void> {
  const key = find(keys, newKey.accessKeyId);
  if (key?.status !== 'Active') {
    throw new KeyStateConflictError(
      `the new access key ${newKey.accessKeyId} of IAM user '${plan.userName}' is ${key ? 'Inactive' : 'gone'}; ` +
        `the old key ${plan.oldAccessKeyId ?? ''} was left untouched`,
    );
  }
  if (plan.delivery.type === 'secretsManager') {
    const token = clientRequestTokenFor(plan.rotationId);
    const { versions } = await deps.secrets.describe(plan.delivery.secretId);
    const ours = versions.find((v) => v.versionId === token);
    if (!ours?.stages.includes('AWSCURRENT')) {
      throw new KeyStateConflictError(
        `secret '${plan.delivery.secretId}' does not serve this rotation's version ${token} as AWSCURRENT; ` +
          `the old key ${plan.oldAccessKeyId ?? ''} was left untouched`,
      );
    }
  }
}

/**
 * `requireUnusedSeconds`: the old key must have been silent that long. Consumers can switch only
 * once the new key exists, and they have the grace period to do so, so the key should fall
 * silent by createDate + grace + requireUnused; OLD_KEY_USAGE_SLACK_SECONDS more allows for
 * IAM's reporting delay. Before that point: OldKeyRecentlyUsedError (retried). Once the key
 * cannot become eligible by then: OldKeyInUseError, and both keys stay Active.
 */
async function checkOldKeyUnused(deps: RetireDeps, plan: RotationPlan, newKey: NewKeyRef, oldKeyId: string): Promise<void> {
  const window = plan.oldKey.requireUnusedSeconds;
  if (window <= 0) return;
  const lastUsed = await deps.directory.getAccessKeyLastUsed(oldKeyId);
  if (lastUsed === undefined) return;
  const now = deps.clock.now().getTime();
  const eligibleAt = lastUsed.getTime() + window * 1000;
  if (eligibleAt <= now) return;
  const giveUpAt =
    Date.parse(newKey.createDate) + (plan.oldKey.gracePeriodSeconds + window + OLD_KEY_USAGE_SLACK_SECONDS) * 1000;
  const detail =
    `access key ${oldKeyId} of IAM user '${plan.userName}' was last used at ${lastUsed.toISOString()}, ` +
    `within requireUnusedSeconds (${window})`;
  if (eligibleAt > giveUpAt) {
    throw new OldKeyInUseError(`${detail} and is still in use; both keys were left Active`);
  }
  throw new OldKeyRecentlyUsedError(`${detail}; waiting until ${new Date(eligibleAt).toISOString()}`);
}

async function deactivate(deps: RetireDeps, request: RetireRequest): Promise<DeactivateResult> {
  const { plan, newKey } = request;
  const keys = await deps.directory.listAccessKeys(plan.userName);
  const oldKey = plan.oldAccessKeyId === null ? undefined : find(keys, plan.oldAccessKeyId);
  const oldState = oldKey ? { accessKeyId: oldKey.accessKeyId, status: oldKey.status } : null;

  if (plan.newKeyStatus === 'Inactive') {
    // The key was created Active only so VerifyNewKey could prove it; now apply Terraform's
    // `status`. The old key stays Active: it is the user's only working key.
    const created = find(keys, newKey.accessKeyId);
    if (!created) throw new KeyStateConflictError(`the new access key ${newKey.accessKeyId} of IAM user '${plan.userName}' is gone`);
    if (created.status === 'Active') {
      await assertLockHeld(deps.lock, plan);
      await deps.directory.setAccessKeyStatus(plan.userName, newKey.accessKeyId, 'Inactive');
    }
    return { oldKey: oldState, newKey: { accessKeyId: newKey.accessKeyId, status: 'Inactive' } };
  }

  const newState = { accessKeyId: newKey.accessKeyId, status: 'Active' as const };
  // First rotation, the old key already gone, or a re-run after it was deactivated.
  if (!oldKey || oldKey.status === 'Inactive') {
    return { oldKey: oldState, newKey: newState };
  }
  await assertNewKeyInService(deps, plan, keys, newKey);
  await checkOldKeyUnused(deps, plan, newKey, oldKey.accessKeyId);
  await assertLockHeld(deps.lock, plan);
  await deps.directory.setAccessKeyStatus(plan.userName, oldKey.accessKeyId, 'Inactive');
  return { oldKey: { accessKeyId: oldKey.accessKeyId, status: 'Inactive' }, newKey: newState };
}

async function finish(deps: RetireDeps, request: RetireRequest): Promise<RotationOutput> {
  const { plan, newKey, delivery } = request;
  const warnings: string[] = [];
  let previousKey: RotationOutput['previousKey'] = null;
  const oldKeyId = plan.oldAccessKeyId;
  if (oldKeyId !== null && plan.newKeyStatus === 'Inactive') {
    previousKey = { id: oldKeyId, action: 'kept' };
  } else if (oldKeyId !== null) {
    const keys = await deps.directory.listAccessKeys(plan.userName);
    const oldKey = find(keys, oldKeyId);
    // Active again after DeactivateOldKey: someone needed it during the deletion delay.
    if (oldKey?.status === 'Active') {
      throw new KeyStateConflictError(
        `access key ${oldKeyId} of IAM user '${plan.userName}' was re-activated after keyrotate deactivated it; it was kept`,
      );
    }
    previousKey = { id: oldKeyId, action: plan.oldKey.action === 'delete' ? 'deleted' : 'deactivated' };
    if (plan.oldKey.action === 'delete' && oldKey) {
      try {
        await assertLockHeld(deps.lock, plan);
        await deps.directory.deleteAccessKey(plan.userName, oldKeyId);
      } catch (error) {
        // The rotation is done: the new key is delivered, verified, and the old one Inactive.
        // Failing now would report it as failed (for PGP, losing the encrypted secret) over a
        // clean-up that the next rotation does anyway: an Inactive key is its stale key.
        previousKey = { id: oldKeyId, action: 'deactivated' };
        warnings.push(
          `access key ${oldKeyId} of IAM user '${plan.userName}' is Inactive but could not be deleted ` +
            `(${describeFailure(error)}); the next rotation deletes it, or delete it yourself`,
        );
      }
    }
  }
  // Idempotent: a re-run after a crash here finds the work done and the lock free.
  const released = await releaseAtEnd(deps.lock, plan);
  if (released !== null) warnings.push(released);

  const deliveryFields =
    delivery.type === 'secretsManager'
      ? { secretArn: delivery.secretArn, secretVersionId: delivery.secretVersionId }
      : {
          encryptedSecret: delivery.encryptedSecret,
          encryptedSesSmtpPasswordV4: delivery.encryptedSesSmtpPasswordV4,
          encryptedSesSmtpPasswords: delivery.encryptedSesSmtpPasswords,
          keyFingerprint: delivery.keyFingerprint,
        };
  return {
    id: newKey.accessKeyId,
    userName: plan.userName,
    status: plan.newKeyStatus,
    createDate: newKey.createDate,
    sesSmtpRegions: plan.sesSmtpRegions,
    ...deliveryFields,
    previousKey,
    rotationId: plan.rotationId,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/**
 * DeactivateOldKey (`step: 'deactivate'`): checks `requireUnusedSeconds`, then sets the old key
 * Inactive. With newKeyStatus Inactive it instead sets the NEW key Inactive and keeps the old one.
 * DeleteOldKey (`step: 'finish'`): deletes the old key when oldKey.action is 'delete', releases
 * the lock and returns the RotationOutput. Both idempotent; no old key → no-ops. Once the old key
 * is Inactive the rotation has succeeded: a failed delete or release is a `warnings` entry, not
 * an error.
 * @throws OldKeyRecentlyUsedError (retried), OldKeyInUseError, RotationLockLostError,
 *   KeyStateConflictError
 */
export function retireOldKey(deps: RetireDeps, request: RetireRequest & { readonly step: 'deactivate' }): Promise<DeactivateResult>;
export function retireOldKey(deps: RetireDeps, request: RetireRequest & { readonly step: 'finish' }): Promise<RotationOutput>;
export function retireOldKey(deps: RetireDeps, request: RetireRequest): Promise<DeactivateResult | RotationOutput>;
export async function retireOldKey(deps: RetireDeps, request: RetireRequest): Promise<DeactivateResult | RotationOutput> {
  if (request.step === 'deactivate') return deactivate(deps, request);
  if (request.step === 'finish') return finish(deps, request);
  throw new ValidationError('step', 'must be "deactivate" or "finish"');
}

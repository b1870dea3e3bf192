import { KeyStateConflictError } from '../errors';
import { MAX_ACCESS_KEYS_PER_USER } from '../plan-keys';
import type { NewKeyRef, RotationPlan } from '../types';
import { assertLockHeld, rfc3339, sealContext } from './common';
import type { RotationDeps } from './deps';

export interface PurgeResult {
  /** The stale key id the plan named, or null when there was none. */
  readonly deleted: string | null;
  /** `absent`: already gone (a re-run); `none`: the plan had no stale key. */
  readonly result: 'deleted' | 'absent' | 'none';
}

/**
 * PurgeStaleKey: deletes the plan's stale key so CreateAccessKey has room. Idempotent.
 * - `inactive` (an Inactive leftover): refuses (KeyStateConflictError, nothing changed) if the key
 *   was re-activated meanwhile.
 * - `unfinishedRetirement` (an Active key an earlier rotation moved the secret off; Plan checked
 *   the usage policy): deactivates it, then deletes it. A re-run after a crash in between finds
 *   it Inactive and deletes it.
 * @throws RotationLockLostError, KeyStateConflictError
 */
export async function purgeStaleKey(deps: Pick<RotationDeps, 'directory' | 'lock'>, plan: RotationPlan): Promise<PurgeResult> {
  const stale = plan.staleAccessKeyId;
  if (stale === null) return { deleted: null, result: 'none' };
  await assertLockHeld(deps.lock, plan);
  const keys = await deps.directory.listAccessKeys(plan.userName);
  const key = keys.find((k) => k.accessKeyId === stale);
  if (!key) return { deleted: stale, result: 'absent' };
  if (key.status === 'Active' && plan.staleKeyReason === 'unfinishedRetirement') {
    // Deactivated first, as every retirement is: IAM then refuses the key before it is gone.
    await deps.directory.setAccessKeyStatus(plan.userName, stale, 'Inactive');
  } else if (key.status === 'Active') {
    // Someone turned it back on since Plan: it may be in use now, so it is no longer ours to delete.
    throw new KeyStateConflictError(
      `access key ${stale} of IAM user '${plan.userName}' was re-activated after planning; it was not deleted`,
    );
  }
  const result = await deps.directory.deleteAccessKey(plan.userName, stale);
  return { deleted: stale, result };
}

/**
 * CreateKey: deletes orphans of a crashed earlier attempt of this rotation (keys not in the
 * plan's snapshot), creates the key (always Active: only an Active key can be verified; an
 * `Inactive` newKeyStatus is applied by retireOldKey 'deactivate'), and returns it with the
 * secret sealed under { rotationId, accessKeyId, purpose: 'secretAccessKey' }.
 * @throws RotationLockLostError, KeyStateConflictError
 */
export async function createKey(
  deps: Pick<RotationDeps, 'directory' | 'lock' | 'sealer'>,
  plan: RotationPlan,
): Promise<NewKeyRef> {
  await assertLockHeld(deps.lock, plan);
  const keys = await deps.directory.listAccessKeys(plan.userName);
  // The lock means nobody else rotates this user, so a key Plan did not see was made by an
  // earlier attempt of this very step that crashed before returning it: nobody has its secret.
  for (const orphan of keys.filter((k) => !plan.snapshot.includes(k.accessKeyId))) {
    await deps.directory.deleteAccessKey(plan.userName, orphan.accessKeyId);
  }
  const remaining = keys.filter((k) => plan.snapshot.includes(k.accessKeyId));
  if (remaining.length >= MAX_ACCESS_KEYS_PER_USER) {
    // IAM would refuse anyway; saying which key is in the way is more useful than LimitExceeded.
    throw new KeyStateConflictError(
      `IAM user '${plan.userName}' still has ${remaining.length} access keys (${remaining.map((k) => k.accessKeyId).join(', ')}); ` +
        'no room for a new one',
    );
  }
  const created = await deps.directory.createAccessKey(plan.userName);
  // If sealing fails the key is an orphan, which the state machine's retry of this step deletes.
  const sealedSecret = await deps.sealer.seal(
    created.secretAccessKey,
    sealContext(plan.rotationId, created.accessKeyId, 'secretAccessKey'),
  );
  return {
    accessKeyId: created.accessKeyId,
    status: created.status,
    createDate: rfc3339(created.createDate),
    sealedSecret,
  };
}

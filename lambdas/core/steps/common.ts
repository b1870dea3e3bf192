/**
 * Constants and small helpers shared by the rotation steps. Steps import each other's rules
 * from here, never from another step's module: a handler bundles its step module and what it
 * imports, so a step importing ./plan would carry the input parser into its Lambda.
 */
import { KeyRotateError, ValidationError } from '../errors';
import type { DeliveryRecord, RotationLock } from '../ports';
import type { RotationPlan } from '../types';

/** Lock lease beyond the rotation's own waits: covers every Lambda, retry and the verify budget. */
export const LOCK_MARGIN_SECONDS = 3600;
/**
 * With `requireUnusedSeconds`, how long past (new key creation + grace + requireUnused) keyrotate
 * keeps re-checking before it gives up with OldKeyInUseError. Covers IAM's delay in reporting
 * last use and the state machine's retry interval.
 */
export const OLD_KEY_USAGE_SLACK_SECONDS = 3600;

/** Why a value is sealed; part of the KMS encryption context, so one cannot pass for the other. */
export type SealPurpose = 'secretAccessKey' | 'sesSmtpPasswords';

/**
 * The encryption context of a sealed value: a ciphertext copied into another rotation's state,
 * or relabelled as another key's, fails to open.
 */
export function sealContext(rotationId: string, accessKeyId: string, purpose: SealPurpose): Record<string, string> {
  return { rotationId, accessKeyId, purpose };
}

/** RFC 3339 UTC without milliseconds (`2026-11-27T22:42:39Z`), as IAM and Terraform print it. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Every change to a key or the secret first proves the rotation still owns the user. */
export function assertLockHeld(lock: Pick<RotationLock, 'assertHeld'>, plan: Pick<RotationPlan, 'userName' | 'rotationId'>): Promise<void> {
  return lock.assertHeld(plan.userName, plan.rotationId);
}

/** The secret of a Secrets Manager delivery; any other delivery reaching `step` is a wiring bug. */
export function deliverySecretId(plan: Pick<RotationPlan, 'delivery'>, step: string): string {
  if (plan.delivery.type !== 'secretsManager') {
    throw new ValidationError('plan.delivery.type', `${step} needs "secretsManager" delivery`);
  }
  return plan.delivery.secretId;
}

/**
 * How a failure is named in a warning: a KeyRotateError's message carries identifiers only (by
 * contract); any other error is a bug whose message may quote data, so only its name is kept.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof KeyRotateError) return `${error.name}: ${error.message}`;
  return error instanceof Error && /^\w{1,64}$/.test(error.name) ? error.name : 'Error';
}

/**
 * Releases the lock when the rotation's work is done (or rolled back). Best effort: the lease
 * runs out on its own (`lockExpiresAt`), and failing here would report a finished rotation as
 * failed (and, for PGP, drop the only copy of the encrypted secret). Not silent either: the
 * failure comes back as a warning for the output and the log.
 */
export async function releaseAtEnd(
  lock: Pick<RotationLock, 'release'>,
  plan: Pick<RotationPlan, 'userName' | 'rotationId' | 'lockExpiresAt'>,
): Promise<string | null> {
  try {
    await lock.release(plan.userName, plan.rotationId);
    return null;
  } catch (error) {
    return (
      `the lock of IAM user '${plan.userName}' held by rotation ${plan.rotationId} could not be released ` +
      `(${describeFailure(error)}); it frees itself when its lease ends at ${plan.lockExpiresAt}, ` +
      'until then another rotation of the user fails with RotationInProgressError'
    );
  }
}

/**
 * Writes the user's delivery record (RotationLock.recordDelivery) while the rotation holds the
 * user. Best effort: the record only matters if retiring the replaced key later fails, so a
 * failure comes back as a warning (identifiers and error names only), never as an error.
 */
export async function recordDeliveryAfterVerification(
  deps: { readonly lock: Pick<RotationLock, 'assertHeld' | 'recordDelivery'> },
  plan: Pick<RotationPlan, 'userName' | 'rotationId'>,
  record: DeliveryRecord,
): Promise<string | null> {
  try {
    // A rotation that lost the user must not overwrite the record of the one that took it over.
    await assertLockHeld(deps.lock, plan);
    await deps.lock.recordDelivery(plan.userName, record);
    return null;
  } catch (error) {
    return (
      `the delivery record of IAM user '${plan.userName}' (access key ${record.accessKeyId} replacing ` +
      `${record.replacedAccessKeyId}) could not be written (${describeFailure(error)}); if retiring ` +
      `${record.replacedAccessKeyId} fails, the next rotation cannot tell the two Active keys apart`
    );
  }
}

/** Small helpers shared by the rotation steps. */
import type { RotationLock } from '../ports';
import type { RotationPlan } from '../types';

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

import { KeyNotPropagatedError, VerificationFailedError } from '../errors';
import type { NewKeyRef, RotationPlan } from '../types';
import { recordDeliveryAfterVerification } from './common';
import type { RotationDeps } from './deps';
import { openSecret } from './smtp-passwords';

/** First wait between STS attempts; doubles up to VERIFY_MAX_DELAY_MS. */
export const VERIFY_FIRST_DELAY_MS = 1000;
export const VERIFY_MAX_DELAY_MS = 8000;

export interface VerifyOptions {
  /** How long this invocation keeps retrying STS (KEYROTATE_VERIFY_SECONDS × 1000). */
  readonly deadlineMs: number;
}

export interface VerificationResult {
  readonly callerArn: string;
  readonly attempts: number;
  /** Present only when the delivery record could not be written (see verifyNewKey). */
  readonly warnings?: readonly string[];
}

/**
 * Calls the verifier with one key until it answers or the deadline passes. Waits double from 1 s
 * up to 8 s with "equal jitter" (half fixed, half random), so retries of many rotations spread
 * out but never hammer STS. When the next wait would cross the deadline it gives up with
 * KeyNotPropagatedError, which the state machine retries with its own, longer backoff.
 * @throws KeyNotPropagatedError, VerificationFailedError (the key works but belongs to someone
 *   else, or its secret is wrong)
 */
export async function verifyCredentials(
  deps: Pick<RotationDeps, 'verifier' | 'clock' | 'sleep' | 'random'>,
  key: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly expectedArn: string },
  options: VerifyOptions,
): Promise<VerificationResult> {
  const deadline = deps.clock.now().getTime() + options.deadlineMs;
  for (let attempts = 1; ; attempts += 1) {
    let callerArn: string;
    try {
      callerArn = await deps.verifier.callerArn(key.accessKeyId, key.secretAccessKey);
    } catch (error) {
      if (!(error instanceof KeyNotPropagatedError)) throw error;
      const ceiling = Math.min(VERIFY_MAX_DELAY_MS, VERIFY_FIRST_DELAY_MS * 2 ** (attempts - 1));
      const delay = Math.round(ceiling / 2 + (deps.random() * ceiling) / 2);
      if (deps.clock.now().getTime() + delay > deadline) throw error;
      await deps.sleep(delay);
      continue;
    }
    // A key that signs in as someone else would be delivered to the wrong consumers.
    if (callerArn !== key.expectedArn) {
      throw new VerificationFailedError(
        `access key ${key.accessKeyId} authenticates as ${callerArn}, not as ${key.expectedArn}`,
      );
    }
    return { callerArn, attempts };
  }
}

/**
 * VerifyNewKey: opens the sealed secret and proves the new key authenticates as plan.userArn.
 * Then, when the new key is to replace an old one, writes keyrotate's delivery record (delivered:
 * the new key; replaced: the old one). This is the first point where the new key is both
 * delivered (stored as AWSPENDING — a secret's first value is even AWSCURRENT already — or
 * PGP-encrypted) and verified, and it comes before every step that can fail with the new key
 * kept: PromoteSecret, DeactivateOldKey. If one of those fails, the next rotation's Plan finds
 * the record and finishes the retirement instead of facing two Active keys it cannot tell apart.
 *
 * The record is best effort: it only helps if a later step fails too, so a failure to write it
 * is returned in `warnings` and the rotation goes on (failing here would roll back a working
 * key over bookkeeping).
 * @throws KeyNotPropagatedError, VerificationFailedError
 */
export async function verifyNewKey(
  deps: Pick<RotationDeps, 'sealer' | 'verifier' | 'clock' | 'sleep' | 'random' | 'lock'>,
  plan: RotationPlan,
  newKey: NewKeyRef,
  options: VerifyOptions,
): Promise<VerificationResult> {
  const secretAccessKey = await openSecret(deps, plan, newKey);
  const result = await verifyCredentials(deps, { accessKeyId: newKey.accessKeyId, secretAccessKey, expectedArn: plan.userArn }, options);
  // newKeyStatus Inactive keeps the old key as the user's working key: nothing is replaced.
  if (plan.oldAccessKeyId === null || plan.newKeyStatus !== 'Active') return result;
  const warning = await recordDeliveryAfterVerification(deps, plan, {
    accessKeyId: newKey.accessKeyId,
    replacedAccessKeyId: plan.oldAccessKeyId,
    rotationId: plan.rotationId,
    at: deps.clock.now(),
  });
  return warning === null ? result : { ...result, warnings: [warning] };
}

import { KeyNotPropagatedError, VerificationFailedError } from '../errors';
import type { NewKeyRef, RotationPlan } from '../types';
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
 * @throws KeyNotPropagatedError, VerificationFailedError
 */
export async function verifyNewKey(
  deps: Pick<RotationDeps, 'sealer' | 'verifier' | 'clock' | 'sleep' | 'random'>,
  plan: RotationPlan,
  newKey: NewKeyRef,
  options: VerifyOptions,
): Promise<VerificationResult> {
  const secretAccessKey = await openSecret(deps, plan, newKey);
  return verifyCredentials(deps, { accessKeyId: newKey.accessKeyId, secretAccessKey, expectedArn: plan.userArn }, options);
}

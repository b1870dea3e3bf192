import { SecretMismatchError, ValidationError } from '../errors';
import { clientRequestTokenFor } from '../tokens';
import type { DeliveryResult, RotationPlan } from '../types';
import { assertLockHeld, deliverySecretId } from './common';
import type { RotationDeps } from './deps';

export interface PromotionResult {
  readonly secretVersionId: string;
  /** The version that held AWSCURRENT before (now AWSPREVIOUS), or null for a first value. */
  readonly previousVersionId: string | null;
}

/**
 * PromoteSecret: moves AWSCURRENT to this rotation's version, then removes AWSPENDING from it.
 * Idempotent (already current → done).
 * @throws RotationLockLostError, SecretMismatchError
 */
export async function promoteSecret(
  deps: Pick<RotationDeps, 'secrets' | 'lock'>,
  plan: RotationPlan,
  delivery: DeliveryResult,
): Promise<PromotionResult> {
  const secretId = deliverySecretId(plan, 'PromoteSecret');
  const token = clientRequestTokenFor(plan.rotationId);
  if (delivery.type !== 'secretsManager' || delivery.secretVersionId !== token) {
    throw new ValidationError('delivery.secretVersionId', `must be this rotation's version ${token}`);
  }
  const { versions } = await deps.secrets.describe(secretId);
  const ours = versions.find((v) => v.versionId === token);
  if (!ours) throw new SecretMismatchError(`secret '${secretId}' has no version ${token}; nothing to promote`);
  const holder = (stage: string) => versions.find((v) => v.stages.includes(stage))?.versionId ?? null;

  if (ours.stages.includes('AWSCURRENT')) {
    // A re-run: AWSCURRENT already moved; finish the label clean-up if the crash came before it.
    if (ours.stages.includes('AWSPENDING')) {
      await assertLockHeld(deps.lock, plan);
      await deps.secrets.removeStage(secretId, 'AWSPENDING', token);
    }
    return { secretVersionId: token, previousVersionId: holder('AWSPREVIOUS') };
  }
  await assertLockHeld(deps.lock, plan);
  const previous = holder('AWSCURRENT');
  // Secrets Manager moves AWSPREVIOUS to the version that loses AWSCURRENT by itself.
  await deps.secrets.moveStage(secretId, 'AWSCURRENT', token, previous ?? undefined);
  await deps.secrets.removeStage(secretId, 'AWSPENDING', token);
  return { secretVersionId: token, previousVersionId: previous };
}

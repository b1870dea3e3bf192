import { SecretMismatchError } from '../errors';
import { buildSecretValue, parseSecretValue, serializeSecretValue } from '../secret-value';
import { clientRequestTokenFor } from '../tokens';
import type { DeliveryResult, NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../types';
import { assertLockHeld, deliverySecretId } from './common';
import type { RotationDeps } from './deps';
import { openSecret, openSmtpPasswords } from './smtp-passwords';

/**
 * StoreSecret: PutSecretValue of the StoredSecretValue JSON as AWSPENDING, version id =
 * clientRequestTokenFor(plan.rotationId). Idempotent (a re-run stores the same value).
 * @throws RotationLockLostError, SecretNotFoundError, SecretMismatchError, KeyStateConflictError
 */
export async function storeSecret(
  deps: Pick<RotationDeps, 'secrets' | 'sealer' | 'lock'>,
  plan: RotationPlan,
  newKey: NewKeyRef,
  smtp?: SmtpPasswordsRef | null,
): Promise<DeliveryResult> {
  const secretId = deliverySecretId(plan, 'StoreSecret');
  const token = clientRequestTokenFor(plan.rotationId);
  const value = serializeSecretValue(
    buildSecretValue({
      userName: plan.userName,
      accessKeyId: newKey.accessKeyId,
      secretAccessKey: await openSecret(deps, plan, newKey),
      createDate: newKey.createDate,
      smtpPasswords: await openSmtpPasswords(deps, plan, newKey, smtp),
    }),
  );

  // The secret must still be this user's: it could have been rewritten since Plan read it.
  const current = await deps.secrets.getValue(secretId, { stage: 'AWSCURRENT' });
  if (current && current.versionId !== token) {
    const parsed = parseSecretValue(current.value, secretId);
    const owner = parsed.kind === 'full' ? parsed.value.userName : parsed.userName;
    if (owner !== plan.userName) {
      throw new SecretMismatchError(`secret '${secretId}' now belongs to IAM user '${owner}', not '${plan.userName}'; nothing was stored`);
    }
  }
  await assertLockHeld(deps.lock, plan);
  // Same token and same value: Secrets Manager treats the repeat as a no-op (a re-run converges).
  const stored = await deps.secrets.putPending(secretId, token, value);
  return { type: 'secretsManager', secretArn: stored.arn, secretVersionId: stored.versionId };
}

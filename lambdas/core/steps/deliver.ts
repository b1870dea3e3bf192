import { SecretMismatchError, ValidationError } from '../errors';
import { DEFAULT_KEYBASE_URL, encryptForPgpKey, resolvePgpKey } from '../pgp';
import { buildSecretValue, parseSecretValue, serializeSecretValue } from '../secret-value';
import { clientRequestTokenFor } from '../tokens';
import type { DeliveryResult, NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../types';
import { assertLockHeld } from './common';
import type { RotationDeps } from './deps';
import { openSecret, openSmtpPasswords } from './smtp-passwords';

export interface PgpConfig {
  /** Keybase base URL (KEYROTATE_KEYBASE_URL). @default 'https://keybase.io' */
  readonly keybaseUrl?: string;
}

export interface PromotionResult {
  readonly secretVersionId: string;
  /** The version that held AWSCURRENT before (now AWSPREVIOUS), or null for a first value. */
  readonly previousVersionId: string | null;
}

function secretIdOf(plan: RotationPlan, step: string): string {
  if (plan.delivery.type !== 'secretsManager') {
    throw new ValidationError('plan.delivery.type', `${step} needs "secretsManager" delivery`);
  }
  return plan.delivery.secretId;
}

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
  const secretId = secretIdOf(plan, 'StoreSecret');
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

/**
 * EncryptForPgp: resolves plan.delivery.pgpKey and returns the secret and SMTP passwords
 * encrypted to it (Terraform's output shape). Changes nothing in AWS.
 * @throws PgpKeyError
 */
export async function encryptForPgp(
  deps: Pick<RotationDeps, 'sealer' | 'pgpFetcher' | 'clock'>,
  plan: RotationPlan,
  newKey: NewKeyRef,
  smtp?: SmtpPasswordsRef | null,
  config?: PgpConfig,
): Promise<DeliveryResult> {
  if (plan.delivery.type !== 'pgp') throw new ValidationError('plan.delivery.type', 'EncryptForPgp needs "pgp" delivery');
  const key = await resolvePgpKey(plan.delivery.pgpKey, deps.pgpFetcher, {
    keybaseUrl: config?.keybaseUrl ?? DEFAULT_KEYBASE_URL,
    now: deps.clock.now(),
  });
  const passwords = await openSmtpPasswords(deps, plan, newKey, smtp);
  const encryptedSecret = await encryptForPgpKey(await openSecret(deps, plan, newKey), key);
  const encryptedSesSmtpPasswords: Record<string, string> = {};
  for (const [region, password] of Object.entries(passwords)) {
    encryptedSesSmtpPasswords[region] = await encryptForPgpKey(password, key);
  }
  const [firstRegion] = plan.sesSmtpRegions;
  return {
    type: 'pgp',
    encryptedSecret,
    encryptedSesSmtpPasswordV4: firstRegion === undefined ? null : (encryptedSesSmtpPasswords[firstRegion] ?? null),
    encryptedSesSmtpPasswords,
    keyFingerprint: key.fingerprint,
  };
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
  const secretId = secretIdOf(plan, 'PromoteSecret');
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

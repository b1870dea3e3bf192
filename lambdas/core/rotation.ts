/**
 * The rotation steps of the state machine, one core function per Lambda (docs/internals.md
 * "Lambdas"). Handlers import from here only; the steps live in ./steps, one cohesive file each.
 *
 *   planRotation        Plan                         → RotationPlan
 *   purgeStaleKey       PurgeStaleKey                → { deleted, result }
 *   createKey           CreateKey                    → NewKeyRef
 *   deriveSmtpPasswords DeriveSmtpPasswords          → SmtpPasswordsRef
 *   storeSecret         StoreSecret                  → DeliveryResult (secretsManager)
 *   encryptForPgp       EncryptForPgp                → DeliveryResult (pgp)
 *   verifyNewKey        VerifyNewKey                 → { callerArn, attempts }
 *   promoteSecret       PromoteSecret                → { secretVersionId, previousVersionId }
 *   retireOldKey        DeactivateOldKey/DeleteOldKey → { oldKey, newKey } / RotationOutput
 *   rollBack            RollBack/ReleaseLock         → { deletedKeys, withdrawnVersion }
 *
 * The Secrets Manager rotation function is in ./secrets-manager-rotation.
 */
export type { RotationDeps } from './steps/deps';
export { planRotation, lockLeaseSeconds, LOCK_MARGIN_SECONDS, OLD_KEY_USAGE_SLACK_SECONDS, type PlanConfig } from './steps/plan';
export { purgeStaleKey, createKey, type PurgeResult } from './steps/create-key';
export { deriveSmtpPasswords, openSecret, openSmtpPasswords } from './steps/smtp-passwords';
export { storeSecret, encryptForPgp, promoteSecret, type PgpConfig, type PromotionResult } from './steps/deliver';
export { verifyNewKey, verifyCredentials, type VerifyOptions, type VerificationResult } from './steps/verify';
export {
  retireOldKey,
  type RetireRequest,
  type DeactivateResult,
} from './steps/retire';
export { rollBack, type RollBackRequest, type RollBackResult } from './steps/roll-back';

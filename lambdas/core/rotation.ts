/**
 * The rotation steps of the state machine, one core function per Lambda (docs/internals.md
 * "Lambdas"), for tests and tools that want them all. The steps live in ./steps, one cohesive
 * file each. Handlers import their own step module, never this barrel: it reaches every step,
 * openpgp included, and a Lambda bundle should carry only its own step.
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
export { LOCK_MARGIN_SECONDS, OLD_KEY_USAGE_SLACK_SECONDS } from './steps/common';
export { planRotation, lockLeaseSeconds, type PlanConfig } from './steps/plan';
export { purgeStaleKey, createKey, type PurgeResult } from './steps/create-key';
export { deriveSmtpPasswords, openSecret, openSmtpPasswords } from './steps/smtp-passwords';
export { storeSecret } from './steps/store-secret';
export { encryptForPgp, type PgpConfig } from './steps/encrypt-for-pgp';
export { promoteSecret, type PromotionResult } from './steps/promote-secret';
export { verifyNewKey, verifyCredentials, type VerifyOptions, type VerificationResult } from './steps/verify';
export {
  retireOldKey,
  type RetireRequest,
  type DeactivateResult,
} from './steps/retire';
export { rollBack, type RollBackRequest, type RollBackResult } from './steps/roll-back';

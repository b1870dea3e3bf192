/** DeriveSmtpPasswords: one SES SMTP password per region, sealed by KMS. */
import { kmsClient } from '../adapters/clients';
import { KmsSecretSealer } from '../adapters/kms-secret-sealer';
import { deriveSmtpPasswords } from '../core/steps/smtp-passwords';
import type { NewKeyRef, RotationPlan } from '../core/types';
import { config, objectField, stepHandler } from './shared';

export const handler = stepHandler(
  'DeriveSmtpPasswords',
  () => ({ sealer: new KmsSecretSealer(kmsClient(), config.kmsKeyId()) }),
  (deps, event) => deriveSmtpPasswords(deps, objectField<RotationPlan>(event, 'plan'), objectField<NewKeyRef>(event, 'newKey')),
);

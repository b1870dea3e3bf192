/** EncryptForPgp: encrypts the secret and SMTP passwords to the user's PGP key (Terraform's outputs). */
import { kmsClient } from '../adapters/clients';
import { HttpsPgpKeyFetcher } from '../adapters/https-pgp-key-fetcher';
import { KmsSecretSealer } from '../adapters/kms-secret-sealer';
import { encryptForPgp } from '../core/steps/encrypt-for-pgp';
import type { NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../core/types';
import { config, objectField, optionalObjectField, stepHandler, systemClock } from './shared';

export const handler = stepHandler(
  'EncryptForPgp',
  () => ({
    sealer: new KmsSecretSealer(kmsClient(), config.kmsKeyId()),
    pgpFetcher: new HttpsPgpKeyFetcher(),
    clock: systemClock,
  }),
  (deps, event) =>
    encryptForPgp(
      deps,
      objectField<RotationPlan>(event, 'plan'),
      objectField<NewKeyRef>(event, 'newKey'),
      optionalObjectField<SmtpPasswordsRef>(event, 'smtp'),
      { keybaseUrl: config.keybaseUrl() },
    ),
);

/** StoreSecret: writes the new key and SMTP passwords into the secret as AWSPENDING. */
import { dynamoDbClient, kmsClient, secretsManagerClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { KmsSecretSealer } from '../adapters/kms-secret-sealer';
import { SecretsManagerSecretStore } from '../adapters/secrets-manager-secret-store';
import { storeSecret } from '../core/steps/store-secret';
import type { NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../core/types';
import { config, objectField, optionalObjectField, stepHandler, WITHOUT_VERSION_DATES } from './shared';

export const handler = stepHandler(
  'StoreSecret',
  () => ({
    secrets: new SecretsManagerSecretStore(secretsManagerClient(), WITHOUT_VERSION_DATES),
    sealer: new KmsSecretSealer(kmsClient(), config.kmsKeyId()),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
  }),
  (deps, event) =>
    storeSecret(
      deps,
      objectField<RotationPlan>(event, 'plan'),
      objectField<NewKeyRef>(event, 'newKey'),
      optionalObjectField<SmtpPasswordsRef>(event, 'smtp'),
    ),
);

/** Plan: validates the input, resolves the user, takes the lock, then decides the keys. */
import { dynamoDbClient, iamClient, secretsManagerClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { IamAccessKeyDirectory } from '../adapters/iam-access-key-directory';
import { SecretsManagerSecretStore } from '../adapters/secrets-manager-secret-store';
import { planRotation } from '../core/steps/plan';
import { config, stepHandler, stringField, systemClock, WITHOUT_LAST_USED, WITHOUT_VERSION_DATES } from './shared';

export const handler = stepHandler(
  'Plan',
  () => ({
    directory: new IamAccessKeyDirectory(iamClient(), WITHOUT_LAST_USED),
    secrets: new SecretsManagerSecretStore(secretsManagerClient(), WITHOUT_VERSION_DATES),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
    clock: systemClock,
  }),
  (deps, event) =>
    planRotation(
      deps,
      // `input` is validated by the core, which names every bad field.
      { input: (event as { input?: unknown } | null)?.input, rotationId: stringField(event, 'rotationId') },
      { scope: config.scope(), defaultSesSmtpRegions: config.defaultSesRegions() },
    ),
);

/** PromoteSecret: moves AWSCURRENT to this rotation's secret version. */
import { dynamoDbClient, secretsManagerClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { SecretsManagerSecretStore } from '../adapters/secrets-manager-secret-store';
import { promoteSecret } from '../core/steps/promote-secret';
import type { DeliveryResult, RotationPlan } from '../core/types';
import { config, objectField, stepHandler, WITHOUT_VERSION_DATES } from './shared';

export const handler = stepHandler(
  'PromoteSecret',
  () => ({
    secrets: new SecretsManagerSecretStore(secretsManagerClient(), WITHOUT_VERSION_DATES),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
  }),
  (deps, event) => promoteSecret(deps, objectField<RotationPlan>(event, 'plan'), objectField<DeliveryResult>(event, 'delivery')),
);

/** DeactivateOldKey (`step: 'deactivate'`) and DeleteOldKey (`step: 'finish'`). */
import { dynamoDbClient, iamClient, secretsManagerClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { IamAccessKeyDirectory } from '../adapters/iam-access-key-directory';
import { SecretsManagerSecretStore } from '../adapters/secrets-manager-secret-store';
import { type RetireRequest, retireOldKey } from '../core/steps/retire';
import type { DeliveryResult, NewKeyRef, RotationPlan } from '../core/types';
import { config, objectField, stepHandler, stringField, systemClock, WITHOUT_LAST_USED, WITHOUT_VERSION_DATES } from './shared';

export const handler = stepHandler(
  'RetireOldKey',
  () => ({
    directory: new IamAccessKeyDirectory(iamClient(), WITHOUT_LAST_USED),
    secrets: new SecretsManagerSecretStore(secretsManagerClient(), WITHOUT_VERSION_DATES),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
    clock: systemClock,
  }),
  (deps, event) =>
    retireOldKey(deps, {
      // The core rejects any other step with a ValidationError naming `step`.
      step: stringField(event, 'step') as RetireRequest['step'],
      plan: objectField<RotationPlan>(event, 'plan'),
      newKey: objectField<NewKeyRef>(event, 'newKey'),
      delivery: objectField<DeliveryResult>(event, 'delivery'),
    }),
);

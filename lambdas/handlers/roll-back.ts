/** RollBack (`mode: 'rollback'`) and ReleaseLock (`mode: 'release'`). */
import { dynamoDbClient, iamClient, secretsManagerClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { IamAccessKeyDirectory } from '../adapters/iam-access-key-directory';
import { SecretsManagerSecretStore } from '../adapters/secrets-manager-secret-store';
import { type RollBackRequest, rollBack } from '../core/steps/roll-back';
import type { DeliveryResult, NewKeyRef, RotationPlan } from '../core/types';
import { config, objectField, optionalObjectField, stepHandler, stringField, WITHOUT_LAST_USED, WITHOUT_VERSION_DATES } from './shared';

export const handler = stepHandler(
  'RollBack',
  () => ({
    directory: new IamAccessKeyDirectory(iamClient(), WITHOUT_LAST_USED),
    secrets: new SecretsManagerSecretStore(secretsManagerClient(), WITHOUT_VERSION_DATES),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
  }),
  (deps, event) =>
    rollBack(deps, {
      // The core rejects any other mode with a ValidationError naming `mode`.
      mode: stringField(event, 'mode') as RollBackRequest['mode'],
      plan: objectField<RotationPlan>(event, 'plan'),
      newKey: optionalObjectField<NewKeyRef>(event, 'newKey'),
      delivery: optionalObjectField<DeliveryResult>(event, 'delivery'),
      // The caught Step Functions error ({ Error, Cause }), whatever its shape: a roll-back must
      // never fail on it. Only its `Error` name is logged.
      error: (event as { error?: unknown } | null)?.error,
    }),
);

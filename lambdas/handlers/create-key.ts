/** CreateKey: creates the new access key; its secret leaves this Lambda only sealed by KMS. */
import { dynamoDbClient, iamClient, kmsClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { IamAccessKeyDirectory } from '../adapters/iam-access-key-directory';
import { KmsSecretSealer } from '../adapters/kms-secret-sealer';
import { createKey } from '../core/steps/create-key';
import type { RotationPlan } from '../core/types';
import { config, objectField, stepHandler, WITHOUT_LAST_USED } from './shared';

export const handler = stepHandler(
  'CreateKey',
  () => ({
    directory: new IamAccessKeyDirectory(iamClient(), WITHOUT_LAST_USED),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
    sealer: new KmsSecretSealer(kmsClient(), config.kmsKeyId()),
  }),
  (deps, event) => createKey(deps, objectField<RotationPlan>(event, 'plan')),
);

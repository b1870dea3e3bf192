/** PurgeStaleKey: deletes the plan's Inactive leftover so CreateAccessKey has room. */
import { dynamoDbClient, iamClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { IamAccessKeyDirectory } from '../adapters/iam-access-key-directory';
import { purgeStaleKey } from '../core/steps/create-key';
import type { RotationPlan } from '../core/types';
import { config, objectField, stepHandler, WITHOUT_LAST_USED } from './shared';

export const handler = stepHandler(
  'PurgeStaleKey',
  () => ({
    directory: new IamAccessKeyDirectory(iamClient(), WITHOUT_LAST_USED),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
  }),
  (deps, event) => purgeStaleKey(deps, objectField<RotationPlan>(event, 'plan')),
);

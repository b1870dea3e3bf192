/**
 * VerifyNewKey: proves the new key authenticates as the user (STS), retrying through IAM
 * propagation, then writes keyrotate's delivery record to the lock table.
 */
import { dynamoDbClient, kmsClient, sdkClientConfig } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { KmsSecretSealer } from '../adapters/kms-secret-sealer';
import { StsCredentialVerifier } from '../adapters/sts-credential-verifier';
import { verifyNewKey } from '../core/steps/verify';
import type { NewKeyRef, RotationPlan } from '../core/types';
import { config, objectField, random, sleep, stepHandler, systemClock } from './shared';

export const handler = stepHandler(
  'VerifyNewKey',
  () => ({
    sealer: new KmsSecretSealer(kmsClient(), config.kmsKeyId()),
    verifier: new StsCredentialVerifier(sdkClientConfig()),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
    clock: systemClock,
    sleep,
    random,
  }),
  (deps, event) =>
    verifyNewKey(deps, objectField<RotationPlan>(event, 'plan'), objectField<NewKeyRef>(event, 'newKey'), {
      deadlineMs: config.verifySeconds() * 1000,
    }),
);

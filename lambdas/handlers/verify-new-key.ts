/** VerifyNewKey: proves the new key authenticates as the user (STS), retrying through IAM propagation. */
import { kmsClient, sdkClientConfig } from '../adapters/clients';
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
    clock: systemClock,
    sleep,
    random,
  }),
  (deps, event) =>
    verifyNewKey(deps, objectField<RotationPlan>(event, 'plan'), objectField<NewKeyRef>(event, 'newKey'), {
      deadlineMs: config.verifySeconds() * 1000,
    }),
);

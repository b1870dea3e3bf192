/**
 * The Secrets Manager rotation function (createSecret, setSecret, testSecret, finishSecret).
 * Secrets Manager ignores the return value; the step's outcome goes to the log line only.
 */
import { dynamoDbClient, iamClient, sdkClientConfig, secretsManagerClient } from '../adapters/clients';
import { DynamoDbRotationLock } from '../adapters/dynamodb-rotation-lock';
import { IamAccessKeyDirectory } from '../adapters/iam-access-key-directory';
import { SecretsManagerSecretStore } from '../adapters/secrets-manager-secret-store';
import { StsCredentialVerifier } from '../adapters/sts-credential-verifier';
import { rotateSecretStep } from '../core/secrets-manager-rotation';
import { config, logger, random, safeIdentifiers, sleep, stepHandler, stringField, systemClock, WITHOUT_LAST_USED } from './shared';

export const handler = stepHandler(
  'SecretsManagerRotation',
  () => ({
    directory: new IamAccessKeyDirectory(iamClient(), WITHOUT_LAST_USED),
    secrets: new SecretsManagerSecretStore(secretsManagerClient()),
    lock: new DynamoDbRotationLock(dynamoDbClient(), config.lockTable()),
    verifier: new StsCredentialVerifier(sdkClientConfig()),
    clock: systemClock,
    sleep,
    random,
  }),
  async (deps, event) => {
    const result = await rotateSecretStep(
      deps,
      { step: stringField(event, 'Step'), secretId: stringField(event, 'SecretId'), token: stringField(event, 'ClientRequestToken') },
      {
        scope: config.scope(),
        oldKeyAction: config.rotationOldKeyAction(),
        lockSeconds: config.rotationLockSeconds(),
        verifyDeadlineMs: config.verifySeconds() * 1000,
        defaultSesSmtpRegions: config.defaultSesRegions(),
      },
    );
    // Keys appended for this invocation only (reset after it): the success line carries the outcome.
    logger.appendKeys({ rotation: safeIdentifiers(result) });
  },
);

/**
 * Bundle-size experiment: the shape of keyrotate's EncryptForPgp Lambda. KMS opens a sealed
 * secret, openpgp encrypts it to a public key, middy + Powertools Logger wrap it. The handler
 * does both for real, so a bundle that breaks either fails the experiment.
 */
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createMessage, encrypt, readKey } from 'openpgp';

const logger = new Logger({ serviceName: 'keyrotate-bench' });
const kms = new KMSClient({});

interface ExperimentEvent {
  /** Base64 KMS ciphertext. */
  readonly sealed: string;
  readonly armoredKey: string;
}

async function run(event: ExperimentEvent): Promise<{ encryptedSecret: string; keyFingerprint: string }> {
  const opened = await kms.send(
    new DecryptCommand({ CiphertextBlob: Buffer.from(event.sealed, 'base64'), EncryptionContext: { purpose: 'bench' } }),
  );
  const publicKey = await readKey({ armoredKey: event.armoredKey });
  const message = await createMessage({ binary: opened.Plaintext ?? new Uint8Array() });
  const encrypted = await encrypt({ message, encryptionKeys: publicKey, format: 'binary' });
  const keyFingerprint = publicKey.getFingerprint();
  logger.info('encrypted', { keyFingerprint });
  return { encryptedSecret: Buffer.from(encrypted).toString('base64'), keyFingerprint };
}

export const handler = middy(run).use(injectLambdaContext(logger));

/**
 * pgp-handler.ts with one design change: openpgp is loaded on the first encryption instead of
 * at module load (`await import('openpgp')`). In a CommonJS bundle esbuild keeps openpgp's code
 * in the file but wraps it so that it is evaluated only when first imported. Cold
 * initialisation no longer pays for openpgp; the first invocation does (the benchmark reports
 * both).
 */
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';

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
  const { createMessage, encrypt, readKey } = await import('openpgp');
  const publicKey = await readKey({ armoredKey: event.armoredKey });
  const message = await createMessage({ binary: opened.Plaintext ?? new Uint8Array() });
  const encrypted = await encrypt({ message, encryptionKeys: publicKey, format: 'binary' });
  const keyFingerprint = publicKey.getFingerprint();
  logger.info('encrypted', { keyFingerprint });
  return { encryptedSecret: Buffer.from(encrypted).toString('base64'), keyFingerprint };
}

export const handler = middy(run).use(injectLambdaContext(logger));

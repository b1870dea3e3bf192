/**
 * SecretSealer over AWS KMS (AWS SDK v3): secrets cross Step Functions state only as KMS
 * ciphertext. The encryption context (rotation id, key id, purpose) is bound into the ciphertext
 * by KMS, so a sealed value copied into another rotation's state cannot be opened there, and
 * CloudTrail records which rotation opened what.
 */
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { AwsRequestError } from '../core/errors';
import type { SecretSealer } from '../core/ports';
import { callAws } from './aws-errors';

export class KmsSecretSealer implements SecretSealer {
  constructor(
    private readonly kms: KMSClient,
    /** Key id, alias or ARN. */
    private readonly keyId: string,
  ) {}

  async seal(plaintext: string, context: Readonly<Record<string, string>>): Promise<string> {
    const operation = 'KMS Encrypt';
    const result = await callAws(operation, () =>
      this.kms.send(
        new EncryptCommand({ KeyId: this.keyId, Plaintext: Buffer.from(plaintext, 'utf8'), EncryptionContext: { ...context } }),
      ),
    );
    if (!result.CiphertextBlob) throw new AwsRequestError(operation, 'MissingField:CiphertextBlob');
    return Buffer.from(result.CiphertextBlob).toString('base64');
  }

  async open(ciphertext: string, context: Readonly<Record<string, string>>): Promise<string> {
    const operation = 'KMS Decrypt';
    const result = await callAws(operation, () =>
      this.kms.send(
        new DecryptCommand({
          // Naming the key makes KMS refuse ciphertext sealed under any other key.
          KeyId: this.keyId,
          CiphertextBlob: Buffer.from(ciphertext, 'base64'),
          EncryptionContext: { ...context },
        }),
      ),
    );
    if (!result.Plaintext) throw new AwsRequestError(operation, 'MissingField:Plaintext');
    return Buffer.from(result.Plaintext).toString('utf8');
  }
}

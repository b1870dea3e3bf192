import { randomBytes } from 'node:crypto';
import { AwsError } from '../errors';
import type { JsonOperation } from '../protocol/context';
import type { JsonInput } from '../protocol/input';
import { type KmsKey, type KmsModel, kmsInvalid } from './kms';

const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';

function checkAlgorithm(input: JsonInput): void {
  const algorithm = input.string('EncryptionAlgorithm');
  if (algorithm !== undefined && algorithm !== SYMMETRIC_DEFAULT) {
    throw new AwsError('InvalidKeyUsageException', `The local endpoint's keys are symmetric: EncryptionAlgorithm must be ${SYMMETRIC_DEFAULT}, not ${algorithm}.`, 400);
  }
}

export function kmsApi(model: KmsModel, accountId: string): Record<string, JsonOperation> {
  const metadata = (key: KmsKey) => ({
    AWSAccountId: accountId,
    KeyId: key.keyId,
    Arn: model.arnOf(key),
    CreationDate: key.createdDate,
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.enabled ? 'Enabled' : 'Disabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: SYMMETRIC_DEFAULT,
    KeySpec: SYMMETRIC_DEFAULT,
    EncryptionAlgorithms: [SYMMETRIC_DEFAULT],
    MultiRegion: false,
  });

  return {
    CreateKey: (input) => {
      const usage = input.string('KeyUsage') ?? 'ENCRYPT_DECRYPT';
      const spec = input.string('KeySpec') ?? input.string('CustomerMasterKeySpec') ?? SYMMETRIC_DEFAULT;
      if (usage !== 'ENCRYPT_DECRYPT' || spec !== SYMMETRIC_DEFAULT) {
        throw new AwsError('UnsupportedOperationException', `The local endpoint supports only symmetric ENCRYPT_DECRYPT keys (got ${usage}/${spec}).`, 400);
      }
      return { KeyMetadata: metadata(model.createKey(input.string('Description') ?? '')) };
    },

    DescribeKey: (input) => ({ KeyMetadata: metadata(model.resolve(input.requiredString('KeyId'))) }),

    EnableKey: (input) => {
      model.setEnabled(input.requiredString('KeyId'), true);
      return {};
    },

    DisableKey: (input) => {
      model.setEnabled(input.requiredString('KeyId'), false);
      return {};
    },

    CreateAlias: (input) => {
      model.createAlias(input.requiredString('AliasName'), input.requiredString('TargetKeyId'));
      return {};
    },

    ListAliases: (input) => ({
      Aliases: model.listAliases(input.string('KeyId')).map((a) => ({
        AliasName: a.aliasName,
        AliasArn: model.aliasArn(a.aliasName),
        TargetKeyId: a.keyId,
        CreationDate: a.createdDate,
      })),
      Truncated: false,
    }),

    Encrypt: (input) => {
      checkAlgorithm(input);
      const plaintext = input.blob('Plaintext');
      if (plaintext === undefined) throw kmsInvalid("1 validation error detected: Value null at 'plaintext' failed to satisfy constraint: Member must not be null");
      const { key, blob } = model.encrypt(input.requiredString('KeyId'), plaintext, input.stringMap('EncryptionContext'));
      return { CiphertextBlob: blob, KeyId: model.arnOf(key), EncryptionAlgorithm: SYMMETRIC_DEFAULT };
    },

    Decrypt: (input) => {
      checkAlgorithm(input);
      const blob = input.blob('CiphertextBlob');
      if (blob === undefined) throw kmsInvalid("1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null");
      const { key, plaintext } = model.decrypt(blob, input.stringMap('EncryptionContext'), input.string('KeyId'));
      return { KeyId: model.arnOf(key), Plaintext: plaintext, EncryptionAlgorithm: SYMMETRIC_DEFAULT };
    },

    GenerateDataKey: (input) => {
      const keySpec = input.string('KeySpec');
      const numberOfBytes = input.integer('NumberOfBytes');
      if ((keySpec === undefined) === (numberOfBytes === undefined)) {
        throw kmsInvalid('Please specify either number of bytes or key spec.');
      }
      let length: number;
      if (keySpec !== undefined) {
        if (keySpec !== 'AES_256' && keySpec !== 'AES_128') {
          throw kmsInvalid(`1 validation error detected: Value '${keySpec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`);
        }
        length = keySpec === 'AES_256' ? 32 : 16;
      } else {
        length = numberOfBytes ?? 0;
        if (length < 1 || length > 1024) {
          throw kmsInvalid(`1 validation error detected: Value '${length}' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024`);
        }
      }
      const plaintext = randomBytes(length);
      const { key, blob } = model.encrypt(input.requiredString('KeyId'), plaintext, input.stringMap('EncryptionContext'));
      return { CiphertextBlob: blob, Plaintext: plaintext, KeyId: model.arnOf(key) };
    },
  };
}

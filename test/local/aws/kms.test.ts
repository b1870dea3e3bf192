import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListAliasesCommand,
} from '@aws-sdk/client-kms';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { caught, clientConfig } from './helpers';

const text = (s: string) => new TextEncoder().encode(s);

describe('local AWS endpoint: KMS', () => {
  let aws: LocalAws;
  let kms: KMSClient;
  let keyId: string;

  beforeEach(async () => {
    aws = await startLocalAws();
    kms = new KMSClient(clientConfig(aws));
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'seals secrets' }));
    keyId = KeyMetadata?.KeyId ?? '';
  });

  afterEach(async () => {
    kms.destroy();
    await aws.stop();
  });

  it('creates a symmetric key and describes it by id, ARN, alias and alias ARN', async () => {
    // Prepare
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/keyrotate', TargetKeyId: keyId }));
    const arn = `arn:aws:kms:us-east-1:000000000000:key/${keyId}`;

    // Act
    const described = await Promise.all(
      [keyId, arn, 'alias/keyrotate', 'arn:aws:kms:us-east-1:000000000000:alias/keyrotate'].map((id) => kms.send(new DescribeKeyCommand({ KeyId: id }))),
    );

    // Assess
    expect(keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(described.map((d) => d.KeyMetadata?.Arn)).toEqual([arn, arn, arn, arn]);
    expect(described[0]?.KeyMetadata).toMatchObject({ Description: 'seals secrets', KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Enabled: true });
  });

  it('fails with NotFoundException for an unknown key or alias', async () => {
    // Act
    const key = await caught(() => kms.send(new DescribeKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })));
    const alias = await caught(() => kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' })));

    // Assess
    expect(key.name).toBe('NotFoundException');
    expect(alias.name).toBe('NotFoundException');
  });

  it('encrypts and decrypts with an encryption context; Decrypt finds the key from the blob alone', async () => {
    // Prepare
    const context = { rotation: 'exec-1', accessKeyId: 'AKIAEXAMPLE' };

    // Act
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('s3cr3t-value'), EncryptionContext: context }));
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { accessKeyId: 'AKIAEXAMPLE', rotation: 'exec-1' } }));

    // Assess
    expect(Buffer.from(encrypted.CiphertextBlob ?? []).includes(Buffer.from('s3cr3t-value'))).toBe(false);
    expect(new TextDecoder().decode(decrypted.Plaintext)).toBe('s3cr3t-value');
    expect(decrypted.KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    expect(decrypted.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
  });

  it.each([
    ['a different value', { rotation: 'exec-2', accessKeyId: 'AKIAEXAMPLE' }],
    ['a missing pair', { rotation: 'exec-1' }],
    ['an extra pair', { rotation: 'exec-1', accessKeyId: 'AKIAEXAMPLE', x: 'y' }],
    ['no pairs at all', undefined],
  ])('fails with InvalidCiphertextException when the context at Decrypt has %s', async (_label, context) => {
    // Prepare
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('v'), EncryptionContext: { rotation: 'exec-1', accessKeyId: 'AKIAEXAMPLE' } }));

    // Act
    const error = await caught(() => kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: context })));

    // Assess
    expect(error.name).toBe('InvalidCiphertextException');
  });

  it('fails with InvalidCiphertextException for a tampered blob', async () => {
    // Prepare
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('v') }));
    const blob = Buffer.from(encrypted.CiphertextBlob ?? []);
    blob[blob.length - 1] = (blob[blob.length - 1] ?? 0) ^ 1;

    // Act
    const error = await caught(() => kms.send(new DecryptCommand({ CiphertextBlob: blob })));

    // Assess
    expect(error.name).toBe('InvalidCiphertextException');
  });

  it('fails with IncorrectKeyException when Decrypt names another key', async () => {
    // Prepare
    const other = await kms.send(new CreateKeyCommand({}));
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('v') }));

    // Act
    const error = await caught(() => kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, KeyId: other.KeyMetadata?.KeyId })));

    // Assess
    expect(error.name).toBe('IncorrectKeyException');
  });

  it('generates a 256-bit data key whose ciphertext decrypts to the same plaintext', async () => {
    // Act
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { purpose: 'test' } }));
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));

    // Assess
    expect(dataKey.Plaintext).toHaveLength(32);
    expect(Buffer.from(decrypted.Plaintext ?? []).equals(Buffer.from(dataKey.Plaintext ?? []))).toBe(true);
  });

  it('requires exactly one of KeySpec and NumberOfBytes in GenerateDataKey (ValidationException)', async () => {
    // Act
    const neither = await caught(() => kms.send(new GenerateDataKeyCommand({ KeyId: keyId })));
    const both = await caught(() => kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 16 })));

    // Assess
    expect(neither.name).toBe('ValidationException');
    expect(both.name).toBe('ValidationException');
  });

  it('refuses to use a disabled key (DisabledException) until it is enabled again', async () => {
    // Prepare
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));

    // Act
    const error = await caught(() => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('v') })));
    const state = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState;
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    const encrypted = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('v') }));

    // Assess
    expect(error.name).toBe('DisabledException');
    expect(state).toBe('Disabled');
    expect(encrypted.CiphertextBlob?.length).toBeGreaterThan(0);
  });

  it('refuses a duplicate alias (AlreadyExistsException) and lists aliases', async () => {
    // Prepare
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: keyId }));

    // Act
    const error = await caught(() => kms.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: keyId })));
    const listed = await kms.send(new ListAliasesCommand({}));

    // Assess
    expect(error.name).toBe('AlreadyExistsException');
    expect(listed.Aliases?.map((a) => [a.AliasName, a.TargetKeyId])).toEqual([['alias/a', keyId]]);
  });
});

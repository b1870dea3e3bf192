import { DecryptCommand, EncryptCommand, InvalidCiphertextException, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { KmsSecretSealer } from '../../lambdas/adapters/kms-secret-sealer';
import { AwsRequestError, TransientAwsError } from '../../lambdas/core/errors';
import { awsError } from './sdk-errors';

const kmsMock = mockClient(KMSClient);
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const sealer = new KmsSecretSealer(new KMSClient({ region: 'eu-west-1' }), KEY);
const CONTEXT = { rotationId: 'rot-1', accessKeyId: 'AKIANEW', purpose: 'secretAccessKey' };

beforeEach(() => kmsMock.reset());

describe('KmsSecretSealer', () => {
  it('seals with the configured key and the encryption context, returning base64 ciphertext', async () => {
    // Prepare
    kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), KeyId: KEY });

    // Act
    const sealed = await sealer.seal('plain secret', CONTEXT);

    // Assess
    expect(sealed).toBe(Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64'));
    const input = kmsMock.commandCalls(EncryptCommand)[0]?.args[0].input;
    expect(input?.KeyId).toBe(KEY);
    expect(input?.EncryptionContext).toEqual(CONTEXT);
    expect(Buffer.from(input?.Plaintext ?? []).toString('utf8')).toBe('plain secret');
  });

  it('opens with the same key and context', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: Buffer.from('plain secret', 'utf8'), KeyId: KEY });

    const opened = await sealer.open(Buffer.from([1, 2, 3]).toString('base64'), CONTEXT);

    expect(opened).toBe('plain secret');
    const input = kmsMock.commandCalls(DecryptCommand)[0]?.args[0].input;
    expect(input?.KeyId).toBe(KEY);
    expect(input?.EncryptionContext).toEqual(CONTEXT);
    expect(Buffer.from(input?.CiphertextBlob ?? [])).toEqual(Buffer.from([1, 2, 3]));
  });

  it('fails with a terminal AwsRequestError when the context does not match (InvalidCiphertextException)', async () => {
    kmsMock.on(DecryptCommand).rejects(new InvalidCiphertextException({ message: 'bad', $metadata: {} }));

    const failure = sealer.open('AAAA', { ...CONTEXT, rotationId: 'another' });

    await expect(failure).rejects.toThrow(AwsRequestError);
    await expect(failure).rejects.toThrow('KMS Decrypt failed (InvalidCiphertextException)');
  });

  it('maps KMS throttling and internal errors to TransientAwsError', async () => {
    kmsMock.on(EncryptCommand).rejects(awsError('ThrottlingException'));
    kmsMock.on(DecryptCommand).rejects(awsError('KMSInternalException', 500));

    await expect(sealer.seal('x', CONTEXT)).rejects.toThrow(TransientAwsError);
    await expect(sealer.open('AAAA', CONTEXT)).rejects.toThrow(TransientAwsError);
  });

  it('never puts the plaintext into an Encrypt error', async () => {
    kmsMock.on(EncryptCommand).rejects(awsError('ValidationException', 400, 'Plaintext SENTINEL too long'));

    const error = (await sealer.seal('SENTINEL', CONTEXT).catch((e: unknown) => e)) as Error;

    expect(error.message).toBe('KMS Encrypt failed (ValidationException)');
  });
});

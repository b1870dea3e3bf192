import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { startStubEndpoint, type StubEndpoint } from '../../bench/experiments/stub-endpoint';

const CREDENTIALS = { accessKeyId: 'AKIDSTUBTEST00000001', secretAccessKey: 'stub-test-secret' };

let stub: StubEndpoint;
beforeAll(async () => {
  stub = await startStubEndpoint(CREDENTIALS);
});
afterAll(async () => {
  await stub.close();
});

const clientConfig = (secretAccessKey: string) => ({
  endpoint: stub.url,
  region: 'us-east-1',
  maxAttempts: 1,
  credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey },
});

describe('stub endpoint', () => {
  it('answers a correctly signed IAM call and records it as such', async () => {
    // Prepare
    const iam = new IAMClient(clientConfig(CREDENTIALS.secretAccessKey));
    const before = stub.requests.length;
    // Act
    const out = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    // Assess
    expect(out.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual(['AKIASTUBOLDKEY000001']);
    expect(stub.requests.slice(before)).toEqual([{ service: 'iam', action: 'ListAccessKeys', accessKeyId: CREDENTIALS.accessKeyId, signatureValid: true }]);
  });

  it('rejects a call signed with another secret', async () => {
    // Prepare
    const iam = new IAMClient(clientConfig('not-the-secret'));
    const before = stub.requests.length;
    // Act / Assess
    await expect(iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    expect(stub.requests.slice(before)).toEqual([expect.objectContaining({ signatureValid: false })]);
  });

  it('round-trips a KMS seal', async () => {
    // Prepare
    const kms = new KMSClient(clientConfig(CREDENTIALS.secretAccessKey));
    // Act
    const sealed = await kms.send(new EncryptCommand({ KeyId: 'alias/x', Plaintext: Buffer.from('hello') }));
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    // Assess
    expect(Buffer.from(opened.Plaintext ?? new Uint8Array()).toString('utf8')).toBe('hello');
  });
});

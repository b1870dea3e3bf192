import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { type Credentials, caught, clientConfig } from './helpers';

describe('local AWS endpoint: STS and request authentication', () => {
  let aws: LocalAws;
  let key: Credentials;
  const clients: { destroy(): void }[] = [];
  const sts = (credentials: Credentials) => {
    const client = new STSClient(clientConfig(aws, credentials));
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    aws = await startLocalAws({ accountId: '123456789012' });
    aws.iam.createUser('mailer', { path: '/smtp/' });
    key = aws.iam.createAccessKey('mailer');
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.destroy());
    await aws.stop();
  });

  it('answers GetCallerIdentity for a request correctly signed with the key\'s secret', async () => {
    // Act
    const identity = await sts(key).send(new GetCallerIdentityCommand({}));

    // Assess
    expect(identity).toMatchObject({
      Arn: 'arn:aws:iam::123456789012:user/smtp/mailer',
      Account: '123456789012',
      UserId: aws.iam.getUser('mailer')?.userId,
    });
  });

  it('rejects a request signed with a wrong secret: SignatureDoesNotMatch (403)', async () => {
    // Act
    const error = await caught(() => sts({ accessKeyId: key.accessKeyId, secretAccessKey: `${key.secretAccessKey.slice(0, -1)}x` }).send(new GetCallerIdentityCommand({})));

    // Assess
    expect(error.name).toBe('SignatureDoesNotMatch');
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(error.message).toContain('The request signature we calculated does not match');
  });

  it('rejects an Inactive key: InvalidClientTokenId (403), and accepts it again once reactivated', async () => {
    // Prepare
    const admin = new IAMClient(clientConfig(aws));
    clients.push(admin);
    await admin.send(new UpdateAccessKeyCommand({ UserName: 'mailer', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));

    // Act
    const error = await caught(() => sts(key).send(new GetCallerIdentityCommand({})));
    await admin.send(new UpdateAccessKeyCommand({ UserName: 'mailer', AccessKeyId: key.accessKeyId, Status: 'Active' }));
    const identity = await sts(key).send(new GetCallerIdentityCommand({}));

    // Assess
    expect(error.name).toBe('InvalidClientTokenId');
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(error.message).toBe('The security token included in the request is invalid.');
    expect(identity.Arn).toBe('arn:aws:iam::123456789012:user/smtp/mailer');
  });

  it('rejects a deleted key with InvalidClientTokenId (it does not fall back to admin)', async () => {
    // Prepare
    const admin = new IAMClient(clientConfig(aws));
    clients.push(admin);
    await admin.send(new DeleteAccessKeyCommand({ UserName: 'mailer', AccessKeyId: key.accessKeyId }));

    // Act
    const error = await caught(() => sts(key).send(new GetCallerIdentityCommand({})));

    // Assess
    expect(error.name).toBe('InvalidClientTokenId');
  });

  it('treats a key younger than the propagation delay as unknown, and accepts it once old enough', async () => {
    // Prepare
    aws.setPropagationDelay(10_000);
    const young = aws.iam.createAccessKey('mailer');

    // Act
    const early = await caught(() => sts(young).send(new GetCallerIdentityCommand({})));
    aws.clock.advance(10_000);
    const later = await sts(young).send(new GetCallerIdentityCommand({}));

    // Assess
    expect(early.name).toBe('InvalidClientTokenId');
    expect(later.Arn).toBe('arn:aws:iam::123456789012:user/smtp/mailer');
  });

  it('answers the admin principal (any other credentials) as the account root', async () => {
    // Act
    const identity = await sts({ accessKeyId: 'test', secretAccessKey: 'whatever' }).send(new GetCallerIdentityCommand({}));

    // Assess
    expect(identity).toMatchObject({ Arn: 'arn:aws:iam::123456789012:root', Account: '123456789012', UserId: '123456789012' });
  });

  it('records the last use of a key: date (endpoint clock), service and region', async () => {
    // Prepare
    const at = new Date(aws.clock.now().getTime() + 3_600_000);
    aws.clock.advance(3_600_000);
    const euSts = new STSClient({ ...clientConfig(aws, key), region: 'eu-west-1' });
    clients.push(euSts);
    const admin = new IAMClient(clientConfig(aws));
    clients.push(admin);

    // Act
    await euSts.send(new GetCallerIdentityCommand({}));
    const { AccessKeyLastUsed, UserName } = await admin.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.accessKeyId }));

    // Assess
    expect(UserName).toBe('mailer');
    expect(AccessKeyLastUsed?.ServiceName).toBe('sts');
    expect(AccessKeyLastUsed?.Region).toBe('eu-west-1');
    expect(Math.abs((AccessKeyLastUsed?.LastUsedDate?.getTime() ?? 0) - at.getTime())).toBeLessThan(2000);
  });

  it('does not record a use for a rejected request', async () => {
    // Act
    await caught(() => sts({ accessKeyId: key.accessKeyId, secretAccessKey: 'wrong-secret-wrong-secret-wrong-secret00' }).send(new GetCallerIdentityCommand({})));

    // Assess
    expect(aws.iam.getAccessKey(key.accessKeyId)?.lastUsed).toBeUndefined();
  });

  it('applies the same checks to every service: a deactivated key stops working in Secrets Manager too', async () => {
    // Prepare
    const sm = new SecretsManagerClient(clientConfig(aws, key));
    clients.push(sm);
    const before = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'missing' })));
    const admin = new IAMClient(clientConfig(aws));
    clients.push(admin);
    await admin.send(new UpdateAccessKeyCommand({ UserName: 'mailer', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));

    // Act
    const after = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'missing' })));
    const wrongSecretClient = new SecretsManagerClient(clientConfig(aws, { accessKeyId: key.accessKeyId, secretAccessKey: 'x'.repeat(40) }));
    clients.push(wrongSecretClient);
    const wrongSecret = await caught(() => wrongSecretClient.send(new GetSecretValueCommand({ SecretId: 'missing' })));

    // Assess
    expect(before.name).toBe('ResourceNotFoundException');
    expect(after.name).toBe('UnrecognizedClientException');
    expect(wrongSecret.name).toBe('UnrecognizedClientException');
    expect(aws.iam.getAccessKey(key.accessKeyId)?.lastUsed?.serviceName).toBe('secretsmanager');
  });

  it('rejects a wrong signature in a JSON protocol service with InvalidSignatureException', async () => {
    // Prepare
    const sm = new SecretsManagerClient(clientConfig(aws, { accessKeyId: key.accessKeyId, secretAccessKey: 'y'.repeat(40) }));
    clients.push(sm);

    // Act
    const error = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'missing' })));

    // Assess
    expect(error.name).toBe('InvalidSignatureException');
  });

  it('lets an IAM user act as itself: CreateAccessKey and ListAccessKeys without UserName', async () => {
    // Prepare
    const asUser = new IAMClient(clientConfig(aws, key));
    clients.push(asUser);

    // Act
    const created = await asUser.send(new CreateAccessKeyCommand({}));
    const listed = await asUser.send(new ListAccessKeysCommand({}));

    // Assess
    expect(created.AccessKey?.UserName).toBe('mailer');
    expect(listed.AccessKeyMetadata?.map((k) => k.AccessKeyId).sort()).toEqual([key.accessKeyId, created.AccessKey?.AccessKeyId].sort());
  });
});

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateUserCommand, DeleteAccessKeyCommand, IAMClient } from '@aws-sdk/client-iam';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { caught, clientConfig } from './helpers';

describe('local AWS endpoint: state file', () => {
  let dir: string;
  let file: string;
  const running: LocalAws[] = [];
  const clients: { destroy(): void }[] = [];
  function client<T extends { destroy(): void }>(c: T): T {
    clients.push(c);
    return c;
  }
  async function start(): Promise<LocalAws> {
    const aws = await startLocalAws({ stateFile: file });
    running.push(aws);
    return aws;
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keyrotate-local-aws-'));
    file = path.join(dir, 'nested', 'state.json');
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.destroy());
    for (const aws of running.splice(0)) await aws.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every service\'s data across a restart', async () => {
    // Prepare
    const first = await start();
    first.iam.createUser('mailer');
    const key = first.iam.createAccessKey('mailer');
    const retired = first.iam.createAccessKey('mailer');
    await client(new IAMClient(clientConfig(first))).send(new DeleteAccessKeyCommand({ UserName: 'mailer', AccessKeyId: retired.accessKeyId }));
    const sm = client(new SecretsManagerClient(clientConfig(first)));
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v1' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2' }));
    const keyId = first.kms.createKey('k');
    const blob = (await client(new KMSClient(clientConfig(first))).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('sealed'), EncryptionContext: { a: 'b' } }))).CiphertextBlob;
    first.dynamodb.createTable('locks', 'userName');
    await client(new DynamoDBClient(clientConfig(first))).send(new PutItemCommand({ TableName: 'locks', Item: { userName: { S: 'mailer' }, owner: { S: 'x' } } }));
    await first.stop();

    // Act
    const second = await start();
    const identity = await client(new STSClient(clientConfig(second, key))).send(new GetCallerIdentityCommand({}));
    const retiredError = await caught(() => client(new STSClient(clientConfig(second, retired))).send(new GetCallerIdentityCommand({})));
    const sm2 = client(new SecretsManagerClient(clientConfig(second)));
    const current = await sm2.send(new GetSecretValueCommand({ SecretId: 's' }));
    const previous = await sm2.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' }));
    const decrypted = await client(new KMSClient(clientConfig(second))).send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: 'b' } }));
    const item = await client(new DynamoDBClient(clientConfig(second))).send(new GetItemCommand({ TableName: 'locks', Key: { userName: { S: 'mailer' } } }));

    // Assess
    expect(identity.Arn).toBe('arn:aws:iam::000000000000:user/mailer');
    expect(retiredError.name).toBe('InvalidClientTokenId');
    expect([current.SecretString, previous.SecretString]).toEqual(['v2', 'v1']);
    expect(Buffer.from(decrypted.Plaintext ?? []).toString()).toBe('sealed');
    expect(item.Item?.owner).toEqual({ S: 'x' });
  });

  it('saves after each change, atomically, to a file only its owner can read', async () => {
    // Prepare
    const aws = await start();

    // Act
    await client(new IAMClient(clientConfig(aws))).send(new CreateUserCommand({ UserName: 'saved-at-once' }));

    // Assess
    expect(readFileSync(file, 'utf8')).toContain('saved-at-once');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(file))).toEqual(['state.json']);
  });

  it('refuses a file that is not its state, and a state of another account', async () => {
    // Prepare
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ hello: 'world' }));
    const aws = await start();
    aws.iam.createUser('u');
    await aws.stop();

    // Act
    const notState = await startLocalAws({ stateFile: path.join(dir, 'other.json') }).catch((e: Error) => e);
    const otherAccount = await startLocalAws({ stateFile: file, accountId: '111111111111' }).catch((e: Error) => e);

    // Assess
    expect(notState).toBeInstanceOf(Error);
    expect((notState as Error).message).toContain('is not a keyrotate local AWS state file');
    expect((otherAccount as Error).message).toContain('holds account 000000000000');
  });
});

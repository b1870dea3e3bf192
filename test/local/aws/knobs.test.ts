import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateUserCommand, GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type CallRecord, type LocalAws, startLocalAws } from '../../../local/aws';
import { caught, clientConfig } from './helpers';

describe('local AWS endpoint: knobs', () => {
  let aws: LocalAws;
  const clients: { destroy(): void }[] = [];
  function client<T extends { destroy(): void }>(c: T): T {
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.destroy());
    await aws.stop();
  });

  describe('throttling', () => {
    it('answers each service\'s own throttling error when the SDK does not retry', async () => {
      // Prepare
      aws = await startLocalAws({ throttle: { fraction: 1 } });
      const ddb = client(new DynamoDBClient(clientConfig(aws)));

      // Act
      const errors = await Promise.all([
        caught(() => client(new IAMClient(clientConfig(aws))).send(new GetUserCommand({ UserName: 'x' }))),
        caught(() => client(new STSClient(clientConfig(aws))).send(new GetCallerIdentityCommand({}))),
        caught(() => client(new SecretsManagerClient(clientConfig(aws))).send(new GetSecretValueCommand({ SecretId: 'x' }))),
        caught(() => client(new KMSClient(clientConfig(aws))).send(new CreateKeyCommand({}))),
        caught(() => ddb.send(new GetItemCommand({ TableName: 't', Key: { k: { S: 'x' } } }))),
        caught(() => ddb.send(new DescribeTableCommand({ TableName: 't' }))),
      ]);

      // Assess
      expect(errors.map((e) => e.name)).toEqual(['Throttling', 'Throttling', 'ThrottlingException', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'ThrottlingException']);
      expect(errors.every((e) => e.$metadata?.httpStatusCode === 400)).toBe(true);
      expect(aws.calls.all().every((c) => c.injected === 'throttle' && c.outcome === 'error')).toBe(true);
    });

    it('throttles per API with a token bucket that refills on the endpoint clock', async () => {
      // Prepare
      let now = Date.parse('2030-01-01T00:00:00Z');
      aws = await startLocalAws({ clock: () => new Date(now), throttle: { rate: 1, burst: 2, apis: ['sts:GetCallerIdentity'] } });
      const sts = client(new STSClient(clientConfig(aws)));
      const iam = client(new IAMClient(clientConfig(aws)));
      const identity = () => sts.send(new GetCallerIdentityCommand({})).then(() => 'ok', (e: Error) => e.name);

      // Act
      const burst = [await identity(), await identity(), await identity()];
      const otherApi = await iam.send(new CreateUserCommand({ UserName: 'u' })).then(() => 'ok');
      now += 1000;
      const refilled = [await identity(), await identity()];

      // Assess
      expect(burst).toEqual(['ok', 'ok', 'Throttling']);
      expect(otherApi).toBe('ok');
      expect(refilled).toEqual(['ok', 'Throttling']);
    });

    it('throttles a seeded random fraction: the same seed throttles the same calls', async () => {
      // Prepare
      const run = async () => {
        const endpoint = await startLocalAws({ throttle: { fraction: 0.3, seed: 42 } });
        const sts = new STSClient(clientConfig(endpoint));
        const outcomes: string[] = [];
        for (let i = 0; i < 40; i++) outcomes.push(await sts.send(new GetCallerIdentityCommand({})).then(() => '.', () => 'T'));
        sts.destroy();
        await endpoint.stop();
        return outcomes.join('');
      };
      aws = await startLocalAws();

      // Act
      const first = await run();
      const second = await run();

      // Assess
      expect(first).toBe(second);
      const throttled = [...first].filter((c) => c === 'T').length;
      expect(throttled).toBeGreaterThan(4);
      expect(throttled).toBeLessThan(20);
    });

    it('is retried by the SDK as throttling, which succeeds once the bucket refills', async () => {
      // Prepare
      aws = await startLocalAws({ throttle: { rate: 20, burst: 1, apis: ['sts:*'] } });
      const sts = client(new STSClient({ ...clientConfig(aws), maxAttempts: 3 }));
      await sts.send(new GetCallerIdentityCommand({}));

      // Act
      const identity = await sts.send(new GetCallerIdentityCommand({}));

      // Assess
      expect(identity.Account).toBe('000000000000');
      expect(aws.calls.of('sts').map((c) => c.errorCode ?? 'ok')).toEqual(['ok', 'Throttling', 'ok']);
    });
  });

  describe('fault injection', () => {
    beforeEach(async () => {
      aws = await startLocalAws();
      aws.iam.createUser('mailer');
    });

    it('fails the nth call of an operation before its side effect', async () => {
      // Prepare
      const iam = client(new IAMClient(clientConfig(aws)));
      const fault = aws.faults.fail({ service: 'iam', operation: 'CreateAccessKey', nth: 2 });

      // Act
      await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));
      const error = await caught(() => iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' })));

      // Assess
      expect(error.name).toBe('ServiceFailureException');
      expect(error.$metadata?.httpStatusCode).toBe(500);
      expect(fault.fired).toBe(1);
      expect(aws.iam.listAccessKeys('mailer')).toHaveLength(1);
      expect(aws.calls.of('iam', 'CreateAccessKey').map((c) => [c.outcome, c.injected])).toEqual([
        ['ok', undefined],
        ['error', 'fault'],
      ]);
    });

    it('fails with a chosen code and status', async () => {
      // Prepare
      const sm = client(new SecretsManagerClient(clientConfig(aws)));
      aws.faults.fail({ service: 'secretsmanager', operation: 'GetSecretValue', code: 'AccessDeniedException', status: 400, message: 'not allowed' });

      // Act
      const error = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'x' })));

      // Assess
      expect(error.name).toBe('AccessDeniedException');
      expect(error.message).toBe('not allowed');
    });

    it('drops the connection after the side effect: the SDK sees a network error, the key exists', async () => {
      // Prepare
      const iam = client(new IAMClient(clientConfig(aws)));
      aws.faults.drop({ service: 'iam', operation: 'CreateAccessKey' });

      // Act
      const error = await caught(() => iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' })));

      // Assess
      expect(error.$metadata?.httpStatusCode).toBeUndefined();
      expect(String((error as Error & { code?: string }).code ?? error.message)).toMatch(/ECONNRESET|socket hang up/);
      expect(aws.iam.listAccessKeys('mailer')).toHaveLength(1);
      expect(aws.calls.of('iam', 'CreateAccessKey')[0]).toMatchObject({ outcome: 'dropped', status: 0, injected: 'fault' });
    });

    it('shows why retries need idempotency: an SDK retry after a dropped answer creates a second key', async () => {
      // Prepare
      const iam = client(new IAMClient({ ...clientConfig(aws), maxAttempts: 2 }));
      aws.faults.drop({ service: 'iam', operation: 'CreateAccessKey' });

      // Act
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));

      // Assess
      const keys = aws.iam.listAccessKeys('mailer');
      expect(keys).toHaveLength(2);
      expect(keys.map((k) => k.accessKeyId)).toContain(AccessKey?.AccessKeyId);
    });
  });

  describe('call log and clock', () => {
    it('records every call with service, operation, time, outcome and principal, and calls listeners', async () => {
      // Prepare
      const start = Date.parse('2031-05-01T10:00:00Z');
      aws = await startLocalAws({ clock: () => new Date(start) });
      aws.iam.createUser('mailer', { path: '/x/' });
      const key = aws.iam.createAccessKey('mailer');
      const heard: CallRecord[] = [];
      const unsubscribe = aws.calls.onCall((c) => heard.push(c));
      const ddb = client(new DynamoDBClient(clientConfig(aws)));

      // Act
      await client(new STSClient(clientConfig(aws, key))).send(new GetCallerIdentityCommand({}));
      aws.clock.advance(5000);
      await caught(() => ddb.send(new DescribeTableCommand({ TableName: 'none' })));
      unsubscribe();
      await ddb.send(new CreateTableCommand({ TableName: 'tbl', KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));

      // Assess
      expect(aws.calls.all().map((c) => [c.seq, c.service, c.operation, c.outcome, c.errorCode, c.principal, c.time.toISOString()])).toEqual([
        [1, 'sts', 'GetCallerIdentity', 'ok', undefined, 'arn:aws:iam::000000000000:user/x/mailer', '2031-05-01T10:00:00.000Z'],
        [2, 'dynamodb', 'DescribeTable', 'error', 'ResourceNotFoundException', 'admin', '2031-05-01T10:00:05.000Z'],
        [3, 'dynamodb', 'CreateTable', 'ok', undefined, 'admin', '2031-05-01T10:00:05.000Z'],
      ]);
      expect(heard.map((c) => c.operation)).toEqual(['GetCallerIdentity', 'DescribeTable']);
      expect(aws.calls.all()[0]?.accessKeyId).toBe(key.accessKeyId);
    });

    it('dates what it creates with the injected clock', async () => {
      // Prepare
      aws = await startLocalAws({ clock: () => new Date('2029-02-03T04:05:06Z') });
      const iam = client(new IAMClient(clientConfig(aws)));
      await iam.send(new CreateUserCommand({ UserName: 'u' }));
      aws.clock.advance(60_000);

      // Act
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'u' }));

      // Assess
      expect(AccessKey?.CreateDate?.toISOString()).toBe('2029-02-03T04:06:06.000Z');
      expect(aws.iam.getUser('u')?.createDate.toISOString()).toBe('2029-02-03T04:05:06.000Z');
    });
  });
});

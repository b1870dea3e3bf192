import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { caught, clientConfig } from './helpers';

const TABLE = 'keyrotate-locks';
/** The lock acquisition of docs/internals.md, verbatim. */
const ACQUIRE = 'attribute_not_exists(userName) OR #owner = :owner OR expiresAt < :now';

describe('local AWS endpoint: DynamoDB', () => {
  let aws: LocalAws;
  let ddb: DynamoDBClient;

  beforeEach(async () => {
    aws = await startLocalAws();
    ddb = new DynamoDBClient(clientConfig(aws));
    await ddb.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'userName', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'userName', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });

  afterEach(async () => {
    ddb.destroy();
    await aws.stop();
  });

  const acquire = (owner: string, now: number, returnOld = false) =>
    ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { userName: { S: 'mailer' }, owner: { S: owner }, expiresAt: { N: String(now + 3600) }, ttl: { N: String(now + 7200) } },
        ConditionExpression: ACQUIRE,
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': { S: owner }, ':now': { N: String(now) } },
        ...(returnOld ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
      }),
    );

  describe('tables', () => {
    it('describes a created table as ACTIVE with its key schema', async () => {
      // Act
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: TABLE }));

      // Assess
      expect(Table).toMatchObject({
        TableName: TABLE,
        TableStatus: 'ACTIVE',
        KeySchema: [{ AttributeName: 'userName', KeyType: 'HASH' }],
        TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}`,
        BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      });
    });

    it('records the TTL attribute, lists tables and deletes one', async () => {
      // Act
      const before = await ddb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
      await ddb.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));
      const after = await ddb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
      const listed = await ddb.send(new ListTablesCommand({}));
      const deleted = await ddb.send(new DeleteTableCommand({ TableName: TABLE }));
      const gone = await caught(() => ddb.send(new DescribeTableCommand({ TableName: TABLE })));

      // Assess
      expect(before.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'DISABLED' });
      expect(after.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
      expect(listed.TableNames).toEqual([TABLE]);
      expect(deleted.TableDescription?.TableStatus).toBe('DELETING');
      expect(gone.name).toBe('ResourceNotFoundException');
    });

    it('fails with ResourceInUseException for an existing table and ResourceNotFoundException for a missing one', async () => {
      // Act
      const exists = await caught(() =>
        ddb.send(
          new CreateTableCommand({
            TableName: TABLE,
            KeySchema: [{ AttributeName: 'userName', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'userName', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        ),
      );
      const missing = await caught(() => ddb.send(new GetItemCommand({ TableName: 'none', Key: { userName: { S: 'x' } } })));

      // Assess
      expect(exists.name).toBe('ResourceInUseException');
      expect(missing.name).toBe('ResourceNotFoundException');
    });
  });

  describe('the rotation lock', () => {
    it('lets the first rotation take the lock and refuses a second one while it is held', async () => {
      // Prepare
      await acquire('exec-a', 1000);

      // Act
      const error = await caught(() => acquire('exec-b', 1001, true));

      // Assess
      expect(error).toBeInstanceOf(ConditionalCheckFailedException);
      expect(error.message).toBe('The conditional request failed');
      expect((error as ConditionalCheckFailedException).Item?.owner).toEqual({ S: 'exec-a' });
      expect(aws.dynamodb.getItem(TABLE, { userName: { S: 'mailer' } })?.owner).toEqual({ S: 'exec-a' });
    });

    it('lets the owner take its own lock again, and anyone take an expired one', async () => {
      // Prepare
      await acquire('exec-a', 1000);

      // Act
      await acquire('exec-a', 1500);
      await acquire('exec-b', 1000 + 3600 + 3600);

      // Assess
      expect(aws.dynamodb.getItem(TABLE, { userName: { S: 'mailer' } })?.owner).toEqual({ S: 'exec-b' });
    });

    it('lets exactly one of two concurrent conditional puts win', async () => {
      // Act
      const results = await Promise.allSettled([acquire('exec-a', 1000), acquire('exec-b', 1000)]);

      // Assess
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(ConditionalCheckFailedException);
    });

    it('releases only for the owner (conditional DeleteItem), returning the old item with ALL_OLD', async () => {
      // Prepare
      await acquire('exec-a', 1000);
      const release = (owner: string) =>
        ddb.send(
          new DeleteItemCommand({
            TableName: TABLE,
            Key: { userName: { S: 'mailer' } },
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': { S: owner } },
            ReturnValues: 'ALL_OLD',
          }),
        );

      // Act
      const wrong = await caught(() => release('exec-b'));
      const right = await release('exec-a');
      const after = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { userName: { S: 'mailer' } } }));

      // Assess
      expect(wrong.name).toBe('ConditionalCheckFailedException');
      expect(right.Attributes?.owner).toEqual({ S: 'exec-a' });
      expect(after.Item).toBeUndefined();
    });
  });

  describe('UpdateItem', () => {
    it('creates the item when absent, applies SET/REMOVE with if_not_exists and arithmetic, and returns ALL_NEW', async () => {
      // Prepare
      const key = { userName: { S: 'u1' } };
      await ddb.send(new UpdateItemCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET attempts = :one, note = :note', ExpressionAttributeValues: { ':one': { N: '1' }, ':note': { S: 'x' } } }));

      // Act
      const updated = await ddb.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'SET attempts = attempts + :one, firstSeen = if_not_exists(firstSeen, :now) REMOVE note',
          ConditionExpression: 'attempts < :max',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: '42' }, ':max': { N: '3' } },
          ReturnValues: 'ALL_NEW',
        }),
      );

      // Assess
      expect(updated.Attributes).toEqual({ userName: { S: 'u1' }, attempts: { N: '2' }, firstSeen: { N: '42' } });
    });

    it('returns UPDATED_OLD, fails the condition without changing the item, and refuses to update the key', async () => {
      // Prepare
      const key = { userName: { S: 'u2' } };
      await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { ...key, status: { S: 'old' }, other: { S: 'keep' } } }));

      // Act
      const updatedOld = await ddb.send(
        new UpdateItemCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET #s = :new', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':new': { S: 'new' } }, ReturnValues: 'UPDATED_OLD' }),
      );
      const failed = await caught(() =>
        ddb.send(new UpdateItemCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET other = :v', ConditionExpression: 'attribute_not_exists(other)', ExpressionAttributeValues: { ':v': { S: 'changed' } } })),
      );
      const keyUpdate = await caught(() => ddb.send(new UpdateItemCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET userName = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } })));

      // Assess
      expect(updatedOld.Attributes).toEqual({ status: { S: 'old' } });
      expect(failed.name).toBe('ConditionalCheckFailedException');
      expect(keyUpdate.name).toBe('ValidationException');
      expect(aws.dynamodb.getItem(TABLE, key)).toEqual({ ...key, status: { S: 'new' }, other: { S: 'keep' } });
    });
  });

  describe('validation', () => {
    it.each([
      ['an undefined #name', { ConditionExpression: '#missing = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } }, 'attribute name used in the document path is not defined'],
      ['an undefined :value', { ConditionExpression: 'holder = :v' }, 'attribute value used in expression is not defined'],
      ['an unused :value', { ConditionExpression: 'attribute_exists(holder)', ExpressionAttributeValues: { ':unused': { S: 'x' } } }, 'unused in expressions'],
      ['a syntax error', { ConditionExpression: 'holder = = :v', ExpressionAttributeValues: { ':v': { S: 'x' } } }, 'Syntax error'],
    ])('fails with ValidationException on %s, writing nothing', async (_label, expression, message) => {
      // Act
      const error = await caught(() => ddb.send(new PutItemCommand({ TableName: TABLE, Item: { userName: { S: 'v' } }, ...expression })));

      // Assess
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain(message);
      expect(aws.dynamodb.items(TABLE)).toEqual([]);
    });

    it('fails with ValidationException when the key is missing or of the wrong type', async () => {
      // Act
      const missing = await caught(() => ddb.send(new PutItemCommand({ TableName: TABLE, Item: { holder: { S: 'x' } } })));
      const wrongType = await caught(() => ddb.send(new GetItemCommand({ TableName: TABLE, Key: { userName: { N: '1' } } })));

      // Assess
      expect(missing.name).toBe('ValidationException');
      expect(missing.message).toContain('Missing the key userName in the item');
      expect(wrongType.name).toBe('ValidationException');
    });
  });
});

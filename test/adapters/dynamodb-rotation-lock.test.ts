import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbRotationLock } from '../../lambdas/adapters/dynamodb-rotation-lock';
import { RotationInProgressError, RotationLockLostError, TransientAwsError } from '../../lambdas/core/errors';
import { awsError } from './sdk-errors';

const ddbMock = mockClient(DynamoDBClient);
const NOW = new Date('2024-06-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const lock = new DynamoDbRotationLock(new DynamoDBClient({ region: 'eu-west-1' }), 'keyrotate-locks', { now: () => NOW });
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function holds(owner: string, expiresAtSeconds: number) {
  ddbMock.on(GetItemCommand).resolves({
    Item: { userName: { S: 'smtp' }, owner: { S: owner }, expiresAt: { N: String(expiresAtSeconds) } },
  });
}

beforeEach(() => ddbMock.reset());

describe('DynamoDbRotationLock.acquire', () => {
  it('writes the lease with the compare-and-set condition and a ttl', async () => {
    // Prepare
    ddbMock.on(PutItemCommand).resolves({});
    const expiresAt = new Date(NOW.getTime() + 3_600_000);

    // Act
    await lock.acquire('smtp', 'rot-1', expiresAt);

    // Assess
    const input = ddbMock.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input).toEqual({
      TableName: 'keyrotate-locks',
      Item: {
        userName: { S: 'smtp' },
        owner: { S: 'rot-1' },
        expiresAt: { N: String(NOW_S + 3600) },
        acquiredAt: { S: NOW.toISOString() },
        ttl: { N: String(NOW_S + 3600) },
      },
      ConditionExpression: 'attribute_not_exists(userName) OR #owner = :owner OR expiresAt < :now',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': { S: 'rot-1' }, ':now': { N: String(NOW_S) } },
    });
  });

  it('stores a key snapshot with the lease when given one (a list, so that no keys is storable)', async () => {
    // Prepare
    ddbMock.on(PutItemCommand).resolves({});
    const expiresAt = new Date(NOW.getTime() + 3_600_000);
    const takenAt = new Date(NOW.getTime() - 250);

    // Act
    await lock.acquire('smtp', 'rot-1', expiresAt, { accessKeyIds: ['AKIAOLD0000000000001'], takenAt });
    await lock.acquire('smtp', 'rot-1', expiresAt, { accessKeyIds: [], takenAt });

    // Assess
    const [first, second] = ddbMock.commandCalls(PutItemCommand).map((call) => call.args[0].input.Item);
    expect(first).toMatchObject({
      owner: { S: 'rot-1' },
      snapshot: { L: [{ S: 'AKIAOLD0000000000001' }] },
      snapshotTakenAt: { S: takenAt.toISOString() },
    });
    expect(second?.snapshot).toEqual({ L: [] });
  });

  it('fails with RotationInProgressError naming the holder when another rotation holds the lock', async () => {
    // Prepare
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    holds('rot-other', NOW_S + 600);

    // Act
    const failure = lock.acquire('smtp', 'rot-1', new Date(NOW.getTime() + 3_600_000));

    // Assess
    await expect(failure).rejects.toThrow(RotationInProgressError);
    await expect(failure).rejects.toMatchObject({
      userName: 'smtp',
      holder: `rotation rot-other, lease until ${new Date((NOW_S + 600) * 1000).toISOString()}`,
    });
    expect(ddbMock.commandCalls(GetItemCommand, { ConsistentRead: true })).toHaveLength(1);
  });

  it('still fails with RotationInProgressError when the holder vanished meanwhile', async () => {
    ddbMock.on(PutItemCommand).rejects(conditionFailed());
    ddbMock.on(GetItemCommand).resolves({});

    await expect(lock.acquire('smtp', 'rot-1', NOW)).rejects.toThrow(RotationInProgressError);
  });

  it('maps throttling to TransientAwsError', async () => {
    ddbMock.on(PutItemCommand).rejects(awsError('ProvisionedThroughputExceededException'));

    await expect(lock.acquire('smtp', 'rot-1', NOW)).rejects.toThrow(TransientAwsError);
  });
});

describe('DynamoDbRotationLock.assertHeld', () => {
  it('passes while the owner holds a live lease, with a consistent read', async () => {
    holds('rot-1', NOW_S + 60);

    await expect(lock.assertHeld('smtp', 'rot-1')).resolves.toBeUndefined();
    expect(ddbMock.commandCalls(GetItemCommand, { TableName: 'keyrotate-locks', Key: { userName: { S: 'smtp' } }, ConsistentRead: true })).toHaveLength(1);
  });

  it('fails with RotationLockLostError when another rotation holds it, it expired, or nobody holds it', async () => {
    holds('rot-other', NOW_S + 60);
    await expect(lock.assertHeld('smtp', 'rot-1')).rejects.toThrow(RotationLockLostError);

    holds('rot-1', NOW_S - 1);
    await expect(lock.assertHeld('smtp', 'rot-1')).rejects.toThrow(RotationLockLostError);

    ddbMock.on(GetItemCommand).resolves({});
    await expect(lock.assertHeld('smtp', 'rot-1')).rejects.toThrow(RotationLockLostError);
  });
});

describe('DynamoDbRotationLock.release', () => {
  it("deletes the item only if it is the owner's", async () => {
    ddbMock.on(DeleteItemCommand).resolves({});

    await lock.release('smtp', 'rot-1');

    expect(ddbMock.commandCalls(DeleteItemCommand)[0]?.args[0].input).toEqual({
      TableName: 'keyrotate-locks',
      Key: { userName: { S: 'smtp' } },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': { S: 'rot-1' } },
    });
  });

  it('is a no-op when the lock is not (or no longer) the owner’s', async () => {
    ddbMock.on(DeleteItemCommand).rejects(conditionFailed());

    await expect(lock.release('smtp', 'rot-1')).resolves.toBeUndefined();
  });

  it('maps a 5xx to TransientAwsError', async () => {
    ddbMock.on(DeleteItemCommand).rejects(awsError('InternalServerError', 500));

    await expect(lock.release('smtp', 'rot-1')).rejects.toThrow(TransientAwsError);
  });
});

describe('DynamoDbRotationLock.holder', () => {
  it('returns the snapshot stored with the lease, and none when it is absent or malformed', async () => {
    // Prepare
    const lease = { userName: { S: 'smtp' }, owner: { S: 'rot-1' }, expiresAt: { N: String(NOW_S + 60) } };
    const takenAt = '2024-06-01T11:59:59.750Z';
    const answers = [
      { ...lease, snapshot: { L: [{ S: 'AKIAOLD0000000000001' }] }, snapshotTakenAt: { S: takenAt } },
      { ...lease, snapshot: { L: [] }, snapshotTakenAt: { S: takenAt } },
      { ...lease, snapshot: { L: [{ N: '1' }] }, snapshotTakenAt: { S: takenAt } },
      { ...lease, snapshot: { L: [] }, snapshotTakenAt: { S: 'yesterday' } },
      { ...lease, snapshot: { L: [] } },
    ];
    ddbMock.on(GetItemCommand).resolvesOnce({ Item: answers[0] }).resolvesOnce({ Item: answers[1] }).resolvesOnce({ Item: answers[2] })
      .resolvesOnce({ Item: answers[3] }).resolvesOnce({ Item: answers[4] });

    // Act
    const holders = [];
    for (let i = 0; i < answers.length; i += 1) holders.push(await lock.holder('smtp'));

    // Assess
    expect(holders.map((h) => h?.snapshot)).toEqual([
      { accessKeyIds: ['AKIAOLD0000000000001'], takenAt: new Date(takenAt) },
      { accessKeyIds: [], takenAt: new Date(takenAt) },
      undefined,
      undefined,
      undefined,
    ]);
    expect(holders.every((h) => h?.owner === 'rot-1')).toBe(true);
  });

  it('returns the live holder, and null for an expired lease or no item', async () => {
    holds('rot-1', NOW_S + 60);
    await expect(lock.holder('smtp')).resolves.toEqual({ owner: 'rot-1', expiresAt: new Date((NOW_S + 60) * 1000) });

    holds('rot-1', NOW_S - 60);
    await expect(lock.holder('smtp')).resolves.toBeNull();

    ddbMock.on(GetItemCommand).resolves({});
    await expect(lock.holder('smtp')).resolves.toBeNull();
  });
});

describe('DynamoDbRotationLock delivery record', () => {
  const record = { accessKeyId: 'AKIANEW0000000000002', replacedAccessKeyId: 'AKIAOLD0000000000001', rotationId: 'rot-1', at: NOW };

  it('writes its own item (`<user>#delivered`), without ttl or condition, so lock writes never touch it', async () => {
    // Prepare
    ddbMock.on(PutItemCommand).resolves({});

    // Act
    await lock.recordDelivery('smtp', record);

    // Assess
    const [call] = ddbMock.commandCalls(PutItemCommand);
    expect(call?.args[0].input).toEqual({
      TableName: 'keyrotate-locks',
      Item: {
        userName: { S: 'smtp#delivered' },
        accessKeyId: { S: record.accessKeyId },
        replacedAccessKeyId: { S: record.replacedAccessKeyId },
        rotationId: { S: 'rot-1' },
        at: { S: NOW.toISOString() },
      },
    });
  });

  it('reads the record back with a consistent read', async () => {
    // Prepare
    ddbMock.on(GetItemCommand, { Key: { userName: { S: 'smtp#delivered' } } }).resolves({
      Item: {
        userName: { S: 'smtp#delivered' },
        accessKeyId: { S: record.accessKeyId },
        replacedAccessKeyId: { S: record.replacedAccessKeyId },
        rotationId: { S: 'rot-1' },
        at: { S: NOW.toISOString() },
      },
    });

    // Act
    const read = await lock.deliveryRecord('smtp');

    // Assess
    expect(read).toEqual(record);
    expect(ddbMock.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({ ConsistentRead: true });
  });

  it('treats no item and a malformed item as no record', async () => {
    // Prepare
    const full = {
      userName: { S: 'smtp#delivered' },
      accessKeyId: { S: record.accessKeyId },
      replacedAccessKeyId: { S: record.replacedAccessKeyId },
      rotationId: { S: 'rot-1' },
      at: { S: NOW.toISOString() },
    };
    const { replacedAccessKeyId: _dropped, ...withoutReplaced } = full;
    ddbMock.on(GetItemCommand).resolvesOnce({}).resolvesOnce({ Item: withoutReplaced }).resolvesOnce({ Item: { ...full, at: { S: 'yesterday' } } });

    // Act
    const reads = [await lock.deliveryRecord('smtp'), await lock.deliveryRecord('smtp'), await lock.deliveryRecord('smtp')];

    // Assess
    expect(reads).toEqual([null, null, null]);
  });

  it('maps a throttled write to TransientAwsError', async () => {
    // Prepare
    ddbMock.on(PutItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 400));

    // Act
    const act = lock.recordDelivery('smtp', record);

    // Assess
    await expect(act).rejects.toBeInstanceOf(TransientAwsError);
  });
});

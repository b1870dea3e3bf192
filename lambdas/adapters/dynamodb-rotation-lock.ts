/**
 * RotationLock over a DynamoDB table (partition key `userName`, string): one item per locked
 * user, `{ userName, owner, expiresAt (epoch s), acquiredAt, ttl }`, plus, when the holder
 * records one, its key snapshot: `snapshot` (a list of key id strings; a list rather than a
 * string set because a user may have no key) and `snapshotTakenAt` (ISO time).
 *
 * The same table keeps one more item per user that a rotation reached delivery for: the delivery
 * record (port `recordDelivery`), under the key `<userName>#delivered` (`#` cannot occur in an
 * IAM user name, so it never meets a lock item): `{ accessKeyId, replacedAccessKeyId, rotationId,
 * at (ISO time) }`, without `ttl`. It is a separate item so that taking a lock (PutItem replaces
 * the lock item) and releasing it (DeleteItem) leave it alone.
 *
 * Conditional writes are DynamoDB's compare-and-set, which every trigger (Step Functions,
 * Secrets Manager rotation, on demand) can share. A lease past `expiresAt` counts as free, so a
 * crashed rotation cannot block a user forever; `ttl` only lets DynamoDB sweep old items,
 * correctness never waits for it.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { RotationInProgressError, RotationLockLostError } from '../core/errors';
import type { Clock, DeliveryRecord, KeySnapshot, LockHolder, RotationLock } from '../core/ports';
import { callAws, hasAwsErrorCode, toKeyRotateError } from './aws-errors';

const systemClock: Clock = { now: () => new Date() };

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function snapshotAttributes(snapshot: KeySnapshot | undefined): Record<string, AttributeValue> {
  if (!snapshot) return {};
  return {
    snapshot: { L: snapshot.accessKeyIds.map((id) => ({ S: id })) },
    snapshotTakenAt: { S: snapshot.takenAt.toISOString() },
  };
}

/**
 * The stored snapshot. Anything malformed counts as none: the holder then takes a new one, which
 * counts every key present as not its own (the safe reading).
 */
function snapshotOf(item: Record<string, AttributeValue>): KeySnapshot | undefined {
  const ids = item.snapshot?.L?.map((value) => value.S);
  const takenAt = new Date(item.snapshotTakenAt?.S ?? Number.NaN);
  if (!ids || Number.isNaN(takenAt.getTime())) return undefined;
  const accessKeyIds = ids.filter((id): id is string => id !== undefined);
  return accessKeyIds.length === ids.length ? { accessKeyIds, takenAt } : undefined;
}

/** The partition key of a user's delivery record (see the module comment). */
export function deliveryRecordKey(userName: string): string {
  return `${userName}#delivered`;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || hasAwsErrorCode(error, 'ConditionalCheckFailed');
}

export class DynamoDbRotationLock implements RotationLock {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async acquire(userName: string, owner: string, expiresAt: Date, snapshot?: KeySnapshot): Promise<void> {
    const expires = epochSeconds(expiresAt);
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            userName: { S: userName },
            owner: { S: owner },
            expiresAt: { N: String(expires) },
            acquiredAt: { S: this.clock.now().toISOString() },
            ttl: { N: String(expires) },
            ...snapshotAttributes(snapshot),
          },
          // Free, already ours (a re-run of the same rotation), or an expired lease.
          ConditionExpression: 'attribute_not_exists(userName) OR #owner = :owner OR expiresAt < :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner }, ':now': { N: String(epochSeconds(this.clock.now())) } },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw toKeyRotateError('DynamoDB PutItem', error);
      const holder = await this.holder(userName);
      const description = holder ? `rotation ${holder.owner}, lease until ${holder.expiresAt.toISOString()}` : 'a rotation that just finished';
      throw new RotationInProgressError(userName, description);
    }
  }

  async assertHeld(userName: string, owner: string): Promise<void> {
    const current = await this.holder(userName);
    if (current?.owner !== owner) throw new RotationLockLostError(userName, owner);
  }

  async release(userName: string, owner: string): Promise<void> {
    try {
      await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { userName: { S: userName } },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (error) {
      // Already released, never taken, or taken over after expiry: not ours to delete.
      if (isConditionFailure(error)) return;
      throw toKeyRotateError('DynamoDB DeleteItem', error);
    }
  }

  /** The live holder; an expired lease is reported as free, as `acquire` treats it. */
  async holder(userName: string): Promise<LockHolder | null> {
    const { Item: item } = await callAws('DynamoDB GetItem', () =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: { userName: { S: userName } }, ConsistentRead: true }),
      ),
    );
    const owner = item?.owner?.S;
    const expires = Number(item?.expiresAt?.N);
    if (owner === undefined || !Number.isFinite(expires)) return null;
    if (expires < epochSeconds(this.clock.now())) return null;
    const snapshot = item && snapshotOf(item);
    return { owner, expiresAt: new Date(expires * 1000), ...(snapshot ? { snapshot } : {}) };
  }

  async recordDelivery(userName: string, record: DeliveryRecord): Promise<void> {
    await callAws('DynamoDB PutItem', () =>
      this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            userName: { S: deliveryRecordKey(userName) },
            accessKeyId: { S: record.accessKeyId },
            replacedAccessKeyId: { S: record.replacedAccessKeyId },
            rotationId: { S: record.rotationId },
            at: { S: record.at.toISOString() },
          },
        }),
      ),
    );
  }

  /** Anything malformed is no record: it is evidence only when it says exactly what was written. */
  async deliveryRecord(userName: string): Promise<DeliveryRecord | null> {
    const { Item: item } = await callAws('DynamoDB GetItem', () =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: { userName: { S: deliveryRecordKey(userName) } }, ConsistentRead: true }),
      ),
    );
    const accessKeyId = item?.accessKeyId?.S;
    const replacedAccessKeyId = item?.replacedAccessKeyId?.S;
    const rotationId = item?.rotationId?.S;
    const at = new Date(item?.at?.S ?? Number.NaN);
    if (!accessKeyId || !replacedAccessKeyId || !rotationId || Number.isNaN(at.getTime())) return null;
    return { accessKeyId, replacedAccessKeyId, rotationId, at };
  }
}

/**
 * Bundle-size experiment: the heaviest IAM-side Lambda shape (CreateKey): IAM creates the key,
 * KMS seals the secret for the trip between Lambdas, DynamoDB checks the rotation lock; middy
 * and Powertools Logger around it. The handler really calls all three services.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';

const logger = new Logger({ serviceName: 'keyrotate-bench' });
const iam = new IAMClient({});
const kms = new KMSClient({});
const dynamodb = new DynamoDBClient({});

interface ExperimentEvent {
  readonly userName: string;
  readonly lockTable: string;
  readonly kmsKeyId: string;
}

async function run(event: ExperimentEvent): Promise<{ accessKeyId: string; sealedSecret: string; keysBefore: number }> {
  const lock = await dynamodb.send(new GetItemCommand({ TableName: event.lockTable, Key: { userName: { S: event.userName } } }));
  if (lock.Item === undefined) {
    try {
      await dynamodb.send(
        new PutItemCommand({
          TableName: event.lockTable,
          Item: { userName: { S: event.userName }, owner: { S: 'bench' } },
          ConditionExpression: 'attribute_not_exists(userName)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  const before = await iam.send(new ListAccessKeysCommand({ UserName: event.userName }));
  const created = await iam.send(new CreateAccessKeyCommand({ UserName: event.userName }));
  const key = created.AccessKey;
  if (key?.AccessKeyId === undefined || key.SecretAccessKey === undefined) {
    await iam.send(new DeleteAccessKeyCommand({ UserName: event.userName, AccessKeyId: key?.AccessKeyId }));
    throw new Error('CreateAccessKey returned no key');
  }
  const sealed = await kms.send(
    new EncryptCommand({
      KeyId: event.kmsKeyId,
      Plaintext: Buffer.from(key.SecretAccessKey, 'utf8'),
      EncryptionContext: { accessKeyId: key.AccessKeyId },
    }),
  );
  logger.info('created key', { userName: event.userName, accessKeyId: key.AccessKeyId });
  return {
    accessKeyId: key.AccessKeyId,
    sealedSecret: Buffer.from(sealed.CiphertextBlob ?? new Uint8Array()).toString('base64'),
    keysBefore: before.AccessKeyMetadata?.length ?? 0,
  };
}

export const handler = middy(run).use(injectLambdaContext(logger));

/**
 * The Lambda environment the construct sets, for handler tests. Imported first by every handler
 * test; the handlers read it on their first invocation.
 */
import type { Context } from 'aws-lambda';
import { REGION } from './fake-aws';

export const KMS_KEY_ID = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

Object.assign(process.env, {
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: 'AKIALAMBDAROLE00000',
  AWS_SECRET_ACCESS_KEY: 'lambda-role-secret',
  KEYROTATE_KMS_KEY_ID: KMS_KEY_ID,
  KEYROTATE_LOCK_TABLE: 'keyrotate-locks',
  KEYROTATE_SCOPE: JSON.stringify({ pathPrefix: '/service/', userNames: ['smtp'] }),
  KEYROTATE_DEFAULT_SES_REGIONS: JSON.stringify([REGION]),
  KEYROTATE_VERIFY_SECONDS: '5',
  KEYROTATE_ROTATION_OLD_KEY_ACTION: 'deactivate',
  KEYROTATE_ROTATION_LOCK_SECONDS: '3600',
  POWERTOOLS_SERVICE_NAME: 'keyrotate',
});

let invocation = 0;

/** A Lambda context as the runtime passes it. */
export function lambdaContext(functionName = 'keyrotate-test'): Context {
  invocation += 1;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:111122223333:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `request-${invocation}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

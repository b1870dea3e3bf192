/**
 * Bundle-size experiment: the shape of keyrotate's IAM Lambdas (CreateKey, RetireOldKey, …).
 * One IAM client with the four key commands, middy, and Powertools Logger with
 * injectLambdaContext. The handler makes one real call so a bundle that breaks the client
 * (a wrong alias, a dropped protocol piece) fails the experiment instead of looking small.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';

const logger = new Logger({ serviceName: 'keyrotate-bench' });
const iam = new IAMClient({});

interface ExperimentEvent {
  readonly userName: string;
  readonly action?: 'list' | 'create' | 'deactivate' | 'delete';
  readonly accessKeyId?: string;
}

// Every command is reachable, as in the real Lambdas, so tree shaking cannot drop them.
async function run(event: ExperimentEvent): Promise<{ keys: string[] }> {
  const { userName, accessKeyId } = event;
  switch (event.action ?? 'list') {
    case 'create': {
      const out = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      return { keys: [out.AccessKey?.AccessKeyId ?? ''] };
    }
    case 'deactivate':
      await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: 'Inactive' }));
      return { keys: [] };
    case 'delete':
      await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
      return { keys: [] };
    default: {
      const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
      const keys = (out.AccessKeyMetadata ?? []).map((k) => k.AccessKeyId ?? '');
      logger.info('listed keys', { userName, count: keys.length });
      return { keys };
    }
  }
}

export const handler = middy(run).use(injectLambdaContext(logger));

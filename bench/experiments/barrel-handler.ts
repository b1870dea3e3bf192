/**
 * Bundle-size experiment: an IAM Lambda that imports its step from a module that also holds
 * the PGP step (rotation-barrel.ts), as keyrotate's handlers import from lambdas/core/rotation.
 * openpgp is never called here, yet a bundler must keep it unless told that loading openpgp
 * has no side effects this Lambda needs (the openpgp alias of infra/slim-bundling.ts).
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { listKeyIds } from './rotation-barrel';

const logger = new Logger({ serviceName: 'keyrotate-bench' });
const iam = new IAMClient({});

async function run(event: { readonly userName: string }): Promise<{ keys: string[] }> {
  const keys = await listKeyIds(iam, event.userName);
  logger.info('listed keys', { userName: event.userName, count: keys.length });
  return { keys };
}

export const handler = middy(run).use(injectLambdaContext(logger));

/**
 * Floor experiment: middy and Powertools Logger with injectLambdaContext, and no AWS call. What
 * the required handler scaffolding costs at cold start on its own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';

const logger = new Logger({ serviceName: 'keyrotate-bench' });

export const handler = middy(async (event: { readonly userName: string }) => {
  logger.info('handled', { userName: event.userName });
  return { keys: [] as string[] };
}).use(injectLambdaContext(logger));

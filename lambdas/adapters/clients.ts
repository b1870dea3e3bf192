/**
 * AWS SDK clients, created once per Lambda container (module scope, on first use) so warm
 * invocations reuse their connections.
 *
 * Default configuration otherwise: region from AWS_REGION, credentials from the Lambda role, and
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` redirect every client (the local runtime
 * relies on this). Created lazily, so a test or the local engine can set those variables before
 * the first call rather than before the import.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Settings shared by every client. The SDK's standard retry mode (exponential backoff with
 * jitter) absorbs short throttling bursts within one invocation; the state machine retries
 * TransientAwsError further, so a few attempts are enough. AWS_MAX_ATTEMPTS / AWS_RETRY_MODE,
 * when set, win. Timeouts turn a hung connection into a TimeoutError (transient) instead of a
 * Lambda timeout.
 */
export function sdkClientConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...(env.AWS_RETRY_MODE ? {} : { retryMode: 'standard' }),
    ...(env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 3 }),
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
  };
}

function lazily<T>(create: () => T): () => T {
  let client: T | undefined;
  return () => (client ??= create());
}

// Marked pure so a bundler drops the clients (and SDK packages) a Lambda never uses.
export const iamClient = /* @__PURE__ */ lazily(() => new IAMClient(sdkClientConfig()));
export const secretsManagerClient = /* @__PURE__ */ lazily(() => new SecretsManagerClient(sdkClientConfig()));
export const kmsClient = /* @__PURE__ */ lazily(() => new KMSClient(sdkClientConfig()));
export const dynamoDbClient = /* @__PURE__ */ lazily(() => new DynamoDBClient(sdkClientConfig()));

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
 * Settings shared by every client. The SDK's adaptive retry mode (exponential backoff with
 * jitter, plus a client-side rate limiter that slows down once the service throttles) absorbs
 * throttling within one invocation; measured against the standard mode on a 120-user fleet under
 * an IAM write throttle (npm run bench), it reached 93-95% of the throttle's limit instead of
 * 76-99%, with a third of the state machine retries. The state machine retries
 * TransientAwsError further, so a few attempts are enough. AWS_MAX_ATTEMPTS / AWS_RETRY_MODE,
 * when set, win. Timeouts turn a hung connection into a TimeoutError (transient) instead of a
 * Lambda timeout.
 */
export function sdkClientConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...(env.AWS_RETRY_MODE ? {} : { retryMode: 'adaptive' }),
    ...(env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 3 }),
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
  };
}

/**
 * Settings for a client whose calls must be sent exactly once: no SDK retry, whatever
 * AWS_MAX_ATTEMPTS says (an explicit `maxAttempts` wins over it).
 *
 * The SDK re-sends a call whose answer was lost (connection reset, timeout), but the lost answer
 * may follow a call AWS carried out. Re-sending is harmless for every call keyrotate makes but
 * one, IAM CreateAccessKey:
 * - CreateAccessKey makes a new key each time: a re-send leaves an orphan (a key whose secret
 *   nobody has), or IAM refuses it with LimitExceeded when the user is full. Sent once, a lost
 *   answer fails the step with TransientAwsError; the state machine runs CreateKey again (or
 *   Secrets Manager re-invokes createSecret), which first deletes the keys its snapshot does not
 *   know: its own orphan. A throttled CreateAccessKey is not re-sent by the SDK either; that
 *   retry falls to the state machine too (one such call per rotation).
 * - Safe to re-send: IAM UpdateAccessKey (same status again), DeleteAccessKey (NoSuchEntity is
 *   "already gone"); Secrets Manager PutSecretValue (keyed by ClientRequestToken), and
 *   UpdateSecretVersionStage (a re-send refused because the label already moved is recognised
 *   by reading the labels again); DynamoDB lock PutItem (the condition accepts the same owner) and
 *   DeleteItem (a failed condition is "already released"); KMS Encrypt/Decrypt (no state); reads.
 */
export function sdkClientConfigWithoutRetries(env: NodeJS.ProcessEnv = process.env) {
  return { ...sdkClientConfig(env), maxAttempts: 1 };
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
/** IAM for CreateAccessKey only: sent once (see sdkClientConfigWithoutRetries). */
export const iamClientWithoutRetries = /* @__PURE__ */ lazily(() => new IAMClient(sdkClientConfigWithoutRetries()));

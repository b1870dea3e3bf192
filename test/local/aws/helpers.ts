import type { LocalAws } from '../../../local/aws';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The fake deployment credentials every client uses unless a test signs with an IAM user's key. */
export const ADMIN: Credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * Client configuration for the endpoint: region us-east-1, fake credentials, and one attempt
 * so an error reaches the test as the endpoint sent it (no SDK retry hides it).
 */
export function clientConfig(aws: LocalAws, credentials: Credentials = ADMIN) {
  return { endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await fn();
  } catch (error) {
    return error as Error & { name: string; $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

import type { JsonInput, QueryInput } from './input';

/** The services the endpoint emulates, named as in the SigV4 credential scope. */
export type ServiceName = 'iam' | 'sts' | 'secretsmanager' | 'kms' | 'dynamodb';

export const SERVICE_NAMES: readonly ServiceName[] = ['iam', 'sts', 'secretsmanager', 'kms', 'dynamodb'];

/**
 * Who signed the request. Credentials that are not an access key of one of the endpoint's IAM
 * users stand for the account's administrator (as LocalStack does): that is how the Lambdas'
 * deployment credentials and `AWS_ACCESS_KEY_ID=test` get in. A request signed with an IAM
 * user's key has been verified (signature, status, propagation) before it gets here.
 */
export type Caller =
  | { readonly kind: 'admin'; readonly accessKeyId: string }
  | { readonly kind: 'user'; readonly accessKeyId: string; readonly userName: string };

export interface CallContext {
  readonly caller: Caller;
  /** The region of the request's credential scope. */
  readonly region: string;
  readonly requestId: string;
}

/** An operation of a query protocol service (IAM, STS): returns the `…Result` members. */
export type QueryOperation = (input: QueryInput, ctx: CallContext) => unknown;

/** An operation of a JSON protocol service: returns the response body. */
export type JsonOperation = (input: JsonInput, ctx: CallContext) => unknown;

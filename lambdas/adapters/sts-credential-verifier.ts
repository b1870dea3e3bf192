/**
 * CredentialVerifier over STS GetCallerIdentity, signed with the candidate key itself.
 *
 * A new client per call: its credentials are the candidate key, never the Lambda role's, and
 * nothing about the candidate outlives the call. `maxAttempts: 1` because the caller (the core's
 * propagation loop, then the state machine) owns the retry policy; an SDK retry would only hide
 * attempts from it. Region and endpoint come from the default configuration, so
 * `AWS_REGION` and `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_STS` apply as for every other client.
 */
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { AwsRequestError, KeyNotPropagatedError, VerificationFailedError } from '../core/errors';
import type { CredentialVerifier } from '../core/ports';
import { callAws, hasAwsErrorCode } from './aws-errors';

export class StsCredentialVerifier implements CredentialVerifier {
  /** `config`: shared client settings (timeouts); credentials and attempts are always overridden. */
  constructor(private readonly config: STSClientConfig = {}) {}

  async callerArn(accessKeyId: string, secretAccessKey: string): Promise<string> {
    const operation = 'STS GetCallerIdentity';
    const sts = new STSClient({ ...this.config, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    try {
      const identity = await callAws(
        operation,
        () => sts.send(new GetCallerIdentityCommand({})),
        (error) => {
          // IAM is eventually consistent: a fresh key is unknown to STS for a few seconds.
          if (hasAwsErrorCode(error, 'InvalidClientTokenId')) return new KeyNotPropagatedError(accessKeyId);
          // The key id is known but the secret does not match it: waiting will not help.
          if (hasAwsErrorCode(error, 'SignatureDoesNotMatch')) {
            return new VerificationFailedError(
              `STS rejected the signature made with the secret of access key ${accessKeyId} (SignatureDoesNotMatch)`,
              { cause: error },
            );
          }
          return undefined;
        },
      );
      if (!identity.Arn) throw new AwsRequestError(operation, 'MissingField:Arn');
      return identity.Arn;
    } finally {
      sts.destroy();
    }
  }
}

import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { StsCredentialVerifier } from '../../lambdas/adapters/sts-credential-verifier';
import { KeyNotPropagatedError, TransientAwsError, VerificationFailedError } from '../../lambdas/core/errors';
import { awsError } from './sdk-errors';

const stsMock = mockClient(STSClient);
const USER_ARN = 'arn:aws:iam::111122223333:user/smtp';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

beforeEach(() => stsMock.reset());

describe('StsCredentialVerifier', () => {
  it('signs GetCallerIdentity with the candidate key in a fresh single-attempt client', async () => {
    // Prepare
    const seen: { credentials?: Credentials; maxAttempts?: number; region?: string }[] = [];
    stsMock.on(GetCallerIdentityCommand).callsFake(async (_input, getClient) => {
      const config = (getClient() as STSClient).config;
      seen.push({
        credentials: await (config.credentials as () => Promise<Credentials>)(),
        maxAttempts: await config.maxAttempts(),
        region: await config.region(),
      });
      return { Arn: USER_ARN, Account: '111122223333', UserId: 'AIDA' };
    });
    const verifier = new StsCredentialVerifier({ region: 'eu-west-3' });

    // Act
    const first = await verifier.callerArn('AKIANEW1', 'secret-1');
    const second = await verifier.callerArn('AKIANEW2', 'secret-2');

    // Assess
    expect([first, second]).toEqual([USER_ARN, USER_ARN]);
    expect(seen.map((s) => [s.credentials?.accessKeyId, s.credentials?.secretAccessKey, s.maxAttempts, s.region])).toEqual([
      ['AKIANEW1', 'secret-1', 1, 'eu-west-3'],
      ['AKIANEW2', 'secret-2', 1, 'eu-west-3'],
    ]);
  });

  it('takes the region from AWS_REGION by default', async () => {
    // Prepare
    const previous = process.env.AWS_REGION;
    process.env.AWS_REGION = 'ap-southeast-2';
    let region = '';
    stsMock.on(GetCallerIdentityCommand).callsFake(async (_input, getClient) => {
      region = await (getClient() as STSClient).config.region();
      return { Arn: USER_ARN };
    });

    // Act
    try {
      await new StsCredentialVerifier().callerArn('AKIANEW', 'secret');
    } finally {
      process.env.AWS_REGION = previous;
    }

    // Assess
    expect(region).toBe('ap-southeast-2');
  });

  it('fails with KeyNotPropagatedError (transient) while STS does not know the key', async () => {
    stsMock.on(GetCallerIdentityCommand).rejects(awsError('InvalidClientTokenId', 403));

    const failure = new StsCredentialVerifier({ region: 'eu-west-1' }).callerArn('AKIANEW', 'secret');

    await expect(failure).rejects.toThrow(KeyNotPropagatedError);
    await expect(failure).rejects.toMatchObject({ accessKeyId: 'AKIANEW', transient: true });
  });

  it('fails with VerificationFailedError when the signature does not match', async () => {
    stsMock.on(GetCallerIdentityCommand).rejects(awsError('SignatureDoesNotMatch', 403));

    const error = (await new StsCredentialVerifier({ region: 'eu-west-1' })
      .callerArn('AKIANEW', 'the-secret-value')
      .catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(VerificationFailedError);
    expect(error.message).toContain('AKIANEW');
    expect(error.message).not.toContain('the-secret-value');
  });

  it('maps throttling to TransientAwsError', async () => {
    stsMock.on(GetCallerIdentityCommand).rejects(awsError('Throttling'));

    await expect(new StsCredentialVerifier({ region: 'eu-west-1' }).callerArn('AKIANEW', 's')).rejects.toThrow(TransientAwsError);
  });
});

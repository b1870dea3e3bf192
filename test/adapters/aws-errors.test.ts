import { NoSuchEntityException } from '@aws-sdk/client-iam';
import { awsErrorCode, callAws, hasAwsErrorCode, toKeyRotateError } from '../../lambdas/adapters/aws-errors';
import {
  AccessDeniedError,
  AwsRequestError,
  TransientAwsError,
  UserNotFoundError,
} from '../../lambdas/core/errors';
import { awsError, socketError } from './sdk-errors';

describe('toKeyRotateError', () => {
  it.each([
    'Throttling',
    'ThrottlingException',
    'TooManyRequestsException',
    'RequestLimitExceeded',
    'ProvisionedThroughputExceededException',
  ])('maps throttling code %s to TransientAwsError', (code) => {
    // Prepare
    const error = awsError(code);

    // Act
    const mapped = toKeyRotateError('IAM ListAccessKeys', error);

    // Assess
    expect(mapped).toBeInstanceOf(TransientAwsError);
    expect(mapped.name).toBe('TransientAwsError');
    expect(mapped.message).toBe(`IAM ListAccessKeys failed transiently (${code}); retry later`);
    expect(mapped.cause).toBe(error);
  });

  it.each([500, 502, 503, 504])('maps HTTP %d to TransientAwsError', (status) => {
    const mapped = toKeyRotateError('KMS Encrypt', awsError('SomethingBroke', status));

    expect(mapped).toBeInstanceOf(TransientAwsError);
  });

  it('maps HTTP 429 without a known code to TransientAwsError', () => {
    expect(toKeyRotateError('KMS Encrypt', awsError('Whatever', 429))).toBeInstanceOf(TransientAwsError);
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'])('maps socket error %s to TransientAwsError', (code) => {
    const mapped = toKeyRotateError('DynamoDB PutItem', socketError(code));

    expect(mapped).toBeInstanceOf(TransientAwsError);
    expect(mapped.message).toContain(code);
  });

  it('maps a socket hang up (no code) and an SDK TimeoutError to TransientAwsError', () => {
    const hangUp = new Error('socket hang up');
    const timeout = Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });

    expect(toKeyRotateError('IAM GetUser', hangUp)).toBeInstanceOf(TransientAwsError);
    expect(toKeyRotateError('IAM GetUser', timeout)).toBeInstanceOf(TransientAwsError);
  });

  it.each(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation'])('maps %s to AccessDeniedError', (code) => {
    const mapped = toKeyRotateError('IAM CreateAccessKey', awsError(code, 403));

    expect(mapped).toBeInstanceOf(AccessDeniedError);
    expect(mapped.message).toContain('IAM CreateAccessKey was denied');
  });

  it("does not treat IAM's LimitExceeded (two-key quota) as throttling", () => {
    const mapped = toKeyRotateError('IAM CreateAccessKey', awsError('LimitExceededException', 409));

    expect(mapped).toBeInstanceOf(AwsRequestError);
    expect(mapped.message).toBe('IAM CreateAccessKey failed (LimitExceededException)');
  });

  it('never copies the SDK message, which may echo request parameters', () => {
    // Prepare
    const echoed = awsError('ValidationException', 400, 'Value SENTINEL at secretString failed');

    // Act
    const mapped = toKeyRotateError('SecretsManager PutSecretValue', echoed);

    // Assess
    expect(mapped.message).toBe('SecretsManager PutSecretValue failed (ValidationException)');
    expect(mapped.message).not.toContain('SENTINEL');
  });

  it('passes KeyRotateErrors through unchanged', () => {
    const typed = new UserNotFoundError('alice');

    expect(toKeyRotateError('IAM GetUser', typed)).toBe(typed);
  });

  it('names a value without a usable code UnknownError', () => {
    expect(toKeyRotateError('IAM GetUser', 'boom').message).toBe('IAM GetUser failed (UnknownError)');
    expect(awsErrorCode(Object.assign(new Error('x'), { name: 'not a code!' }))).toBe('UnknownError');
  });
});

describe('hasAwsErrorCode', () => {
  it('matches the wire code and the modelled class name alike', () => {
    const modelled = new NoSuchEntityException({ message: 'no user', $metadata: {} });

    expect(hasAwsErrorCode(modelled, 'NoSuchEntity')).toBe(true);
    expect(hasAwsErrorCode(awsError('NoSuchEntity', 404), 'NoSuchEntity')).toBe(true);
    expect(hasAwsErrorCode(awsError('EntityAlreadyExists', 409), 'NoSuchEntity')).toBe(false);
  });
});

describe('callAws', () => {
  it('prefers the expected-code mapping, then falls back to the generic one', async () => {
    const expected = (error: unknown) => (hasAwsErrorCode(error, 'NoSuchEntity') ? new UserNotFoundError('bob') : undefined);

    await expect(callAws('IAM GetUser', () => Promise.reject(awsError('NoSuchEntity', 404)), expected)).rejects.toThrow(
      UserNotFoundError,
    );
    await expect(callAws('IAM GetUser', () => Promise.reject(awsError('Throttling')), expected)).rejects.toThrow(
      TransientAwsError,
    );
    await expect(callAws('IAM GetUser', () => Promise.resolve(42), expected)).resolves.toBe(42);
  });
});

import {
  iamClient,
  iamClientWithoutRetries,
  kmsClient,
  sdkClientConfig,
  sdkClientConfigWithoutRetries,
} from '../../lambdas/adapters/clients';

// Clients are created lazily: the first call below sees this environment.
delete process.env.AWS_MAX_ATTEMPTS;

describe('clients', () => {
  it('creates each client once per container', () => {
    expect(iamClient()).toBe(iamClient());
    expect(kmsClient()).toBe(kmsClient());
  });

  it('uses adaptive retries with 3 attempts and request timeouts, unless AWS_* settings say otherwise', () => {
    expect(sdkClientConfig({})).toEqual({
      retryMode: 'adaptive',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
    });
    expect(sdkClientConfig({ AWS_MAX_ATTEMPTS: '5', AWS_RETRY_MODE: 'adaptive' })).toEqual({
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
    });
  });

  it('gives the created clients that configuration', async () => {
    const client = kmsClient();

    expect(await client.config.maxAttempts()).toBe(3);
  });

  it('sends CreateAccessKey once: one attempt, even when AWS_MAX_ATTEMPTS asks for more', async () => {
    // Prepare
    process.env.AWS_MAX_ATTEMPTS = '5';

    // Act
    const client = iamClientWithoutRetries();
    const maxAttempts = await client.config.maxAttempts();
    delete process.env.AWS_MAX_ATTEMPTS;

    // Assess
    expect(maxAttempts).toBe(1);
    expect(client).not.toBe(iamClient());
    expect(iamClientWithoutRetries()).toBe(client);
    expect(sdkClientConfigWithoutRetries({ AWS_MAX_ATTEMPTS: '5' })).toEqual({ ...sdkClientConfig({ AWS_MAX_ATTEMPTS: '5' }), maxAttempts: 1 });
  });
});

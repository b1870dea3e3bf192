import {
  CredentialsProviderError,
  credentialsTreatedAsExpired,
  credentialsWillNeedRefresh,
  defaultProvider,
  readEnvironmentCredentials,
} from '../../infra/shims/credential-provider-env-only';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
});

describe('readEnvironmentCredentials', () => {
  it('reads what the Lambda runtime exports', () => {
    // Prepare
    const env = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: 'token', AWS_ACCOUNT_ID: '123456789012' };
    // Act
    const credentials = readEnvironmentCredentials(env);
    // Assess
    expect(credentials).toEqual({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET, sessionToken: 'token', accountId: '123456789012' });
  });

  it('turns AWS_CREDENTIAL_EXPIRATION into a date', () => {
    const credentials = readEnvironmentCredentials({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z' });
    expect(credentials.expiration).toEqual(new Date('2030-01-01T00:00:00Z'));
  });

  it('fails with the SDK error name, naming the variables and never a value', () => {
    // Prepare: the secret is set, the key id is not.
    const env = { AWS_SECRET_ACCESS_KEY: SECRET };
    // Act
    let caught: unknown;
    try {
      readEnvironmentCredentials(env);
    } catch (error) {
      caught = error;
    }
    // Assess
    expect(caught).toBeInstanceOf(CredentialsProviderError);
    expect((caught as Error).name).toBe('CredentialsProviderError');
    expect((caught as Error).message).toContain('AWS_ACCESS_KEY_ID');
    expect((caught as Error).message).not.toContain(SECRET);
  });
});

describe('defaultProvider', () => {
  it('resolves the environment credentials and reuses them for later calls', async () => {
    // Prepare
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFIRST';
    process.env.AWS_SECRET_ACCESS_KEY = SECRET;
    const provider = defaultProvider({});
    // Act
    const first = await provider();
    process.env.AWS_ACCESS_KEY_ID = 'AKIASECOND';
    const second = await provider();
    // Assess: memoised, as the SDK's chain is (no expiration, so nothing to refresh).
    expect(first.accessKeyId).toBe('AKIAFIRST');
    expect(second).toBe(first);
  });

  it('re-reads the environment when asked to refresh', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFIRST';
    process.env.AWS_SECRET_ACCESS_KEY = SECRET;
    const provider = defaultProvider();
    await provider();
    process.env.AWS_ACCESS_KEY_ID = 'AKIASECOND';
    expect((await provider({ forceRefresh: true })).accessKeyId).toBe('AKIASECOND');
  });

  it('re-reads credentials that expire within five minutes', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFIRST';
    process.env.AWS_SECRET_ACCESS_KEY = SECRET;
    process.env.AWS_CREDENTIAL_EXPIRATION = new Date(Date.now() + 60_000).toISOString();
    const provider = defaultProvider();
    await provider();
    process.env.AWS_ACCESS_KEY_ID = 'AKIASECOND';
    expect((await provider()).accessKeyId).toBe('AKIASECOND');
  });

  it('rejects when the environment has no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(defaultProvider()()).rejects.toThrow(CredentialsProviderError);
  });
});

describe('expiry helpers', () => {
  it('say credentials without expiration never need a refresh', () => {
    expect(credentialsWillNeedRefresh({})).toBe(false);
    expect(credentialsTreatedAsExpired({})).toBe(false);
  });

  it('treat credentials as expired five minutes early', () => {
    expect(credentialsTreatedAsExpired({ expiration: new Date(Date.now() + 4 * 60_000) })).toBe(true);
    expect(credentialsTreatedAsExpired({ expiration: new Date(Date.now() + 6 * 60_000) })).toBe(false);
    expect(credentialsWillNeedRefresh({ expiration: new Date(Date.now() + 6 * 60_000) })).toBe(true);
  });
});

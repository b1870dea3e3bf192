/**
 * Stand-in for `@aws-sdk/credential-provider-node` in keyrotate's Lambda bundles (wired by the
 * esbuild alias in infra/slim-bundling.ts).
 *
 * Why: every AWS SDK v3 client's Node runtime config imports the default credential chain,
 * which drags SSO, shared-ini, credential_process, web identity, the login flow, container and
 * EC2 metadata providers and the nested STS/SSO/SSO-OIDC clients into the bundle (~60 KB of
 * nested clients alone). On Lambda the runtime always hands the function role's credentials
 * to the process as environment variables, so the chain's first link is the only one that can
 * ever succeed there. Replacing the chain by that link keeps behaviour on Lambda identical and
 * removes the rest from every bundle.
 *
 * Anything that runs these bundles outside Lambda (the local engine) must therefore set
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN when it has one). The
 * unbundled code (jest, the CLI) keeps the SDK's full default chain.
 *
 * The exports mirror the module it replaces (`defaultProvider`, `credentialsWillNeedRefresh`,
 * `credentialsTreatedAsExpired`), because the SDK imports them by name.
 */

interface EnvCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
  readonly accountId?: string;
}

/**
 * Same name as the SDK's error, so code that classifies SDK errors by `name` sees no
 * difference. The message names the variables only, never a value.
 */
export class CredentialsProviderError extends Error {
  readonly tryNextLink = false;

  constructor(message: string) {
    super(message);
    this.name = 'CredentialsProviderError';
  }
}

/** Credentials that expire within five minutes are re-read, as the SDK's chain does. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export function credentialsWillNeedRefresh(credentials: { expiration?: Date }): boolean {
  return credentials.expiration !== undefined;
}

export function credentialsTreatedAsExpired(credentials: { expiration?: Date }): boolean {
  return credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < REFRESH_MARGIN_MS;
}

/** Reads the credentials the Lambda runtime exports; throws when they are missing. */
export function readEnvironmentCredentials(env: NodeJS.ProcessEnv = process.env): EnvCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new CredentialsProviderError(
      'keyrotate Lambda bundles read AWS credentials from the environment only: ' +
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (the Lambda runtime sets them)',
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  const expiry = env.AWS_CREDENTIAL_EXPIRATION;
  const accountId = env.AWS_ACCOUNT_ID;
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
    ...(expiry ? { expiration: new Date(expiry) } : {}),
    ...(accountId ? { accountId } : {}),
  };
}

/**
 * The SDK calls `defaultProvider(config)` once per client and then the returned provider per
 * request. The result is memoised (one object per client, as the real chain does) and
 * re-read only when it carries an expiration that is near.
 */
export function defaultProvider(_init?: unknown): (options?: { forceRefresh?: boolean }) => Promise<EnvCredentials> {
  let cached: EnvCredentials | undefined;
  return async (options) => {
    if (cached === undefined || options?.forceRefresh === true || credentialsTreatedAsExpired(cached)) {
      cached = readEnvironmentCredentials();
    }
    return cached;
  };
}

/**
 * Shared set-up for the whole-rotation tests: one local stack configuration (so every file
 * reuses the same cached synthesis), users with keys on the embedded endpoint, and the checks
 * every test needs (a key works for a signed STS call, nothing secret leaked).
 */
import { GetSecretValueCommand, CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import type { StoredSecretValue } from '../../lambdas/core/types';
import type { LocalAws } from '../../local/aws';
import type { ExecutionResult } from '../../local/engine/events';
import { type EngineStackConfig, LocalRotationEngine } from '../../local/engine/rotation-engine';

/** The local stack of every integration test file: identical, so synthesized once and cached. */
export const STACK: EngineStackConfig = {
  scope: { pathPrefix: '/rotated/' },
  users: [{ userName: 'scheduled', delivery: { secretName: 'scheduled/credentials' }, schedule: 'rate(30 days)', sesSmtpRegions: ['eu-west-1'] }],
  secretRotations: [{ secretName: 'rotated/credentials', userName: 'sm-user' }],
  defaultSesSmtpRegions: ['eu-west-1'],
  // One VerifyNewKey invocation retries STS for 1 s, then the state machine retries it: a
  // propagation delay of a few seconds exercises both levels quickly.
  verifyWindowSeconds: 1,
};

export const IN_SCOPE = '/rotated/';

export async function startEngine(options: { retryIntervalMs?: number; cacheDirectory?: string } = {}): Promise<LocalRotationEngine> {
  return LocalRotationEngine.start({
    endpoint: 'embedded',
    ...(options.cacheDirectory ? { cacheDirectory: options.cacheDirectory } : {}),
    stack: STACK,
    waits: { allMs: 0 },
    retryIntervalMs: options.retryIntervalMs ?? 50,
  });
}

export function localAwsOf(engine: LocalRotationEngine): LocalAws {
  if (!engine.localAws) throw new Error('the integration tests run on the embedded endpoint');
  return engine.localAws;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** STS GetCallerIdentity signed with `credentials` (what VerifyNewKey does): the caller ARN. */
export async function callerArn(engine: LocalRotationEngine, credentials: Credentials): Promise<string> {
  const sts = new STSClient({ endpoint: engine.endpoint, region: engine.region, credentials, maxAttempts: 1 });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '';
  } finally {
    sts.destroy();
  }
}

/** A user in scope with one Active key that has been used (so it has a last-used date). */
export async function userWithUsedKey(engine: LocalRotationEngine, userName: string, path = IN_SCOPE): Promise<Credentials> {
  const aws = localAwsOf(engine);
  aws.iam.createUser(userName, { path });
  const key = aws.iam.createAccessKey(userName);
  await callerArn(engine, key);
  return key;
}

export async function setKeyStatus(engine: LocalRotationEngine, userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void> {
  const iam = new IAMClient({ ...engine.sdkConfig, region: engine.region });
  try {
    await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }));
  } finally {
    iam.destroy();
  }
}

export async function createSecret(engine: LocalRotationEngine, name: string, value?: string): Promise<string> {
  const sm = new SecretsManagerClient(engine.sdkConfig);
  try {
    return (await sm.send(new CreateSecretCommand({ Name: name, ...(value !== undefined ? { SecretString: value } : {}) }))).ARN ?? '';
  } finally {
    sm.destroy();
  }
}

/** The AWSCURRENT value of a secret, read through the API as a consumer would. */
export async function currentSecret(engine: LocalRotationEngine, secretId: string): Promise<StoredSecretValue> {
  const sm = new SecretsManagerClient(engine.sdkConfig);
  try {
    const answer = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    return JSON.parse(answer.SecretString ?? '{}') as StoredSecretValue;
  } finally {
    sm.destroy();
  }
}

/** Key ids and statuses of a user, sorted by id (for exact comparisons). */
export function keysOf(engine: LocalRotationEngine, userName: string): { id: string; status: string }[] {
  return localAwsOf(engine)
    .iam.listAccessKeys(userName)
    .map((k) => ({ id: k.accessKeyId, status: k.status }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export function succeeded(result: ExecutionResult): Record<string, unknown> {
  if (result.status !== 'SUCCEEDED') {
    const detail = result.status === 'FAILED' ? `${result.error}: ${result.cause}` : result.status;
    throw new Error(`expected the rotation to succeed, it ended ${detail}`);
  }
  return result.output as Record<string, unknown>;
}

/**
 * Guarantee "no plaintext secrets" for a whole test file: no secret value seen during the tests appears in
 * any Lambda log line, execution history (state inputs and outputs) or execution output.
 */
export function expectNoLeak(engine: LocalRotationEngine, texts: readonly string[], secrets: ReadonlySet<string>): void {
  const haystacks = [engine.logs.text(), ...texts];
  const leaked = [...secrets].filter((secret) => secret.length >= 16 && haystacks.some((h) => h.includes(secret)));
  expect(leaked).toEqual([]);
  // The scan looked at something real: the Lambdas did log.
  expect(engine.logs.structured().length).toBeGreaterThan(0);
}

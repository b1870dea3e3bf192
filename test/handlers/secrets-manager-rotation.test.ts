import { lambdaContext } from './lambda-env';
import type { StoredSecretValue } from '../../lambdas/core/types';
import { handler } from '../../lambdas/handlers/secrets-manager-rotation';
import { captureOutput, type Captured } from './capture';
import { type FakeKey, FakeAws } from './fake-aws';
import { throttled } from './steps';

const TOKEN = 'c9a2b1e4-7f0d-4b6a-9c55-1d2e3f4a5b6c';
const SECRET = 'smtp-secret';
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

let aws: FakeAws;
let output: Captured;
let old: FakeKey;

function event(Step: string, token = TOKEN) {
  return { Step, SecretId: aws.secret(SECRET).arn, ClientRequestToken: token, RotationToken: 'rotation-token' };
}

function fullValue(key: FakeKey): string {
  return JSON.stringify({
    userName: 'smtp',
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    sesSmtpPasswords: {},
    createDate: key.createDate.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
}

function valueOf(stage: string): StoredSecretValue {
  return JSON.parse(aws.stageOf(SECRET, stage)?.value ?? '{}') as StoredSecretValue;
}

function outcomes(): unknown[] {
  return output
    .logLines()
    .filter((l) => l.message === 'SecretsManagerRotation succeeded')
    .map((l) => (l.rotation as { outcome?: unknown } | undefined)?.outcome);
}

beforeEach(() => {
  aws = new FakeAws();
  aws.addUser('smtp', { path: '/service/' });
  old = aws.addKey('smtp');
  output = captureOutput();
});

afterEach(() => output.restore());

describe('Secrets Manager rotation handler', () => {
  it('runs the four steps: new key stored, tested, made current, old key deactivated', async () => {
    // Prepare
    aws.addSecret(SECRET, fullValue(old));
    const previousVersion = aws.stageOf(SECRET, 'AWSCURRENT')?.versionId;
    aws.startSecretRotation(SECRET, TOKEN);

    // Act
    const results = [];
    for (const step of STEPS) results.push(await handler(event(step), lambdaContext()));

    // Assess
    expect(results).toEqual([undefined, undefined, undefined, undefined]);
    const current = valueOf('AWSCURRENT');
    const newKey = aws.user('smtp').keys.find((k) => k.accessKeyId !== old.accessKeyId);
    expect(aws.stageOf(SECRET, 'AWSCURRENT')?.versionId).toBe(TOKEN);
    expect(aws.stageOf(SECRET, 'AWSPREVIOUS')?.versionId).toBe(previousVersion);
    expect(current).toMatchObject({ userName: 'smtp', accessKeyId: newKey?.accessKeyId, secretAccessKey: newKey?.secretAccessKey });
    expect(current.sesSmtpPasswords).toEqual({});
    expect(old.status).toBe('Inactive');
    expect(aws.locks.has('smtp')).toBe(false);
    expect(aws.count('GetCallerIdentity')).toBe(1);
    expect(outcomes()).toEqual(['created', 'nothingToSet', 'verified', 'finished']);
  });

  it('names whom to rotate from a seed value, and derives the default SES region’s password', async () => {
    aws.addSecret(SECRET, JSON.stringify({ userName: 'smtp' }));
    aws.startSecretRotation(SECRET, TOKEN);

    for (const step of STEPS) await handler(event(step), lambdaContext());

    expect(valueOf('AWSCURRENT')).toMatchObject({ userName: 'smtp', sesSmtpRegion: 'eu-west-1' });
    expect(old.status).toBe('Inactive');
  });

  it('converges when Secrets Manager re-enters every step', async () => {
    // Prepare
    aws.addSecret(SECRET, fullValue(old));
    aws.startSecretRotation(SECRET, TOKEN);

    // Act
    for (const step of STEPS) {
      await handler(event(step), lambdaContext());
      await handler(event(step), lambdaContext());
    }

    // Assess
    expect(aws.count('CreateAccessKey')).toBe(1);
    expect(aws.count('UpdateAccessKey')).toBe(1);
    expect(aws.keyIds('smtp')).toHaveLength(2);
    expect(aws.stageOf(SECRET, 'AWSCURRENT')?.versionId).toBe(TOKEN);
    expect(outcomes()).toEqual(['created', 'alreadyCreated', 'nothingToSet', 'nothingToSet', 'verified', 'verified', 'finished', 'finished']);
  });

  it('deletes the orphan of a createSecret that crashed before storing, then stores a new key', async () => {
    // Prepare
    aws.addSecret(SECRET, fullValue(old));
    aws.startSecretRotation(SECRET, TOKEN);
    aws.fail('PutSecretValue', throttled());
    await expect(handler(event('createSecret'), lambdaContext())).rejects.toMatchObject({ name: 'TransientAwsError' });
    const orphan = aws.keyIds('smtp').find((id) => id !== old.accessKeyId);

    // Act
    await handler(event('createSecret'), lambdaContext());

    // Assess
    const stored = JSON.parse(aws.secret(SECRET).versions.find((v) => v.versionId === TOKEN)?.value ?? '{}') as StoredSecretValue;
    expect(orphan).toBeDefined();
    expect(aws.keyIds('smtp')).toEqual([old.accessKeyId, stored.accessKeyId]);
    expect(stored.accessKeyId).not.toBe(orphan);
  });

  it('keeps the user’s only key when it was made in the second the rotation started and the secret names only the user', async () => {
    // Prepare: what an integration test does: make the key, store {"userName"}, rotate at once.
    aws.user('smtp').keys.length = 0;
    const only = aws.addKey('smtp', { createDate: new Date() });
    aws.addSecret(SECRET, JSON.stringify({ userName: 'smtp', sesSmtpRegions: [] }));
    aws.startSecretRotation(SECRET, TOKEN);

    // Act
    for (const step of STEPS) await handler(event(step), lambdaContext());

    // Assess
    expect(aws.count('DeleteAccessKey')).toBe(0);
    expect(only.status).toBe('Inactive');
    expect(aws.keyIds('smtp')).toEqual([only.accessKeyId, valueOf('AWSCURRENT').accessKeyId]);
  });

  it('makes room at the two-key limit by deleting the Inactive leftover', async () => {
    const stale = aws.addKey('smtp', { status: 'Inactive' });
    aws.addSecret(SECRET, fullValue(old));
    aws.startSecretRotation(SECRET, TOKEN);

    await handler(event('createSecret'), lambdaContext());

    expect(aws.keyIds('smtp')).not.toContain(stale.accessKeyId);
    expect(aws.keyIds('smtp')).toEqual([old.accessKeyId, valueOf('AWSPENDING').accessKeyId]);
  });

  it('fails with AmbiguousCurrentKeyError at the two-key limit when nothing says which key is current', async () => {
    aws.addKey('smtp');
    aws.addSecret(SECRET, JSON.stringify({ userName: 'smtp' }));
    aws.startSecretRotation(SECRET, TOKEN);

    await expect(handler(event('createSecret'), lambdaContext())).rejects.toMatchObject({ name: 'AmbiguousCurrentKeyError' });
    expect(aws.count('CreateAccessKey')).toBe(0);
    expect(aws.count('DeleteAccessKey')).toBe(0);
    expect(aws.locks.has('smtp')).toBe(false);
  });

  it('runs the test rotation (testSecret only, no version of its own) without creating a key', async () => {
    aws.addSecret(SECRET, fullValue(old));

    const result = await handler(event('testSecret', 'test-rotation-token-0000000000000000'), lambdaContext());

    expect(result).toBeUndefined();
    expect(aws.count('CreateAccessKey')).toBe(0);
    expect(aws.count('PutSecretValue')).toBe(0);
    expect(aws.count('GetCallerIdentity')).toBe(1);
    expect(outcomes()).toEqual(['testRotationVerified']);
  });

  it('runs the test rotation on a seed value without creating or verifying anything', async () => {
    aws.addSecret(SECRET, JSON.stringify({ userName: 'smtp' }));

    await handler(event('testSecret', 'test-rotation-token-0000000000000000'), lambdaContext());

    expect(aws.count('CreateAccessKey')).toBe(0);
    expect(aws.count('GetCallerIdentity')).toBe(0);
    expect(outcomes()).toEqual(['testRotationNothingToVerify']);
  });

  it('fails with RotationInProgressError, creating nothing, while a state machine rotation holds the user', async () => {
    aws.addSecret(SECRET, fullValue(old));
    aws.startSecretRotation(SECRET, TOKEN);
    aws.locks.set('smtp', { userName: 'smtp', owner: 'exec-1', expiresAt: Math.floor(Date.now() / 1000) + 600 });

    await expect(handler(event('createSecret'), lambdaContext())).rejects.toMatchObject({ name: 'RotationInProgressError' });
    expect(aws.count('CreateAccessKey')).toBe(0);
  });

  it('fails with VerificationFailedError in testSecret when the stored secret does not match the key', async () => {
    aws.addSecret(SECRET, fullValue(old));
    aws.startSecretRotation(SECRET, TOKEN);
    await handler(event('createSecret'), lambdaContext());
    const created = aws.user('smtp').keys.find((k) => k.accessKeyId !== old.accessKeyId);
    if (created) created.secretAccessKey = 'rotated-behind-our-back';

    await expect(handler(event('testSecret'), lambdaContext())).rejects.toMatchObject({ name: 'VerificationFailedError' });
  });

  it('fails with ValidationError naming Step for an unknown step, and for a missing ClientRequestToken', async () => {
    aws.addSecret(SECRET, fullValue(old));

    await expect(handler(event('rotateEverything'), lambdaContext())).rejects.toMatchObject({ name: 'ValidationError', field: 'Step' });
    await expect(handler({ Step: 'createSecret', SecretId: SECRET }, lambdaContext())).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'ClientRequestToken',
    });
  });
});

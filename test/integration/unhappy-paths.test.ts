/**
 * Whole rotations that meet trouble, on the local engine and the embedded endpoint: the
 * two-key limit, ambiguity, slow IAM propagation, a failure after CreateKey, users out of
 * scope, bad input, and two rotations of the same user at once.
 */
import { SecretsManagerClient, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import type { LocalRotationEngine } from '../../local/engine/rotation-engine';
import {
  callerArn,
  createSecret,
  currentSecret,
  expectNoLeak,
  keysOf,
  localAwsOf,
  setKeyStatus,
  startEngine,
  succeeded,
  userWithUsedKey,
} from './helpers';

jest.setTimeout(120_000);

describe('whole rotations, unhappy paths', () => {
  let engine: LocalRotationEngine;
  const secrets = new Set<string>();
  const texts: string[] = [];

  beforeAll(async () => {
    engine = await startEngine({ retryIntervalMs: 100 });
  });

  afterAll(async () => {
    await engine?.stop();
  });

  async function run(input: unknown) {
    const result = await engine.run(input);
    texts.push(JSON.stringify(result.execution.history), JSON.stringify(result));
    return result;
  }

  function failed(result: Awaited<ReturnType<typeof run>>): { error: string; cause: string } {
    if (result.status !== 'FAILED') throw new Error(`expected a failed rotation, it ended ${result.status}`);
    return { error: result.error, cause: result.cause };
  }

  function iamWrites(): number {
    const aws = localAwsOf(engine);
    return ['CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey'].reduce((n, op) => n + aws.calls.of('iam', op).length, 0);
  }

  it("reports keyrotate's error class names from the shipped (minified) bundles, so Retry and Catch match them", async () => {
    // Prepare: the Plan function, as bundled by the construct
    const plan = engine.runtime.functionNames.find((name) => name.includes('PlanFunction'));
    const fn = plan === undefined ? undefined : engine.runtime.get(plan);
    if (!fn) throw new Error('the local stack has no Plan function');

    // Act
    const result = await fn.invoke({ input: { userName: 'x' }, rotationId: 'direct-invoke' });

    // Assess: a minifier that renames classes would report e.g. "te" here (esbuild keepNames)
    expect(result.ok).toBe(false);
    expect(result.ok ? null : result.error.errorType).toBe('ValidationError');
  });

  it('purges an Inactive stale key when the user is at the two-key limit, then rotates', async () => {
    // Prepare
    const stale = await userWithUsedKey(engine, 'full');
    const current = localAwsOf(engine).iam.createAccessKey('full');
    secrets.add(stale.secretAccessKey).add(current.secretAccessKey);
    await setKeyStatus(engine, 'full', stale.accessKeyId, 'Inactive');
    await createSecret(engine, 'full/credentials');

    // Act
    const result = await run({ userName: 'full', delivery: { type: 'secretsManager', secretId: 'full/credentials' } });

    // Assess
    const output = succeeded(result);
    expect(result.execution.history.some((e) => e.type === 'StateEntered' && e.stateName === 'PurgeStaleKey')).toBe(true);
    expect(output).toMatchObject({ previousKey: { id: current.accessKeyId, action: 'deleted' } });
    expect(keysOf(engine, 'full')).toEqual([{ id: output.id, status: 'Active' }]);
    const stored = await currentSecret(engine, 'full/credentials');
    secrets.add(stored.secretAccessKey);
    expect(await callerArn(engine, stored)).toMatch(/:user\/rotated\/full$/);
  });

  it('fails with AmbiguousCurrentKeyError for two Active keys and nothing saying which is current, changing nothing', async () => {
    // Prepare
    await userWithUsedKey(engine, 'twoactive');
    localAwsOf(engine).iam.createAccessKey('twoactive');
    await createSecret(engine, 'twoactive/credentials');
    const before = keysOf(engine, 'twoactive');
    const writes = iamWrites();

    // Act
    const result = await run({ userName: 'twoactive', delivery: { type: 'secretsManager', secretId: 'twoactive/credentials' } });

    // Assess
    expect(failed(result).error).toBe('AmbiguousCurrentKeyError');
    expect(keysOf(engine, 'twoactive')).toEqual(before);
    expect(iamWrites()).toBe(writes);
    const sm = new SecretsManagerClient(engine.sdkConfig);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'twoactive/credentials' }));
    sm.destroy();
    expect(versions.Versions ?? []).toEqual([]);
  });

  it('succeeds when IAM propagation outlasts the first verification attempts (state machine retries)', async () => {
    // Prepare
    const old = await userWithUsedKey(engine, 'slowiam');
    secrets.add(old.secretAccessKey);
    await createSecret(engine, 'slowiam/credentials');
    const aws = localAwsOf(engine);
    // Longer than one VerifyNewKey invocation keeps retrying STS (verifyWindow: 1 s).
    aws.setPropagationDelay(2500);

    // Act
    const result = await run({ userName: 'slowiam', delivery: { type: 'secretsManager', secretId: 'slowiam/credentials' } }).finally(() =>
      aws.setPropagationDelay(0),
    );

    // Assess
    const output = succeeded(result);
    const failures = result.execution.history.filter((e) => e.type === 'StateFailed' && e.stateName === 'VerifyNewKey');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.every((e) => e.type === 'StateFailed' && e.error === 'KeyNotPropagatedError')).toBe(true);
    expect(result.execution.history.some((e) => e.type === 'StateRetried' && e.stateName === 'VerifyNewKey')).toBe(true);
    expect(keysOf(engine, 'slowiam')).toEqual([{ id: output.id, status: 'Active' }]);
    const stored = await currentSecret(engine, 'slowiam/credentials');
    secrets.add(stored.secretAccessKey);
    expect(await callerArn(engine, stored)).toMatch(/:user\/rotated\/slowiam$/);
  });

  it('rolls back a failure after CreateKey: only the old key is left, Active, and the user can be rotated again', async () => {
    // Prepare
    const old = await userWithUsedKey(engine, 'rollback');
    secrets.add(old.secretAccessKey);
    await createSecret(engine, 'rollback/credentials');
    const aws = localAwsOf(engine);
    const fault = aws.faults.fail({ service: 'secretsmanager', operation: 'PutSecretValue', code: 'AccessDeniedException', status: 400, message: 'denied by test' });
    const input = { userName: 'rollback', delivery: { type: 'secretsManager', secretId: 'rollback/credentials' } };

    // Act
    const result = await run(input);
    fault.remove();
    const keysAfterRollback = keysOf(engine, 'rollback');
    const oldKeyCaller = await callerArn(engine, old);
    const again = await run(input);

    // Assess
    expect(fault.fired).toBe(1);
    expect(failed(result).error).toBe('AccessDeniedError');
    const entered = result.execution.history.flatMap((e) => (e.type === 'StateEntered' ? [e.stateName] : []));
    expect(entered).toEqual(expect.arrayContaining(['CreateKey', 'StoreSecret', 'RollBack', 'RotationFailed']));
    expect(entered).not.toContain('DeactivateOldKey');
    expect(keysAfterRollback).toEqual([{ id: old.accessKeyId, status: 'Active' }]);
    expect(oldKeyCaller).toMatch(/:user\/rotated\/rollback$/);
    // The rollback released the lock: the next rotation goes through.
    const output = succeeded(again);
    expect(output).toMatchObject({ previousKey: { id: old.accessKeyId, action: 'deleted' } });
    expect(keysOf(engine, 'rollback')).toEqual([{ id: output.id, status: 'Active' }]);
  });

  it('fails with UserOutOfScopeError for a user outside the scope, changing nothing', async () => {
    // Prepare
    await userWithUsedKey(engine, 'outsider', '/');
    const before = keysOf(engine, 'outsider');
    const writes = iamWrites();

    // Act
    const result = await run({ userName: 'outsider', delivery: { type: 'pgp', pgpKey: 'keybase:nobody' } });

    // Assess
    const { error, cause } = failed(result);
    expect(error).toBe('UserOutOfScopeError');
    expect(cause).toContain("IAM user 'outsider'");
    expect(keysOf(engine, 'outsider')).toEqual(before);
    expect(iamWrites()).toBe(writes);
  });

  it.each([
    ['no user', { delivery: { type: 'pgp', pgpKey: 'keybase:alice' } }, 'userName'],
    ['no delivery', { userName: 'baduser' }, 'delivery'],
    ['an unknown delivery type', { userName: 'baduser', delivery: { type: 'email' } }, 'delivery.type'],
    ['a negative grace period', { userName: 'baduser', delivery: { type: 'pgp', pgpKey: 'keybase:alice' }, oldKey: { gracePeriodSeconds: -1 } }, 'oldKey.gracePeriodSeconds'],
    ['a region without SES SMTP', { userName: 'baduser', delivery: { type: 'pgp', pgpKey: 'keybase:alice' }, sesSmtpRegions: ['xx-nowhere-1'] }, 'sesSmtpRegions'],
    ['an unknown field', { userName: 'baduser', delivery: { type: 'pgp', pgpKey: 'keybase:alice' }, gracePeriod: 3 }, 'gracePeriod'],
    ['a temporary key id', { accessKeyId: 'ASIAEXAMPLEEXAMPLE12', delivery: { type: 'pgp', pgpKey: 'keybase:alice' } }, 'accessKeyId'],
  ])('fails with a ValidationError naming the field for %s, changing nothing', async (_label, input, field) => {
    // Prepare
    if (!localAwsOf(engine).iam.getUser('baduser')) await userWithUsedKey(engine, 'baduser');
    const before = keysOf(engine, 'baduser');
    const writes = iamWrites();

    // Act
    const result = await run(input);

    // Assess
    const { error, cause } = failed(result);
    expect(error).toBe('ValidationError');
    expect(cause).toContain(`invalid ${field}`);
    expect(keysOf(engine, 'baduser')).toEqual(before);
    expect(iamWrites()).toBe(writes);
  });

  it('fails a second rotation of a user while the first one runs, changing nothing', async () => {
    // Prepare
    const old = await userWithUsedKey(engine, 'racer');
    secrets.add(old.secretAccessKey);
    await createSecret(engine, 'racer/credentials');
    const input = { userName: 'racer', delivery: { type: 'secretsManager', secretId: 'racer/credentials' } };
    const aws = localAwsOf(engine);
    // Keeps the first rotation in VerifyNewKey (holding the lock) while the second starts.
    aws.setPropagationDelay(1500);
    let second: Promise<Awaited<ReturnType<typeof run>>> | undefined;
    let keysWhenSecondEnded: { id: string; status: string }[] = [];

    // Act
    const first = await engine
      .run(input, {
        onEvent: (event) => {
          if (event.type === 'StateEntered' && event.stateName === 'VerifyNewKey' && !second) {
            second = run(input).then((result) => {
              keysWhenSecondEnded = keysOf(engine, 'racer');
              return result;
            });
          }
        },
      })
      .finally(() => aws.setPropagationDelay(0));
    texts.push(JSON.stringify(first.execution.history));
    const secondResult = await second;

    // Assess
    if (!secondResult) throw new Error('the second rotation never started');
    const { error } = failed(secondResult);
    // Plan takes the lock before it reads the keys: the second rotation meets the first one's
    // lock, fails fast with the typed error, and changes nothing.
    expect(error).toBe('RotationInProgressError');
    expect(secondResult.execution.invocations.map((i) => i.stateName)).toEqual(['Plan']);
    // While the first still ran: its new key and the old one, nothing made by the second.
    expect(keysWhenSecondEnded).toHaveLength(2);
    expect(keysWhenSecondEnded.map((k) => k.id)).toContain(old.accessKeyId);
    const output = succeeded(first);
    expect(keysOf(engine, 'racer')).toEqual([{ id: output.id, status: 'Active' }]);
  });

  it('leaks no secret into Lambda logs, execution history or outputs', () => {
    // Prepare: the tests above filled `secrets` and `texts`

    // Act / Assess
    expect(secrets.size).toBeGreaterThanOrEqual(6);
    expectNoLeak(engine, texts, secrets);
  });
});

import {
  AccessKeyNotFoundError,
  AmbiguousCurrentKeyError,
  KeyStateConflictError,
  RotationInProgressError,
  SecretMismatchError,
  SecretNotFoundError,
  UserNotFoundError,
  UserOutOfScopeError,
  ValidationError,
} from '../../lambdas/core/errors';
import { LOCK_MARGIN_SECONDS, OLD_KEY_USAGE_SLACK_SECONDS, createKey, planRotation } from '../../lambdas/core/rotation';
import { rotateSecretStep } from '../../lambdas/core/secrets-manager-rotation';
import { CONFIG, SECRET, USER, caught, fixture, makePlan, pgpInput, secretsManagerInput } from './fixtures';

describe('planRotation', () => {
  test('plans a Secrets Manager rotation from the secret\'s current key and takes the lock', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const [current] = f.existing;

    // Act
    const plan = await makePlan(f, secretsManagerInput({ oldKey: { gracePeriodSeconds: 600, deletionDelaySeconds: 3600 } }));

    // Assess
    expect(plan).toEqual({
      rotationId: 'rotation-1',
      userName: USER,
      userArn: f.userArn,
      oldAccessKeyId: current?.accessKeyId,
      staleAccessKeyId: null,
      currentKeySource: 'secretsManager',
      snapshot: [current?.accessKeyId],
      delivery: { type: 'secretsManager', secretId: SECRET },
      sesSmtpRegions: ['eu-west-1'],
      newKeyStatus: 'Active',
      oldKey: { action: 'delete', gracePeriodSeconds: 600, deletionDelaySeconds: 3600, requireUnusedSeconds: 0 },
      dryRun: false,
      lockExpiresAt: new Date(f.clock.now().getTime() + (600 + 3600 + LOCK_MARGIN_SECONDS) * 1000).toISOString(),
    });
    expect(await f.lock.holder(USER)).toEqual({ owner: 'rotation-1', expiresAt: new Date(plan.lockExpiresAt) });
    expect(f.log.awsChanges()).toEqual([]);
  });

  test('the lease also covers the wait for the old key to fall silent', async () => {
    // Prepare
    const f = fixture();

    // Act
    const plan = await makePlan(f, secretsManagerInput({ oldKey: { requireUnusedSeconds: 900 } }));

    // Assess
    const lease = (Date.parse(plan.lockExpiresAt) - f.clock.now().getTime()) / 1000;
    expect(lease).toBe(900 + OLD_KEY_USAGE_SLACK_SECONDS + LOCK_MARGIN_SECONDS);
  });

  test('starts from an access key id, as Terraform import does', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const [key] = f.existing;

    // Act
    const plan = await makePlan(f, pgpInput('keybase:alice', { userName: undefined, accessKeyId: key?.accessKeyId }));

    // Assess
    expect(plan.userName).toBe(USER);
    expect(plan.oldAccessKeyId).toBe(key?.accessKeyId);
    expect(plan.currentKeySource).toBe('accessKeyId');
  });

  test('oldAccessKeyId overrides the key the rotation started from', async () => {
    // Prepare
    const f = fixture({ keys: ['Inactive', 'Active'], secret: 'absent' });
    const [inactive, active] = f.existing;

    // Act
    const plan = await makePlan(
      f,
      pgpInput('keybase:alice', { userName: undefined, accessKeyId: inactive?.accessKeyId, oldAccessKeyId: active?.accessKeyId }),
    );

    // Assess
    expect(plan.oldAccessKeyId).toBe(active?.accessKeyId);
    expect(plan.staleAccessKeyId).toBe(inactive?.accessKeyId);
    expect(plan.currentKeySource).toBe('oldAccessKeyId');
  });

  test('with two Active keys the secret tells which is current; the other is a conflict, not a guess', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Active'] });

    // Act
    const error = await caught(() => makePlan(f));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('fails when the secret and oldAccessKeyId disagree, changing nothing', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Inactive'] });
    const [, other] = f.existing;

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput({ oldAccessKeyId: other?.accessKeyId })));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
    expect(error.message).toMatch(/secretsManager says .* oldAccessKeyId says/);
    expect(f.log.awsChanges()).toEqual([]);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('fails on a secret holding someone else\'s user name', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });
    f.secrets.createSecret(SECRET, JSON.stringify({ userName: 'payroll' }));

    // Act
    const error = await caught(() => makePlan(f));

    // Assess
    expect(error).toBeInstanceOf(SecretMismatchError);
    expect(error.message).toMatch(/belongs to IAM user 'payroll'/);
    expect(f.log.awsChanges()).toEqual([]);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('fails on a secret that is not keyrotate\'s JSON, without quoting it', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });
    f.secrets.createSecret(SECRET, 'password=hunter2');

    // Act
    const error = await caught(() => makePlan(f));

    // Assess
    expect(error).toBeInstanceOf(SecretMismatchError);
    expect(error.message).not.toContain('hunter2');
  });

  test('fails when the secret does not exist', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });

    // Act
    const error = await caught(() => makePlan(f));

    // Assess
    expect(error).toBeInstanceOf(SecretNotFoundError);
  });

  test.each([
    ['a seed value', 'seed' as const],
    ['no value at all', 'empty' as const],
  ])('a secret with %s lets the only Active key be the old one', async (_name, secret) => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret });

    // Act
    const plan = await makePlan(f);

    // Assess
    expect(plan.currentKeySource).toBe('onlyActiveKey');
    expect(plan.oldAccessKeyId).toBe(f.existing[0]?.accessKeyId);
  });

  test('a first rotation (no key) plans no old key', async () => {
    // Prepare
    const f = fixture({ keys: [], secret: 'seed' });

    // Act
    const plan = await makePlan(f);

    // Assess
    expect(plan).toMatchObject({ oldAccessKeyId: null, staleAccessKeyId: null, currentKeySource: 'none', snapshot: [] });
  });

  test('fails for a user outside the scope, changing nothing', async () => {
    // Prepare
    const f = fixture();

    // Act
    const error = await caught(() =>
      planRotation(f.deps, { input: secretsManagerInput(), rotationId: 'r' }, { ...CONFIG, scope: { pathPrefix: '/human/' } }),
    );

    // Assess
    expect(error).toBeInstanceOf(UserOutOfScopeError);
    expect(f.log.entries).toEqual([]);
  });

  test('fails for an unknown user and for an unknown access key', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });

    // Act
    const noUser = await caught(() => makePlan(f, pgpInput('keybase:alice', { userName: 'ghost' })));
    const noKey = await caught(() => makePlan(f, pgpInput('keybase:alice', { userName: undefined, accessKeyId: 'AKIAUNKNOWNUNKNOWN00' })));

    // Assess
    expect(noUser).toBeInstanceOf(UserNotFoundError);
    expect(noKey).toBeInstanceOf(AccessKeyNotFoundError);
  });

  test('two Active keys and nothing to tell them apart: ambiguity, no lock', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Active'], secret: 'absent' });

    // Act
    const error = await caught(() => makePlan(f, pgpInput('keybase:alice')));

    // Assess
    expect(error).toBeInstanceOf(AmbiguousCurrentKeyError);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('bad input fails before any AWS call', async () => {
    // Prepare
    const f = fixture();
    for (const op of ['iam:GetUser', 'iam:ListAccessKeys', 'secrets:GetSecretValue', 'lock:acquire', 'lock:holder']) {
      f.faults.inject(op, { error: () => new Error(`${op} must not be called`), times: 10 });
    }

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput({ oldKey: { gracePeriodSecond: 60 } })));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('oldKey.gracePeriodSecond');
    expect(f.log.entries).toEqual([]);
  });

  test.each([[''], ['has space'], ['x'.repeat(129)]])('fails on a bad rotation id %j', async (rotationId) => {
    // Prepare
    const f = fixture();

    // Act
    const error = await caught(() => planRotation(f.deps, { input: secretsManagerInput(), rotationId }, CONFIG));

    // Assess
    expect((error as ValidationError).field).toBe('rotationId');
  });

  test('a second rotation of the same user fails fast and changes nothing', async () => {
    // Prepare
    const f = fixture();
    await makePlan(f, secretsManagerInput(), 'first');
    const changesBefore = [...f.log.entries];

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput(), 'second'));

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(f.log.entries).toEqual(changesBefore);
    expect((await f.lock.holder(USER))?.owner).toBe('first');
  });

  test('a second rotation while the first is mid-flight (old and new key) fails with RotationInProgressError naming it', async () => {
    // Prepare: rotation "first" has created its new key; the user has two Active keys.
    const f = fixture({ keys: ['Active'] });
    const first = await makePlan(f, secretsManagerInput(), 'first');
    await createKey(f.deps, first);
    const changesBefore = [...f.log.entries];

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput(), 'second'));
    const pgp = await caught(() => makePlan(f, pgpInput('keybase:alice'), 'third'));

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(error.message).toContain('rotation first');
    expect(error.message).not.toMatch(/delete it yourself/);
    expect(pgp).toBeInstanceOf(RotationInProgressError);
    expect(f.log.entries).toEqual(changesBefore);
    expect((await f.lock.holder(USER))?.owner).toBe('first');
  });

  test('a state-machine rotation while a Secrets Manager rotation is mid-flight fails with RotationInProgressError', async () => {
    // Prepare: createSecret has made and stored the new key; the user has two Active keys.
    const f = fixture({ keys: ['Active'] });
    const token = '6f2a9f0e-5b7c-4d1e-9a3b-2c4d5e6f7a8b';
    f.secrets.startRotation(SECRET, token);
    await rotateSecretStep(
      f.deps,
      { step: 'createSecret', secretId: SECRET, token },
      { scope: CONFIG.scope, oldKeyAction: 'deactivate', lockSeconds: 3600, verifyDeadlineMs: 1000, defaultSesSmtpRegions: [] },
    );
    const changesBefore = [...f.log.entries];

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput({ oldAccessKeyId: f.existing[0]?.accessKeyId }), 'execution-1'));

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(error.message).toContain(token);
    expect(f.log.entries).toEqual(changesBefore);
  });

  test('the lock is taken before the keys and the secret are read, so the snapshot is taken under it', async () => {
    // Prepare: record the order of the calls Plan makes.
    const f = fixture({ keys: ['Active'] });
    const calls: string[] = [];
    const deps = {
      ...f.deps,
      directory: new Proxy(f.deps.directory, {
        get: (target, name, receiver) => {
          const value: unknown = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.push(`iam:${String(name)}`);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }),
      secrets: { ...f.deps.secrets, getValue: (...args: Parameters<typeof f.secrets.getValue>) => (calls.push('secrets:getValue'), f.secrets.getValue(...args)) },
      lock: { ...f.deps.lock, acquire: (...args: Parameters<typeof f.lock.acquire>) => (calls.push('lock:acquire'), f.lock.acquire(...args)) },
    };

    // Act
    await planRotation(deps, { input: secretsManagerInput(), rotationId: 'rotation-1' }, CONFIG);

    // Assess
    expect(calls).toEqual(['iam:getUser', 'lock:acquire', 'iam:listAccessKeys', 'secrets:getValue']);
  });

  test('a plan that fails after taking the lock lets go of it', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Active'], secret: 'absent' });

    // Act
    const error = await caught(() => makePlan(f, pgpInput('keybase:alice')));

    // Assess
    expect(error).toBeInstanceOf(AmbiguousCurrentKeyError);
    expect(f.log.entries).toEqual([`lock:acquire ${USER} rotation-1`, `lock:release ${USER} rotation-1`]);
    expect(f.log.awsChanges()).toEqual([]);
  });

  test('re-running Plan for the same rotation re-takes its own lock', async () => {
    // Prepare
    const f = fixture();
    const first = await makePlan(f);

    // Act
    const again = await makePlan(f);

    // Assess
    expect(again).toEqual(first);
  });

  test('a dry run takes no lock and reports a held one', async () => {
    // Prepare
    const f = fixture();
    const free = await makePlan(f, secretsManagerInput({ dryRun: true }), 'dry-1');
    await makePlan(f, secretsManagerInput(), 'real');

    // Act
    const busy = await makePlan(f, secretsManagerInput({ dryRun: true }), 'dry-2');

    // Assess
    expect(free.dryRun).toBe(true);
    expect(free.lockHeldBy).toBeNull();
    expect(busy.lockHeldBy).toBe('real');
    expect((await f.lock.holder(USER))?.owner).toBe('real');
  });

  test('a dry run while another rotation is mid-flight takes no lock and fails with RotationInProgressError', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    await createKey(f.deps, await makePlan(f, secretsManagerInput(), 'real'));
    const entries = [...f.log.entries];

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput({ dryRun: true }), 'dry-1'));

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(error.message).toContain('rotation real');
    expect(f.log.entries).toEqual(entries);
    expect((await f.lock.holder(USER))?.owner).toBe('real');
  });

  test('a dry run with a free lock still reports a key-state problem as such', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Active'], secret: 'absent' });

    // Act
    const error = await caught(() => makePlan(f, pgpInput('keybase:alice', { dryRun: true })));

    // Assess
    expect(error).toBeInstanceOf(AmbiguousCurrentKeyError);
    expect(f.log.entries).toEqual([]);
  });

  test('a pgp rotation reads no secret', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });
    f.faults.inject('secrets:GetSecretValue', { error: () => new Error('no secret read expected'), times: 10 });

    // Act
    const plan = await makePlan(f, pgpInput('keybase:alice'));

    // Assess
    expect(plan.delivery).toEqual({ type: 'pgp', pgpKey: 'keybase:alice' });
    expect(plan.currentKeySource).toBe('onlyActiveKey');
  });
});

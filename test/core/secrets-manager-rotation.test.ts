import {
  AmbiguousCurrentKeyError,
  KeyNotPropagatedError,
  RotationInProgressError,
  SecretMismatchError,
  UserOutOfScopeError,
  ValidationError,
} from '../../lambdas/core/errors';
import {
  rotateSecretStep,
  type SecretsManagerRotationConfig,
  type SecretsManagerStep,
} from '../../lambdas/core/secrets-manager-rotation';
import { parseSecretValue } from '../../lambdas/core/secret-value';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import { createKey } from '../../lambdas/core/rotation';
import { SimulatedCrash, START_TIME } from '../helpers/memory-adapters';
import { type Fixture, SECRET, USER, caught, fixture, makePlan, secretsManagerInput } from './fixtures';

const TOKEN = '6f2a9f0e-5b7c-4d1e-9a3b-2c4d5e6f7a8b';
const CONFIG: SecretsManagerRotationConfig = {
  scope: { pathPrefix: '/service/' },
  oldKeyAction: 'deactivate',
  lockSeconds: 3600,
  verifyDeadlineMs: 20_000,
  defaultSesSmtpRegions: ['eu-west-1'],
};

function step(f: Fixture, name: SecretsManagerStep, config: SecretsManagerRotationConfig = CONFIG, token = TOKEN) {
  return rotateSecretStep(f.deps, { step: name, secretId: SECRET, token }, config);
}

async function rotate(f: Fixture, config: SecretsManagerRotationConfig = CONFIG, token = TOKEN) {
  f.secrets.startRotation(SECRET, token);
  const results = [];
  for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) results.push(await step(f, name, config, token));
  return results;
}

function currentValue(f: Fixture) {
  const parsed = parseSecretValue(f.secrets.valueAt(SECRET, 'AWSCURRENT') as string, SECRET);
  if (parsed.kind !== 'full') throw new Error('expected a full value');
  return parsed.value;
}

describe('rotateSecretStep', () => {
  test('the four steps rotate the key: new key current, old key Inactive, lock released', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], propagationDelayMs: 6000 });
    const old = f.existing[0]?.accessKeyId as string;

    // Act
    const results = await rotate(f);

    // Assess
    const value = currentValue(f);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'nothingToSet', 'verified', 'finished']);
    expect(results[3]).toMatchObject({ userName: USER, accessKeyId: value.accessKeyId, previousKey: { id: old, action: 'deactivated' } });
    expect(value.accessKeyId).not.toBe(old);
    expect(value.sesSmtpPasswords).toEqual({}); // the old value had no regions: the rotation keeps that
    expect(f.directory.keysOf(USER)).toEqual([
      { accessKeyId: old, status: 'Inactive' },
      { accessKeyId: value.accessKeyId, status: 'Active' },
    ]);
    expect(f.secrets.stagesOf(SECRET)[TOKEN]).toContain('AWSCURRENT');
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('a seed value gets the default regions, and the old key is deleted when configured', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'seed' });
    const old = f.existing[0]?.accessKeyId as string;

    // Act
    const results = await rotate(f, { ...CONFIG, oldKeyAction: 'delete' });

    // Assess
    const value = currentValue(f);
    const secret = f.directory.lookup(value.accessKeyId)?.secretAccessKey as string;
    expect(value.sesSmtpRegion).toBe('eu-west-1');
    expect(value.sesSmtpPasswordV4).toBe(deriveSmtpPasswordV4(secret, 'eu-west-1'));
    expect(results[3]?.previousKey).toEqual({ id: old, action: 'deleted' });
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([value.accessKeyId]);
  });

  test('a seed may choose its regions; the next rotation keeps them in order', async () => {
    // Prepare
    const f = fixture({ keys: [], secret: 'absent' });
    f.secrets.createSecret(SECRET, JSON.stringify({ userName: USER, sesSmtpRegions: ['us-east-1', 'eu-central-1'] }));
    await rotate(f);

    // Act
    await rotate(f, CONFIG, '7f2a9f0e-5b7c-4d1e-9a3b-2c4d5e6f7a8b');

    // Assess
    const value = currentValue(f);
    expect(value.sesSmtpRegion).toBe('us-east-1');
    expect(Object.keys(value.sesSmtpPasswords)).toEqual(['us-east-1', 'eu-central-1']);
  });

  test('every step run twice converges on the same result', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);

    // Act
    const outcomes: string[] = [];
    for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      outcomes.push((await step(f, name)).outcome, (await step(f, name)).outcome);
    }

    // Assess
    expect(outcomes).toEqual(['created', 'alreadyCreated', 'nothingToSet', 'nothingToSet', 'verified', 'verified', 'finished', 'finished']);
    expect(f.log.awsChanges().filter((c) => c.startsWith('iam:CreateAccessKey'))).toHaveLength(1);
    expect(f.directory.keysOf(USER).map((k) => k.status)).toEqual(['Inactive', 'Active']);
  });

  test('after finishing, a late retry of an earlier step does nothing', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    await rotate(f);
    const changes = f.log.entries.length;

    // Act
    const late = await step(f, 'createSecret');

    // Assess
    expect(late.outcome).toBe('alreadyCurrent');
    expect(f.log.entries).toHaveLength(changes);
  });

  test('createSecret re-entered after a crash past CreateAccessKey deletes the orphan', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);
    f.clock.advanceSeconds(1);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(step(f, 'createSecret')).rejects.toBeInstanceOf(SimulatedCrash);
    const orphan = f.directory.keysOf(USER)[1]?.accessKeyId;
    f.clock.advanceSeconds(5);

    // Act
    const result = await step(f, 'createSecret');

    // Assess
    expect(orphan).toBeDefined();
    expect(result.accessKeyId).not.toBe(orphan);
    expect(f.log.awsChanges()).toContain(`iam:DeleteAccessKey ${USER} ${orphan}`);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([f.existing[0]?.accessKeyId, result.accessKeyId]);
  });

  test('createSecret re-entered after a crash past PutSecretValue returns at once', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);
    f.faults.inject('secrets:PutSecretValue', { when: 'after' });
    await expect(step(f, 'createSecret')).rejects.toBeInstanceOf(SimulatedCrash);
    const keysAfterCrash = f.directory.keysOf(USER);

    // Act
    const result = await step(f, 'createSecret');

    // Assess
    expect(result.outcome).toBe('alreadyCreated');
    expect(f.directory.keysOf(USER)).toEqual(keysAfterCrash);
  });

  test('a key made before this rotation took the user is never taken for its orphan', async () => {
    // Prepare: someone made a second Active key after the placeholder, before createSecret ran.
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);
    f.clock.advanceSeconds(2);
    const foreign = f.directory.addKey(USER, { createDate: f.clock.now() });
    f.clock.advanceSeconds(2);

    // Act
    const error = await caught(() => step(f, 'createSecret'));

    // Assess
    expect(error.name).toBe('KeyStateConflictError');
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toContain(foreign.accessKeyId);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('a seed value and the only key made in the same second as the placeholder: that key is retired, never taken for an orphan', async () => {
    // Prepare: IAM and Secrets Manager keep whole seconds; key, placeholder and lock share 09:00:00.
    const f = fixture({ keys: [], secret: 'seed' });
    const only = f.directory.addKey(USER, { createDate: f.clock.now() });
    f.clock.advance(300);
    f.secrets.startRotation(SECRET, TOKEN);
    f.clock.advance(300);

    // Act
    const results = [];
    for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) results.push(await step(f, name));

    // Assess
    const value = currentValue(f);
    expect(f.log.awsChanges()).not.toContain(`iam:DeleteAccessKey ${USER} ${only.accessKeyId}`);
    expect(results[3]?.previousKey).toEqual({ id: only.accessKeyId, action: 'deactivated' });
    expect(f.directory.keysOf(USER)).toEqual([
      { accessKeyId: only.accessKeyId, status: 'Inactive' },
      { accessKeyId: value.accessKeyId, status: 'Active' },
    ]);
  });

  test('a seed value and the only key made after the placeholder, before createSecret: the key is kept', async () => {
    // Prepare: the user's key is made (by hand) in the second the rotation started, after it.
    const f = fixture({ keys: [], secret: 'seed' });
    f.secrets.startRotation(SECRET, TOKEN);
    f.clock.advance(400);
    const only = f.directory.addKey(USER, { createDate: f.clock.now() });
    f.clock.advance(400);

    // Act
    const result = await step(f, 'createSecret');

    // Assess
    expect(f.log.awsChanges()).toEqual([`iam:CreateAccessKey ${USER} ${result.accessKeyId}`, `secrets:PutSecretValue ${SECRET} ${TOKEN} AWSPENDING`]);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([only.accessKeyId, result.accessKeyId]);
  });

  test('the current key is never an orphan, even made in the lock\'s second and missing from the snapshot', async () => {
    // Prepare: a crash after CreateAccessKey leaves an orphan; then, by hand, a key is made in the
    // same second and the secret pointed at it. The recorded snapshot (no keys) lists neither.
    const f = fixture({ keys: [], secret: 'seed' });
    f.secrets.startRotation(SECRET, TOKEN);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(step(f, 'createSecret')).rejects.toBeInstanceOf(SimulatedCrash);
    const [orphan] = f.directory.keysOf(USER);
    const current = f.directory.addKey(USER, { createDate: f.clock.now() });
    f.secrets.putVersion(
      SECRET,
      JSON.stringify({ userName: USER, accessKeyId: current.accessKeyId, secretAccessKey: current.secretAccessKey, sesSmtpPasswords: {}, createDate: '2026-03-02T09:00:00Z' }),
    );

    // Act
    const result = await step(f, 'createSecret');

    // Assess
    expect(f.log.awsChanges()).toContain(`iam:DeleteAccessKey ${USER} ${orphan?.accessKeyId}`);
    expect(f.log.awsChanges()).not.toContain(`iam:DeleteAccessKey ${USER} ${current.accessKeyId}`);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([current.accessKeyId, result.accessKeyId]);
  });

  test('an orphan made in the very second the lock was taken is still deleted on the retry', async () => {
    // Prepare: no clock movement at all: placeholder, lock, snapshot and orphan share one second.
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(step(f, 'createSecret')).rejects.toBeInstanceOf(SimulatedCrash);
    const orphan = f.directory.keysOf(USER)[1]?.accessKeyId as string;

    // Act
    const result = await step(f, 'createSecret');

    // Assess
    expect(f.log.awsChanges()).toContain(`iam:DeleteAccessKey ${USER} ${orphan}`);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([f.existing[0]?.accessKeyId, result.accessKeyId]);
  });

  test('the lock records the keys createSecret saw, and a retry keeps that first snapshot', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const [current] = f.existing;
    f.secrets.startRotation(SECRET, TOKEN);
    f.clock.advance(250);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(step(f, 'createSecret')).rejects.toBeInstanceOf(SimulatedCrash);
    const afterCrash = await f.lock.holder(USER);
    f.clock.advanceSeconds(3);

    // Act
    await step(f, 'createSecret');

    // Assess
    const expected = { accessKeyIds: [current?.accessKeyId], takenAt: new Date(START_TIME.getTime() + 250) };
    expect(afterCrash?.snapshot).toEqual(expected);
    expect((await f.lock.holder(USER))?.snapshot).toEqual(expected);
  });

  test('a key missing from the snapshot but made in an earlier second is not this rotation\'s orphan', async () => {
    // Prepare: the first attempt crashed after CreateAccessKey; then a key made a second before the
    // snapshot shows up (ListAccessKeys is eventually consistent): it cannot be this rotation's.
    const f = fixture({ keys: [], secret: 'seed' });
    f.secrets.startRotation(SECRET, TOKEN);
    f.clock.advanceSeconds(2);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(step(f, 'createSecret')).rejects.toBeInstanceOf(SimulatedCrash);
    const [orphan] = f.directory.keysOf(USER);
    const late = f.directory.addKey(USER, { createDate: new Date(f.clock.now().getTime() - 1000) });
    f.clock.advanceSeconds(2);

    // Act
    const result = await step(f, 'createSecret');

    // Assess
    expect(f.log.awsChanges()).toContain(`iam:DeleteAccessKey ${USER} ${orphan?.accessKeyId}`);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([late.accessKeyId, result.accessKeyId]);
  });

  test('after the lease ran out the snapshot is gone: the orphan is left and the rotation stops, nothing deleted', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'seed' });
    f.secrets.startRotation(SECRET, TOKEN);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(step(f, 'createSecret')).rejects.toBeInstanceOf(SimulatedCrash);
    const keys = f.directory.keysOf(USER);
    f.clock.advanceSeconds(CONFIG.lockSeconds + 1);

    // Act
    const error = await caught(() => step(f, 'createSecret'));

    // Assess
    expect(error).toBeInstanceOf(AmbiguousCurrentKeyError);
    expect(f.directory.keysOf(USER)).toEqual(keys);
    expect(f.log.awsChanges().filter((c) => c.startsWith('iam:DeleteAccessKey'))).toEqual([]);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('a state-machine rotation mid-flight (old and new key) makes createSecret fail with RotationInProgressError', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f, secretsManagerInput(), 'execution-1');
    await createKey(f.deps, plan);
    f.secrets.startRotation(SECRET, TOKEN);
    const changes = [...f.log.awsChanges()];

    // Act
    const error = await caught(() => step(f, 'createSecret'));

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(error.message).toContain('execution-1');
    expect(f.log.awsChanges()).toEqual(changes);
    expect((await f.lock.holder(USER))?.owner).toBe('execution-1');
  });

  test('a user at the two-key limit: the stale Inactive key is purged to make room', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Inactive'] });
    const [active, stale] = f.existing;

    // Act
    await rotate(f);

    // Assess
    const value = currentValue(f);
    expect(f.directory.keysOf(USER)).toEqual([
      { accessKeyId: active?.accessKeyId, status: 'Inactive' },
      { accessKeyId: value.accessKeyId, status: 'Active' },
    ]);
    expect(f.log.awsChanges()).toContain(`iam:DeleteAccessKey ${USER} ${stale?.accessKeyId}`);
  });

  test('two Active keys and a seed: ambiguous, nothing changed, no lock left', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Active'], secret: 'seed' });
    f.secrets.startRotation(SECRET, TOKEN);

    // Act
    const error = await caught(() => step(f, 'createSecret'));

    // Assess
    expect(error).toBeInstanceOf(AmbiguousCurrentKeyError);
    expect(f.log.awsChanges()).toEqual([]);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('the test rotation (no pending value) creates no key and verifies the current one', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);

    // Act
    const result = await step(f, 'testSecret');

    // Assess
    expect(result).toMatchObject({ outcome: 'testRotationVerified', accessKeyId: f.existing[0]?.accessKeyId });
    expect(f.log.awsChanges()).toEqual([]);
    expect(f.verifier.calls).toEqual([f.existing[0]?.accessKeyId]);
  });

  test('the test rotation of a seed has nothing to verify and changes nothing', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'seed' });

    // Act
    const result = await step(f, 'testSecret');

    // Assess
    expect(result.outcome).toBe('testRotationNothingToVerify');
    expect(f.log.entries).toEqual([]);
  });

  test('testSecret fails (retryably) while the pending key has not propagated', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], propagationDelayMs: 120_000 });
    f.secrets.startRotation(SECRET, TOKEN);
    await step(f, 'createSecret');

    // Act
    const error = await caught(() => step(f, 'testSecret'));

    // Assess
    expect(error).toBeInstanceOf(KeyNotPropagatedError);
    expect(f.secrets.stagesOf(SECRET)[TOKEN]).toEqual(['AWSPENDING']);
  });

  test('finishSecret re-entered after a crash past the label move still retires the old key', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);
    await step(f, 'createSecret');
    await step(f, 'testSecret');
    f.faults.inject('secrets:UpdateSecretVersionStage', { when: 'after' });
    await expect(step(f, 'finishSecret')).rejects.toBeInstanceOf(SimulatedCrash);

    // Act
    const result = await step(f, 'finishSecret');

    // Assess
    expect(result.previousKey).toEqual({ id: f.existing[0]?.accessKeyId, action: 'deactivated' });
    expect(f.directory.lookup(f.existing[0]?.accessKeyId as string)?.status).toBe('Inactive');
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('a state-machine rotation holding the user makes createSecret fail without a change', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    await f.lock.acquire(USER, 'execution-1', new Date(f.clock.now().getTime() + 600_000));
    f.secrets.startRotation(SECRET, TOKEN);

    // Act
    const error = await caught(() => step(f, 'createSecret'));

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(f.log.awsChanges()).toEqual([]);
  });

  test('a user outside the scope is refused before any change', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, TOKEN);

    // Act
    const error = await caught(() => step(f, 'createSecret', { ...CONFIG, scope: { userNames: ['someone-else'] } }));

    // Assess
    expect(error).toBeInstanceOf(UserOutOfScopeError);
    expect(f.log.entries).toEqual([]);
  });

  test('a secret without any value cannot be rotated (nobody to rotate)', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'empty' });
    f.secrets.startRotation(SECRET, TOKEN);

    // Act
    const error = await caught(() => step(f, 'createSecret'));

    // Assess
    expect(error).toBeInstanceOf(SecretMismatchError);
    expect(error.message).toMatch(/userName/);
  });

  test('fails on an unknown step and on a token without an AWSPENDING version', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });

    // Act
    const badStep = await caught(() => rotateSecretStep(f.deps, { step: 'deleteSecret', secretId: SECRET, token: TOKEN }, CONFIG));
    const noVersion = await caught(() => step(f, 'createSecret'));

    // Assess
    expect((badStep as ValidationError).field).toBe('Step');
    expect(noVersion).toBeInstanceOf(SecretMismatchError);
    expect(f.log.entries).toEqual([]);
  });
});

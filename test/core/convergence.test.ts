/**
 * Convergence after a rotation that did its work but failed at the very end: a lock that could
 * not be released (Bug A), an old key that could not be retired (Bug B), a Secrets Manager
 * finishSecret that stopped after AWSCURRENT moved (Bug C). In-memory account; the state
 * machine's steps are called in its order, failures injected as terminal AWS errors.
 */
import {
  AmbiguousCurrentKeyError,
  AccessDeniedError,
  KeyStateConflictError,
  OldKeyInUseError,
  RotationInProgressError,
} from '../../lambdas/core/errors';
import {
  createKey,
  deriveSmtpPasswords,
  encryptForPgp,
  promoteSecret,
  purgeStaleKey,
  retireOldKey,
  rollBack,
  storeSecret,
  verifyNewKey,
} from '../../lambdas/core/rotation';
import { rotateSecretStep, type SecretsManagerRotationConfig } from '../../lambdas/core/secrets-manager-rotation';
import type { DeliveryResult, NewKeyRef, RotationOutput, RotationPlan } from '../../lambdas/core/types';
import { generateKey } from 'openpgp';
import { START_TIME } from '../helpers/memory-adapters';
import { type Fixture, SECRET, USER, caught, fixture, makePlan, pgpInput, secretsManagerInput } from './fixtures';

let publicKey: string;

beforeAll(async () => {
  // Dated before the in-memory clock's start, or the key would not be valid yet.
  ({ publicKey } = await generateKey({ type: 'curve25519', userIDs: [{ name: 'ops' }], date: new Date(START_TIME.getTime() - 86_400_000), format: 'armored' }));
});

const denied = (operation: string) => () => new AccessDeniedError(`${operation} was denied (AccessDenied)`);

/** The state machine up to (and including) promotion: the new key is delivered and verified. */
async function deliver(f: Fixture, input: Record<string, unknown>, rotationId: string) {
  const plan = await makePlan(f, input, rotationId);
  if (plan.staleAccessKeyId !== null) await purgeStaleKey(f.deps, plan);
  const newKey = await createKey(f.deps, plan);
  const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
  const delivery =
    plan.delivery.type === 'pgp' ? await encryptForPgp(f.deps, plan, newKey, smtp) : await storeSecret(f.deps, plan, newKey, smtp);
  await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });
  if (delivery.type === 'secretsManager') await promoteSecret(f.deps, plan, delivery);
  return { plan, newKey, delivery };
}

/** The rest: DeactivateOldKey, DeleteOldKey. */
async function retire(f: Fixture, r: { plan: RotationPlan; newKey: NewKeyRef; delivery: DeliveryResult }): Promise<RotationOutput> {
  await retireOldKey(f.deps, { step: 'deactivate', ...r });
  return retireOldKey(f.deps, { step: 'finish', ...r });
}

async function rotate(f: Fixture, input: Record<string, unknown>, rotationId: string) {
  const r = await deliver(f, input, rotationId);
  return { ...r, output: await retire(f, r) };
}

/** A rotation whose DeactivateOldKey failed terminally; the state machine then ran ReleaseLock. */
async function failedRetirement(f: Fixture, input: Record<string, unknown> = secretsManagerInput()) {
  const r = await deliver(f, input, 'rotation-1');
  f.faults.inject('iam:UpdateAccessKey', { error: denied('IAM UpdateAccessKey') });
  const error = await caught(() => retireOldKey(f.deps, { step: 'deactivate', ...r }));
  await rollBack(f.deps, { mode: 'release', plan: r.plan });
  return { ...r, error };
}

describe('Bug A: the lock release at the end is best effort, and reported', () => {
  test('a failed release does not fail a finished rotation: the output carries a warning', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const r = await deliver(f, secretsManagerInput(), 'rotation-1');
    await retireOldKey(f.deps, { step: 'deactivate', ...r });
    f.faults.inject('lock:release', { error: denied('DynamoDB DeleteItem') });

    // Act
    const output = await retireOldKey(f.deps, { step: 'finish', ...r });

    // Assess
    expect(output).toMatchObject({ id: r.newKey.accessKeyId, previousKey: { id: f.existing[0]?.accessKeyId, action: 'deleted' } });
    expect(output.warnings).toEqual([expect.stringMatching(/lock of IAM user 'loadbalancer' held by rotation rotation-1 could not be released \(AccessDeniedError: .*\); it frees itself when its lease ends at /)]);
    expect(output.warnings?.[0]).toContain(r.plan.lockExpiresAt);
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: r.newKey.accessKeyId, status: 'Active' }]);
    expect((await f.lock.holder(USER))?.owner).toBe('rotation-1');
  });

  test('a re-run of the finish step releases the lock and has no warning', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const r = await deliver(f, secretsManagerInput(), 'rotation-1');
    await retireOldKey(f.deps, { step: 'deactivate', ...r });
    f.faults.inject('lock:release', { error: denied('DynamoDB DeleteItem') });
    await retireOldKey(f.deps, { step: 'finish', ...r });

    // Act
    const again = await retireOldKey(f.deps, { step: 'finish', ...r });

    // Assess
    expect(again.warnings).toBeUndefined();
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('a clean finish has no warnings field', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });

    // Act
    const { output } = await rotate(f, secretsManagerInput(), 'rotation-1');

    // Assess
    expect(output).not.toHaveProperty('warnings');
  });

  test('an old key that cannot be deleted stays Inactive, is reported, and the next rotation deletes it', async () => {
    // Prepare: a PGP rotation, whose output is the only copy of the encrypted secret
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const old = f.existing[0]?.accessKeyId as string;
    const r = await deliver(f, pgpInput(publicKey), 'rotation-1');
    await retireOldKey(f.deps, { step: 'deactivate', ...r });
    f.faults.inject('iam:DeleteAccessKey', { error: denied('IAM DeleteAccessKey') });

    // Act
    const output = await retireOldKey(f.deps, { step: 'finish', ...r });
    const next = await rotate(f, pgpInput(publicKey), 'rotation-2');

    // Assess
    expect(output).toMatchObject({ encryptedSecret: expect.any(String), previousKey: { id: old, action: 'deactivated' } });
    expect(output.warnings).toEqual([expect.stringMatching(new RegExp(`access key ${old} .* is Inactive but could not be deleted \\(AccessDeniedError`))]);
    expect(await f.lock.holder(USER)).toBeNull();
    expect(next.plan).toMatchObject({ staleAccessKeyId: old, staleKeyReason: 'inactive' });
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: next.output.id, status: 'Active' }]);
  });

  test('a finish that lost its lock leaves the Inactive old key alone and says so', async () => {
    // Prepare: the lease ran out during a long deletion delay and another rotation took the user
    const f = fixture({ keys: ['Active'] });
    const r = await deliver(f, secretsManagerInput({ oldKey: { deletionDelaySeconds: 7200 } }), 'rotation-1');
    await retireOldKey(f.deps, { step: 'deactivate', ...r });
    f.clock.advanceSeconds(7200 + 3601);
    await f.lock.acquire(USER, 'rotation-other', new Date(f.clock.now().getTime() + 3_600_000));
    const before = f.log.awsChanges().length;

    // Act
    const output = await retireOldKey(f.deps, { step: 'finish', ...r });

    // Assess
    expect(output.previousKey).toEqual({ id: f.existing[0]?.accessKeyId, action: 'deactivated' });
    expect(output.warnings).toEqual([expect.stringContaining('RotationLockLostError')]);
    expect(f.log.awsChanges().slice(before)).toEqual([]);
    expect((await f.lock.holder(USER))?.owner).toBe('rotation-other');
  });

  test('RollBack and ReleaseLock report a failed release instead of replacing the rotation error', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);
    f.faults.inject('lock:release', { error: denied('DynamoDB DeleteItem'), times: 2 });

    // Act
    const rolledBack = await rollBack(f.deps, { mode: 'rollback', plan, newKey });
    const released = await rollBack(f.deps, { mode: 'release', plan });

    // Assess
    expect(rolledBack).toMatchObject({ deletedKeys: [newKey.accessKeyId], warnings: [expect.stringContaining('could not be released')] });
    expect(released).toMatchObject({ deletedKeys: [], warnings: [expect.stringContaining('could not be released')] });
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: f.existing[0]?.accessKeyId, status: 'Active' }]);
  });
});

describe('Bug B: an unfinished retirement does not block later rotations', () => {
  test('the next rotation removes the previous key (AWSPREVIOUS) first: deactivated, then deleted', async () => {
    // Prepare: rotation-1 moved AWSCURRENT to its key, then could not deactivate the old one
    const f = fixture({ keys: ['Active'] });
    const previous = f.existing[0]?.accessKeyId as string;
    const failed = await failedRetirement(f);
    const before = f.log.awsChanges().length;

    // Act
    const plan = await makePlan(f, secretsManagerInput(), 'rotation-2');
    await purgeStaleKey(f.deps, plan);
    const purgeChanges = f.log.awsChanges().slice(before);
    const r = await deliver(f, secretsManagerInput(), 'rotation-2');
    const output = await retire(f, r);

    // Assess
    expect(failed.error).toBeInstanceOf(AccessDeniedError);
    expect(plan).toMatchObject({ oldAccessKeyId: failed.newKey.accessKeyId, staleAccessKeyId: previous, staleKeyReason: 'unfinishedRetirement' });
    expect(purgeChanges).toEqual([`iam:UpdateAccessKey ${USER} ${previous} Inactive`, `iam:DeleteAccessKey ${USER} ${previous}`]);
    expect(output.previousKey).toEqual({ id: failed.newKey.accessKeyId, action: 'deleted' });
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: output.id, status: 'Active' }]);
  });

  test('a PurgeStaleKey that crashed between deactivating and deleting finishes on re-run', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const previous = f.existing[0]?.accessKeyId as string;
    await failedRetirement(f);
    const plan = await makePlan(f, secretsManagerInput(), 'rotation-2');
    f.faults.inject('iam:DeleteAccessKey');
    await caught(() => purgeStaleKey(f.deps, plan));

    // Act
    const result = await purgeStaleKey(f.deps, plan);

    // Assess
    expect(result).toEqual({ deleted: previous, result: 'deleted' });
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).not.toContain(previous);
  });

  test('with requireUnusedSeconds, a previous key used within the window stops Plan: OldKeyInUseError, nothing changed', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const previous = f.existing[0]?.accessKeyId as string;
    await failedRetirement(f);
    f.directory.setLastUsed(previous, new Date(f.clock.now().getTime() - 600_000));
    const before = f.log.entries.length;

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput({ oldKey: { requireUnusedSeconds: 3600 } }), 'rotation-2'));

    // Assess
    expect(error).toBeInstanceOf(OldKeyInUseError);
    expect(error.message).toContain(`access key ${previous} of IAM user '${USER}' is the key an earlier rotation replaced, still Active`);
    expect(f.log.entries.slice(before)).toEqual([`lock:acquire ${USER} rotation-2`, `lock:release ${USER} rotation-2`]);
    expect(f.directory.keysOf(USER).every((k) => k.status === 'Active')).toBe(true);
  });

  test('with requireUnusedSeconds, a previous key silent for longer than the window is planned for removal', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const previous = f.existing[0]?.accessKeyId as string;
    await failedRetirement(f);
    f.directory.setLastUsed(previous, new Date(f.clock.now().getTime() - 7_200_000));

    // Act
    const plan = await makePlan(f, secretsManagerInput({ oldKey: { requireUnusedSeconds: 3600 } }), 'rotation-2');

    // Assess
    expect(plan).toMatchObject({ staleAccessKeyId: previous, staleKeyReason: 'unfinishedRetirement' });
  });

  test('a dry run reports the unfinished retirement and changes nothing', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const previous = f.existing[0]?.accessKeyId as string;
    await failedRetirement(f);
    const before = f.log.entries.length;

    // Act
    const plan = await makePlan(f, secretsManagerInput({ dryRun: true }), 'rotation-2');

    // Assess
    expect(plan).toMatchObject({ staleAccessKeyId: previous, staleKeyReason: 'unfinishedRetirement', lockHeldBy: null });
    expect(f.log.entries.slice(before)).toEqual([]);
  });

  test('PGP delivery: the record alone is no evidence (nobody may have received the ciphertext); the error says what happened, and naming the delivered key finishes the retirement', async () => {
    // Prepare: no secret names a key; VerifyNewKey recorded the delivery before the retirement failed
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const previous = f.existing[0]?.accessKeyId as string;
    const failed = await failedRetirement(f, pgpInput(publicKey));
    const before = f.log.awsChanges().length;

    // Act
    const refused = await caught(() => makePlan(f, pgpInput(publicKey), 'rotation-2'));
    const unchanged = f.log.awsChanges().slice(before);
    const plan = await makePlan(f, pgpInput(publicKey, { oldAccessKeyId: failed.newKey.accessKeyId }), 'rotation-3');
    await purgeStaleKey(f.deps, plan);
    const purgeChanges = f.log.awsChanges().slice(before);
    const r = await deliver(f, pgpInput(publicKey, { oldAccessKeyId: failed.newKey.accessKeyId }), 'rotation-3');
    const output = await retire(f, r);

    // Assess
    expect(failed.error).toBeInstanceOf(AccessDeniedError);
    expect(refused).toBeInstanceOf(AmbiguousCurrentKeyError);
    expect(refused.message).toContain(`rotation rotation-1 delivered ${failed.newKey.accessKeyId}`);
    expect(refused.message).toContain(`deactivate ${previous}`);
    expect(unchanged).toEqual([]);
    expect(plan).toMatchObject({
      oldAccessKeyId: failed.newKey.accessKeyId,
      staleAccessKeyId: previous,
      staleKeyReason: 'unfinishedRetirement',
      currentKeySource: 'oldAccessKeyId',
    });
    expect(purgeChanges).toEqual([`iam:UpdateAccessKey ${USER} ${previous} Inactive`, `iam:DeleteAccessKey ${USER} ${previous}`]);
    expect(output.previousKey).toEqual({ id: failed.newKey.accessKeyId, action: 'deleted' });
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: output.id, status: 'Active' }]);
  });

  test('PGP delivery: an input naming the replaced key as current contradicts the record and changes nothing', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const previous = f.existing[0]?.accessKeyId as string;
    const failed = await failedRetirement(f, pgpInput(publicKey));

    // Act
    const agreeing = await makePlan(f, pgpInput(publicKey, { oldAccessKeyId: failed.newKey.accessKeyId, dryRun: true }), 'rotation-2');
    const contradicting = await caught(() => makePlan(f, pgpInput(publicKey, { oldAccessKeyId: previous }), 'rotation-3'));

    // Assess
    expect(agreeing).toMatchObject({ staleAccessKeyId: previous, staleKeyReason: 'unfinishedRetirement', currentKeySource: 'oldAccessKeyId' });
    expect(contradicting).toBeInstanceOf(KeyStateConflictError);
    expect(contradicting.message).toContain(`another Active access key (${failed.newKey.accessKeyId}) beside the current one ${previous}`);
    expect(f.directory.keysOf(USER).every((k) => k.status === 'Active')).toBe(true);
  });

  test('PGP delivery: requireUnusedSeconds applies to the replaced key as to an AWSPREVIOUS one', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const previous = f.existing[0]?.accessKeyId as string;
    const failed = await failedRetirement(f, pgpInput(publicKey));
    f.directory.setLastUsed(previous, new Date(f.clock.now().getTime() - 600_000));

    // Act
    const error = await caught(() =>
      makePlan(f, pgpInput(publicKey, { oldAccessKeyId: failed.newKey.accessKeyId, oldKey: { requireUnusedSeconds: 3600 } }), 'rotation-2'),
    );

    // Assess
    expect(error).toBeInstanceOf(OldKeyInUseError);
    expect(f.directory.keysOf(USER).every((k) => k.status === 'Active')).toBe(true);
  });

  test('without a delivery record (its write failed) two Active keys stay an error naming the keys and what to do', async () => {
    // Prepare: the record is best effort; VerifyNewKey reports the failed write as a warning
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const previous = f.existing[0]?.accessKeyId as string;
    const plan = await makePlan(f, pgpInput(publicKey), 'rotation-1');
    const newKey = await createKey(f.deps, plan);
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
    await encryptForPgp(f.deps, plan, newKey, smtp);
    f.faults.inject('lock:recordDelivery', { error: denied('DynamoDB PutItem') });
    const verification = await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });
    await rollBack(f.deps, { mode: 'release', plan });

    // Act
    const withKey = await caught(() => makePlan(f, pgpInput(publicKey, { oldAccessKeyId: newKey.accessKeyId }), 'rotation-2'));
    const without = await caught(() => makePlan(f, pgpInput(publicKey), 'rotation-3'));

    // Assess
    expect(verification.warnings).toEqual([expect.stringContaining(`delivery record of IAM user '${USER}' (access key ${newKey.accessKeyId} replacing ${previous}) could not be written (AccessDeniedError`)]);
    expect(withKey).toBeInstanceOf(KeyStateConflictError);
    expect(withKey.message).toContain(`another Active access key (${previous}) beside the current one ${newKey.accessKeyId}`);
    expect(withKey.message).toContain('deactivate it (the next rotation then deletes it)');
    expect(without.message).toMatch(/deactivate the one nothing uses any more/);
    expect(f.directory.keysOf(USER).every((k) => k.status === 'Active')).toBe(true);
  });

  test("a secret's first value: PromoteSecret refused after the value became AWSCURRENT → RollBack keeps the key, the next rotation retires the old one", async () => {
    // Prepare: an empty secret; StoreSecret's first version is AWSCURRENT at once (as in AWS)
    const f = fixture({ keys: ['Active'], secret: 'empty' });
    const previous = f.existing[0]?.accessKeyId as string;
    const plan = await makePlan(f, secretsManagerInput(), 'rotation-1');
    const newKey = await createKey(f.deps, plan);
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
    const delivery = await storeSecret(f.deps, plan, newKey, smtp);
    await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });
    f.faults.inject('secrets:UpdateSecretVersionStage', { error: denied('SecretsManager UpdateSecretVersionStage') });
    const promotionError = await caught(() => promoteSecret(f.deps, plan, delivery));
    const rolledBack = await rollBack(f.deps, { mode: 'rollback', plan, newKey, delivery });

    // Act
    const next = await makePlan(f, secretsManagerInput(), 'rotation-2');
    await purgeStaleKey(f.deps, next);
    const r = await deliver(f, secretsManagerInput(), 'rotation-2');
    const output = await retire(f, r);

    // Assess
    expect(promotionError).toBeInstanceOf(AccessDeniedError);
    expect(rolledBack).toEqual({ deletedKeys: [], withdrawnVersion: null });
    expect(next).toMatchObject({ oldAccessKeyId: newKey.accessKeyId, staleAccessKeyId: previous, staleKeyReason: 'unfinishedRetirement', currentKeySource: 'secretsManager' });
    expect(output.previousKey).toEqual({ id: newKey.accessKeyId, action: 'deleted' });
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: output.id, status: 'Active' }]);
  });

  test('Secrets Manager: a record the secret does not back (its value was never promoted) is no evidence', async () => {
    // Prepare: verified and recorded, then promotion and the rollback both failed: AWSCURRENT is still the seed
    const f = fixture({ keys: ['Active'], secret: 'seed' });
    const plan = await makePlan(f, secretsManagerInput(), 'rotation-1');
    const newKey = await createKey(f.deps, plan);
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
    await storeSecret(f.deps, plan, newKey, smtp);
    await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });
    await rollBack(f.deps, { mode: 'release', plan });

    // Act
    const error = await caught(() => makePlan(f, secretsManagerInput(), 'rotation-2'));

    // Assess
    expect((await f.lock.deliveryRecord(USER))?.accessKeyId).toBe(newKey.accessKeyId);
    expect(error.name).toBe('AmbiguousCurrentKeyError');
    expect(f.directory.keysOf(USER).every((k) => k.status === 'Active')).toBe(true);
  });

  test('an operator deactivating the previous key resolves the PGP case', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const previous = f.existing[0]?.accessKeyId as string;
    const failed = await failedRetirement(f, pgpInput(publicKey));
    f.directory.forceStatus(previous, 'Inactive');

    // Act
    const { output } = await rotate(f, pgpInput(publicKey), 'rotation-2');

    // Assess
    expect(output.previousKey).toEqual({ id: failed.newKey.accessKeyId, action: 'deleted' });
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: output.id, status: 'Active' }]);
  });
});

describe('Bug C: a partial finishSecret is completed by the next rotation', () => {
  const T1 = '11111111-1111-4111-8111-111111111111';
  const T2 = '22222222-2222-4222-8222-222222222222';
  const CONFIG: SecretsManagerRotationConfig = {
    scope: { pathPrefix: '/service/' },
    oldKeyAction: 'deactivate',
    lockSeconds: 3600,
    verifyDeadlineMs: 20_000,
    defaultSesSmtpRegions: ['eu-west-1'],
  };
  const step = (f: Fixture, name: string, token: string, config = CONFIG) => rotateSecretStep(f.deps, { step: name, secretId: SECRET, token }, config);

  async function rotateSecret(f: Fixture, token: string, config = CONFIG) {
    f.secrets.startRotation(SECRET, token);
    const results = [];
    for (const name of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) results.push(await step(f, name, token, config));
    return results;
  }

  /** T1 runs until finishSecret, which fails on `operation` after AWSCURRENT moved. */
  async function partialFinish(f: Fixture, operation: string) {
    f.secrets.startRotation(SECRET, T1);
    for (const name of ['createSecret', 'setSecret', 'testSecret']) await step(f, name, T1);
    f.faults.inject(operation, { error: denied(operation) });
    return step(f, 'finishSecret', T1).then(
      (result) => ({ result, error: null }),
      (error: unknown) => ({ result: null, error }),
    );
  }

  test.each(['seed', 'current'] as const)(
    'a failed deactivation (secret value: %s): the next createSecret retires the previous key, takes over the lock, rotates',
    async (secret) => {
      // Prepare
      const f = fixture({ keys: ['Active'], secret });
      const previous = f.existing[0]?.accessKeyId as string;
      const partial = await partialFinish(f, 'iam:UpdateAccessKey');
      const t1Key = (JSON.parse(f.secrets.valueAt(SECRET, 'AWSCURRENT') as string) as { accessKeyId: string }).accessKeyId;

      // Act
      const results = await rotateSecret(f, T2);

      // Assess
      expect(partial.error).toBeInstanceOf(AccessDeniedError);
      expect(results[0]).toMatchObject({ outcome: 'created', predecessor: T1 });
      expect(results[3]).toMatchObject({ outcome: 'finished', previousKey: { id: t1Key, action: 'deactivated' } });
      expect(f.log.awsChanges()).toEqual(
        expect.arrayContaining([`iam:UpdateAccessKey ${USER} ${previous} Inactive`, `iam:DeleteAccessKey ${USER} ${previous}`]),
      );
      const current = JSON.parse(f.secrets.valueAt(SECRET, 'AWSCURRENT') as string) as { accessKeyId: string };
      expect(f.directory.keysOf(USER)).toEqual([
        { accessKeyId: t1Key, status: 'Inactive' },
        { accessKeyId: current.accessKeyId, status: 'Active' },
      ]);
      expect(await f.lock.holder(USER)).toBeNull();
    },
  );

  test('a failed release in finishSecret is a warning; the next createSecret takes the lock over', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const partial = await partialFinish(f, 'lock:release');

    // Act
    const results = await rotateSecret(f, T2);

    // Assess
    expect(partial.result).toMatchObject({ outcome: 'finished', warnings: [expect.stringContaining(`held by rotation ${T1} could not be released`)] });
    expect(results[0]).toMatchObject({ outcome: 'created', predecessor: T1 });
    expect(f.directory.keysOf(USER)).toHaveLength(2);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('once the predecessor\'s lease ran out, AWSPREVIOUS still identifies its previous key (deactivated, then deleted)', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'current' });
    const previous = f.existing[0]?.accessKeyId as string;
    await partialFinish(f, 'iam:UpdateAccessKey');
    f.clock.advanceSeconds(CONFIG.lockSeconds + 1);

    // Act
    const results = await rotateSecret(f, T2);

    // Assess
    expect(results[0]).toMatchObject({ outcome: 'created' });
    expect(results[0]).not.toHaveProperty('predecessor');
    expect(f.log.awsChanges()).toEqual(
      expect.arrayContaining([`iam:UpdateAccessKey ${USER} ${previous} Inactive`, `iam:DeleteAccessKey ${USER} ${previous}`]),
    );
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).not.toContain(previous);
  });

  test("with a seed value and the predecessor's lease run out, finishSecret's delivery record identifies its previous key", async () => {
    // Prepare: a seed value has no AWSPREVIOUS key; finishSecret recorded the delivery before it failed
    const f = fixture({ keys: ['Active'], secret: 'seed' });
    const previous = f.existing[0]?.accessKeyId as string;
    await partialFinish(f, 'iam:UpdateAccessKey');
    const recorded = await f.lock.deliveryRecord(USER);
    f.clock.advanceSeconds(CONFIG.lockSeconds + 1);

    // Act
    const results = await rotateSecret(f, T2);

    // Assess
    expect(recorded).toMatchObject({ replacedAccessKeyId: previous, rotationId: T1 });
    expect(results[0]).toMatchObject({ outcome: 'created' });
    expect(results[0]).not.toHaveProperty('predecessor');
    expect(f.log.awsChanges()).toEqual(
      expect.arrayContaining([`iam:UpdateAccessKey ${USER} ${previous} Inactive`, `iam:DeleteAccessKey ${USER} ${previous}`]),
    );
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).not.toContain(previous);
  });

  test('a failed delivery record write in finishSecret is a warning; the previous key is still retired', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'seed' });
    const previous = f.existing[0]?.accessKeyId as string;

    // Act
    const partial = await partialFinish(f, 'lock:recordDelivery');

    // Assess
    expect(partial.result).toMatchObject({
      outcome: 'finished',
      previousKey: { id: previous, action: 'deactivated' },
      warnings: [expect.stringContaining('delivery record of IAM user')],
    });
    expect(await f.lock.deliveryRecord(USER)).toBeNull();
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('a lock of a rotation that has not promoted yet is not taken over', async () => {
    // Prepare: T1 is between createSecret and finishSecret
    const f = fixture({ keys: ['Active'] });
    f.secrets.startRotation(SECRET, T1);
    await step(f, 'createSecret', T1);
    const keys = f.directory.keysOf(USER);
    f.secrets.startRotation(SECRET, T2);

    // Act
    const error = await caught(() => step(f, 'createSecret', T2));

    // Assess
    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(f.directory.keysOf(USER)).toEqual(keys);
    expect((await f.lock.holder(USER))?.owner).toBe(T1);
  });

  test('completing the predecessor is idempotent: a crash right after retiring converges on retry', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    await partialFinish(f, 'iam:UpdateAccessKey');
    f.secrets.startRotation(SECRET, T2);
    f.faults.inject('lock:release', { when: 'after' });
    await caught(() => step(f, 'createSecret', T2));

    // Act
    const created = await step(f, 'createSecret', T2);

    // Assess
    expect(created).toMatchObject({ outcome: 'created' });
    expect(f.directory.keysOf(USER)).toHaveLength(2);
    expect((await f.lock.holder(USER))?.owner).toBe(T2);
  });
});

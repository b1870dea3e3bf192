import { lambdaContext } from './lambda-env';
import { clientRequestTokenFor } from '../../lambdas/core/tokens';
import type { RotationOutput } from '../../lambdas/core/types';
import { handler as promoteHandler } from '../../lambdas/handlers/promote-secret';
import { handler as retireHandler } from '../../lambdas/handlers/retire-old-key';
import { handler as rollBackHandler } from '../../lambdas/handlers/roll-back';
import { captureOutput, type Captured } from './capture';
import { type FakeKey, FakeAws } from './fake-aws';
import { createKey, delivered, deriveSmtp, plan, storeSecret } from './steps';

let aws: FakeAws;
let output: Captured;
let old: FakeKey;

beforeEach(() => {
  aws = new FakeAws();
  aws.addUser('smtp', { path: '/service/' });
  aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp' }));
  old = aws.addKey('smtp');
  output = captureOutput();
});

afterEach(() => output.restore());

async function promoted() {
  const state = await delivered();
  await promoteHandler({ plan: state.plan, delivery: state.delivery }, lambdaContext());
  return state;
}

describe('RetireOldKey handler', () => {
  it('deactivates the old key, then deletes it and releases the lock (finish)', async () => {
    // Prepare
    const { plan: rotationPlan, newKey, delivery } = await promoted();

    // Act
    const deactivated = await retireHandler({ step: 'deactivate', plan: rotationPlan, newKey, delivery }, lambdaContext());
    const statusAfterDeactivate = aws.user('smtp').keys.find((k) => k.accessKeyId === old.accessKeyId)?.status;
    const output1 = (await retireHandler({ step: 'finish', plan: rotationPlan, newKey, delivery }, lambdaContext())) as RotationOutput;

    // Assess
    expect(deactivated).toEqual({
      oldKey: { accessKeyId: old.accessKeyId, status: 'Inactive' },
      newKey: { accessKeyId: newKey.accessKeyId, status: 'Active' },
    });
    expect(statusAfterDeactivate).toBe('Inactive');
    expect(output1).toEqual({
      id: newKey.accessKeyId,
      userName: 'smtp',
      status: 'Active',
      createDate: newKey.createDate,
      sesSmtpRegions: ['eu-west-1'],
      secretArn: aws.secret('smtp-secret').arn,
      secretVersionId: clientRequestTokenFor('exec-1'),
      previousKey: { id: old.accessKeyId, action: 'deleted' },
      rotationId: 'exec-1',
    });
    expect(aws.keyIds('smtp')).toEqual([newKey.accessKeyId]);
    expect(aws.locks.has('smtp')).toBe(false);
  });

  it('converges when both steps are re-run', async () => {
    const { plan: rotationPlan, newKey, delivery } = await promoted();
    await retireHandler({ step: 'deactivate', plan: rotationPlan, newKey, delivery }, lambdaContext());
    const finished = await retireHandler({ step: 'finish', plan: rotationPlan, newKey, delivery }, lambdaContext());

    await retireHandler({ step: 'deactivate', plan: rotationPlan, newKey, delivery }, lambdaContext());
    const again = await retireHandler({ step: 'finish', plan: rotationPlan, newKey, delivery }, lambdaContext());

    expect(again).toEqual(finished);
    expect(aws.keyIds('smtp')).toEqual([newKey.accessKeyId]);
  });

  it('refuses (KeyStateConflictError) to deactivate the old key before the secret serves the new one', async () => {
    const { plan: rotationPlan, newKey, delivery } = await delivered();

    const failure = retireHandler({ step: 'deactivate', plan: rotationPlan, newKey, delivery }, lambdaContext());

    await expect(failure).rejects.toMatchObject({ name: 'KeyStateConflictError' });
    expect(aws.user('smtp').keys.find((k) => k.accessKeyId === old.accessKeyId)?.status).toBe('Active');
  });

  it('fails with OldKeyRecentlyUsedError (retried) while the old key is still in use', async () => {
    // Prepare
    old.lastUsedDate = new Date();
    const rotationPlan = await plan('exec-1', {
      userName: 'smtp',
      delivery: { type: 'secretsManager', secretId: 'smtp-secret' },
      oldKey: { requireUnusedSeconds: 600 },
    });
    const newKey = await createKey(rotationPlan);
    const { delivery } = await deliverAndPromote(rotationPlan, newKey);

    // Act
    const failure = retireHandler({ step: 'deactivate', plan: rotationPlan, newKey, delivery }, lambdaContext());

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'OldKeyRecentlyUsedError', transient: true });
    expect(old.status).toBe('Active');
  });

  it('fails with ValidationError naming `step` for an unknown step', async () => {
    const { plan: rotationPlan, newKey, delivery } = await promoted();

    const failure = retireHandler({ step: 'explode', plan: rotationPlan, newKey, delivery }, lambdaContext());

    await expect(failure).rejects.toMatchObject({ name: 'ValidationError', field: 'step' });
  });
});

async function deliverAndPromote(rotationPlan: Awaited<ReturnType<typeof plan>>, newKey: Awaited<ReturnType<typeof createKey>>) {
  const delivery = await storeSecret(rotationPlan, newKey, await deriveSmtp(rotationPlan, newKey));
  await promoteHandler({ plan: rotationPlan, delivery }, lambdaContext());
  return { delivery };
}

describe('RollBack handler', () => {
  it('deletes the new key, withdraws AWSPENDING and releases the lock; the old key is untouched', async () => {
    // Prepare
    const { plan: rotationPlan, newKey, delivery } = await delivered();
    const error = { Error: 'VerificationFailedError', Cause: '{"errorMessage":"…"}' };

    // Act
    const result = await rollBackHandler({ mode: 'rollback', plan: rotationPlan, newKey, delivery, error }, lambdaContext());

    // Assess
    expect(result).toEqual({ deletedKeys: [newKey.accessKeyId], withdrawnVersion: clientRequestTokenFor('exec-1') });
    expect(aws.keyIds('smtp')).toEqual([old.accessKeyId]);
    expect(old.status).toBe('Active');
    expect(aws.stageOf('smtp-secret', 'AWSPENDING')).toBeUndefined();
    expect(aws.locks.has('smtp')).toBe(false);
    const [line] = output.logLines().filter((l) => l.message === 'RollBack succeeded');
    expect(line).toMatchObject({ event: { mode: 'rollback', error: { Error: 'VerificationFailedError' } } });
    expect(JSON.stringify(line)).not.toContain('errorMessage');
  });

  it('finds the new key from the snapshot when CreateKey crashed before returning it, and converges on re-run', async () => {
    const rotationPlan = await plan();
    await createKey(rotationPlan);

    const first = await rollBackHandler({ mode: 'rollback', plan: rotationPlan, error: 'not even an object' }, lambdaContext());
    const second = await rollBackHandler({ mode: 'rollback', plan: rotationPlan }, lambdaContext());

    expect(first).toMatchObject({ deletedKeys: [expect.any(String)], withdrawnVersion: null });
    expect(second).toEqual({ deletedKeys: [], withdrawnVersion: null });
    expect(aws.keyIds('smtp')).toEqual([old.accessKeyId]);
  });

  it('only releases the lock in release mode', async () => {
    const { plan: rotationPlan, newKey } = await promoted();

    const result = await rollBackHandler({ mode: 'release', plan: rotationPlan, newKey }, lambdaContext());

    expect(result).toEqual({ deletedKeys: [], withdrawnVersion: null });
    expect(aws.keyIds('smtp')).toEqual([old.accessKeyId, newKey.accessKeyId]);
    expect(aws.locks.has('smtp')).toBe(false);
  });

  it('fails with RotationLockLostError, deleting nothing, when another rotation holds the user', async () => {
    const rotationPlan = await plan();
    await createKey(rotationPlan);
    aws.locks.set('smtp', { userName: 'smtp', owner: 'exec-other', expiresAt: Math.floor(Date.now() / 1000) + 600 });

    await expect(rollBackHandler({ mode: 'rollback', plan: rotationPlan }, lambdaContext())).rejects.toMatchObject({ name: 'RotationLockLostError' });
    expect(aws.keyIds('smtp')).toHaveLength(2);
  });
});

import { lambdaContext } from './lambda-env';
import type { NewKeyRef } from '../../lambdas/core/types';
import { handler as createKeyHandler } from '../../lambdas/handlers/create-key';
import { handler as purgeHandler } from '../../lambdas/handlers/purge-stale-key';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';
import { createKey, openSealed, plan, throttled } from './steps';

let aws: FakeAws;
let output: Captured;

beforeEach(() => {
  aws = new FakeAws();
  aws.addUser('smtp', { path: '/service/' });
  aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp' }));
  output = captureOutput();
});

afterEach(() => output.restore());

describe('CreateKey handler', () => {
  it('creates the key and returns its secret sealed for this rotation only', async () => {
    // Prepare
    const old = aws.addKey('smtp');
    const rotationPlan = await plan();

    // Act
    const newKey = (await createKeyHandler({ plan: rotationPlan }, lambdaContext())) as NewKeyRef;

    // Assess
    const created = aws.user('smtp').keys.find((k) => k.accessKeyId === newKey.accessKeyId);
    expect(created).toBeDefined();
    expect(aws.keyIds('smtp')).toEqual([old.accessKeyId, newKey.accessKeyId]);
    expect(newKey).toMatchObject({ status: 'Active', createDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    expect(JSON.stringify(newKey)).not.toContain(created?.secretAccessKey);
    const context = { rotationId: 'exec-1', accessKeyId: newKey.accessKeyId, purpose: 'secretAccessKey' };
    await expect(openSealed(newKey.sealedSecret, context)).resolves.toBe(created?.secretAccessKey);
    await expect(openSealed(newKey.sealedSecret, { ...context, rotationId: 'exec-2' })).rejects.toThrow('InvalidCiphertextException');
    const [line] = output.logLines().filter((l) => l.message === 'CreateKey succeeded');
    expect(line).toMatchObject({ result: { accessKeyId: newKey.accessKeyId, status: 'Active' }, event: { plan: { rotationId: 'exec-1' } } });
  });

  it('deletes the orphan of a crashed earlier attempt before creating the key again (re-run)', async () => {
    // Prepare: the key is created, then sealing fails, so the state machine retries the step.
    const old = aws.addKey('smtp');
    const rotationPlan = await plan();
    aws.fail('Encrypt', throttled());
    await expect(createKeyHandler({ plan: rotationPlan }, lambdaContext())).rejects.toMatchObject({ name: 'TransientAwsError' });
    const orphan = aws.keyIds('smtp').find((id) => id !== old.accessKeyId);

    // Act
    const newKey = await createKey(rotationPlan);

    // Assess
    expect(orphan).toBeDefined();
    expect(newKey.accessKeyId).not.toBe(orphan);
    expect(aws.keyIds('smtp')).toEqual([old.accessKeyId, newKey.accessKeyId]);
  });

  it('fails with KeyStateConflictError at the two-key limit until PurgeStaleKey made room', async () => {
    // Prepare: an Active current key and an Inactive leftover.
    const current = aws.addKey('smtp');
    const stale = aws.addKey('smtp', { status: 'Inactive' });
    const rotationPlan = await plan();
    expect(rotationPlan.staleAccessKeyId).toBe(stale.accessKeyId);

    // Act
    const refused = createKeyHandler({ plan: rotationPlan }, lambdaContext());
    await expect(refused).rejects.toMatchObject({ name: 'KeyStateConflictError' });
    const purged = await purgeHandler({ plan: rotationPlan }, lambdaContext());
    const newKey = await createKey(rotationPlan);

    // Assess
    expect(purged).toEqual({ deleted: stale.accessKeyId, result: 'deleted' });
    expect(aws.keyIds('smtp')).toEqual([current.accessKeyId, newKey.accessKeyId]);
    expect(aws.count('CreateAccessKey')).toBe(1);
  });

  it('fails with RotationLockLostError, creating nothing, when another rotation took the user', async () => {
    aws.addKey('smtp');
    const rotationPlan = await plan();
    aws.locks.set('smtp', { userName: 'smtp', owner: 'exec-other', expiresAt: Math.floor(Date.now() / 1000) + 600 });

    await expect(createKeyHandler({ plan: rotationPlan }, lambdaContext())).rejects.toMatchObject({ name: 'RotationLockLostError' });
    expect(aws.count('CreateAccessKey')).toBe(0);
  });

  it('fails with ValidationError naming `plan` when the state machine passes none', async () => {
    await expect(createKeyHandler({}, lambdaContext())).rejects.toMatchObject({ name: 'ValidationError', field: 'plan' });
  });
});

describe('PurgeStaleKey handler', () => {
  it("deletes the stale key, and answers 'absent' when re-run", async () => {
    aws.addKey('smtp');
    const stale = aws.addKey('smtp', { status: 'Inactive' });
    const rotationPlan = await plan();

    const first = await purgeHandler({ plan: rotationPlan }, lambdaContext());
    const second = await purgeHandler({ plan: rotationPlan }, lambdaContext());

    expect(first).toEqual({ deleted: stale.accessKeyId, result: 'deleted' });
    expect(second).toEqual({ deleted: stale.accessKeyId, result: 'absent' });
  });

  it('fails with KeyStateConflictError when the stale key was re-activated after planning', async () => {
    aws.addKey('smtp');
    const stale = aws.addKey('smtp', { status: 'Inactive' });
    const rotationPlan = await plan();
    stale.status = 'Active';

    await expect(purgeHandler({ plan: rotationPlan }, lambdaContext())).rejects.toMatchObject({ name: 'KeyStateConflictError' });
    expect(aws.keyIds('smtp')).toContain(stale.accessKeyId);
  });
});

/** The in-memory adapters keep the AWS semantics the core tests rely on. */
import {
  AwsRequestError,
  KeyNotPropagatedError,
  KeyStateConflictError,
  RotationInProgressError,
  RotationLockLostError,
  VerificationFailedError,
} from '../../lambdas/core/errors';
import { SimulatedCrash, memoryWorld } from '../helpers/memory-adapters';
import { caught } from './fixtures';

describe('memory adapters', () => {
  test('IAM refuses a third key', async () => {
    // Prepare
    const w = memoryWorld();
    w.directory.addUser('u');
    await w.directory.createAccessKey('u');
    await w.directory.createAccessKey('u');

    // Act
    const error = await caught(() => w.directory.createAccessKey('u'));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
  });

  test('Secrets Manager: AWSPREVIOUS follows AWSCURRENT, a version is never rewritten', async () => {
    // Prepare
    const w = memoryWorld();
    w.secrets.createSecret('s', 'v1');
    const first = Object.keys(w.secrets.stagesOf('s'))[0] as string;
    await w.secrets.putPending('s', 'token-2', 'v2');

    // Act
    await w.secrets.moveStage('s', 'AWSCURRENT', 'token-2', first);
    const rewrite = await caught(() => w.secrets.putPending('s', 'token-2', 'other'));

    // Assess
    expect(w.secrets.stagesOf('s')).toEqual({ [first]: ['AWSPREVIOUS'], 'token-2': ['AWSPENDING', 'AWSCURRENT'] });
    expect(rewrite).toBeInstanceOf(KeyStateConflictError);
    expect(await w.secrets.getValue('s', { stage: 'AWSCURRENT' })).toEqual({ versionId: 'token-2', value: 'v2' });
  });

  test('Secrets Manager: a rotation placeholder has no value; moving a label from the wrong version fails', async () => {
    // Prepare
    const w = memoryWorld();
    w.secrets.createSecret('s', 'v1');
    w.secrets.startRotation('s', 'token-2');

    // Act
    const value = await w.secrets.getValue('s', { versionId: 'token-2' });
    const wrongFrom = await caught(() => w.secrets.moveStage('s', 'AWSCURRENT', 'token-2', 'token-9'));

    // Assess
    expect(value).toBeNull();
    expect(wrongFrom).toBeInstanceOf(KeyStateConflictError);
  });

  test('the sealer binds the context', async () => {
    // Prepare
    const w = memoryWorld();
    const sealed = await w.sealer.seal('plain', { a: '1', b: '2' });

    // Act
    const reordered = await w.sealer.open(sealed, { b: '2', a: '1' });
    const other = await caught(() => w.sealer.open(sealed, { a: '1', b: '3' }));

    // Assess
    expect(reordered).toBe('plain');
    expect(other).toBeInstanceOf(AwsRequestError);
    expect(sealed).not.toContain('plain');
  });

  test('STS: only Active keys, only after propagation, only with the right secret', async () => {
    // Prepare
    const w = memoryWorld({ propagationDelayMs: 5000 });
    w.directory.addUser('u');
    const key = await w.directory.createAccessKey('u');

    // Act
    const early = await caught(() => w.verifier.callerArn(key.accessKeyId, key.secretAccessKey));
    w.clock.advance(5000);
    const arn = await w.verifier.callerArn(key.accessKeyId, key.secretAccessKey);
    const wrong = await caught(() => w.verifier.callerArn(key.accessKeyId, 'x'));
    await w.directory.setAccessKeyStatus('u', key.accessKeyId, 'Inactive');
    const inactive = await caught(() => w.verifier.callerArn(key.accessKeyId, key.secretAccessKey));

    // Assess
    expect(early).toBeInstanceOf(KeyNotPropagatedError);
    expect(arn).toBe('arn:aws:iam::123456789012:user/u');
    expect(wrong).toBeInstanceOf(VerificationFailedError);
    expect(inactive).toBeInstanceOf(KeyNotPropagatedError);
  });

  test('the lock: exclusive, re-entrant for its owner, free once expired', async () => {
    // Prepare
    const w = memoryWorld();
    const until = new Date(w.clock.now().getTime() + 1000);
    await w.lock.acquire('u', 'a', until);

    // Act
    const other = await caught(() => w.lock.acquire('u', 'b', until));
    await w.lock.acquire('u', 'a', until);
    w.clock.advance(2000);
    const lost = await caught(() => w.lock.assertHeld('u', 'a'));
    await w.lock.acquire('u', 'b', new Date(w.clock.now().getTime() + 1000));

    // Assess
    expect(other).toBeInstanceOf(RotationInProgressError);
    expect(lost).toBeInstanceOf(RotationLockLostError);
    expect((await w.lock.holder('u'))?.owner).toBe('b');
  });

  test('the lock keeps a key snapshot only as long as each take carries it, like PutItem', async () => {
    // Prepare
    const w = memoryWorld();
    const until = new Date(w.clock.now().getTime() + 1000);
    const snapshot = { accessKeyIds: ['AKIAMEMORY0000000001'], takenAt: w.clock.now() };

    // Act
    await w.lock.acquire('u', 'a', until, snapshot);
    const recorded = await w.lock.holder('u');
    await w.lock.acquire('u', 'a', until);
    const retaken = await w.lock.holder('u');

    // Assess
    expect(recorded).toEqual({ owner: 'a', expiresAt: until, snapshot });
    expect(retaken).toEqual({ owner: 'a', expiresAt: until });
  });

  test('faults: "after" makes the change then fails', async () => {
    // Prepare
    const w = memoryWorld();
    w.directory.addUser('u');
    w.faults.inject('iam:CreateAccessKey', { when: 'after' });

    // Act
    const error = await caught(() => w.directory.createAccessKey('u'));

    // Assess
    expect(error).toBeInstanceOf(SimulatedCrash);
    expect(w.directory.keysOf('u')).toHaveLength(1);
  });
});

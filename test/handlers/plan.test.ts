import { KMS_KEY_ID, lambdaContext } from './lambda-env';
import { handler } from '../../lambdas/handlers/plan';
import type { RotationPlan } from '../../lambdas/core/types';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';

let aws: FakeAws;
let output: Captured;

beforeEach(() => {
  aws = new FakeAws();
  aws.addUser('smtp', { path: '/service/' });
  aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp' }));
  output = captureOutput();
});

afterEach(() => output.restore());

const input = { userName: 'smtp', delivery: { type: 'secretsManager', secretId: 'smtp-secret' } };

describe('Plan handler', () => {
  it('plans a rotation, takes the lock, and logs identifiers only', async () => {
    // Prepare
    const old = aws.addKey('smtp');

    // Act
    const plan = (await handler({ input, rotationId: 'exec-1' }, lambdaContext())) as RotationPlan;

    // Assess
    expect(plan).toMatchObject({
      rotationId: 'exec-1',
      userName: 'smtp',
      userArn: 'arn:aws:iam::111122223333:user/service/smtp',
      oldAccessKeyId: old.accessKeyId,
      staleAccessKeyId: null,
      snapshot: [old.accessKeyId],
      delivery: { type: 'secretsManager', secretId: 'smtp-secret' },
      sesSmtpRegions: ['eu-west-1'],
      dryRun: false,
    });
    expect(aws.locks.get('smtp')?.owner).toBe('exec-1');
    const [line] = output.logLines().filter((l) => l.message === 'Plan succeeded');
    expect(line).toMatchObject({
      level: 'INFO',
      service: 'keyrotate',
      function_name: 'keyrotate-test',
      step: 'Plan',
      event: { rotationId: 'exec-1', input: { userName: 'smtp', delivery: { type: 'secretsManager', secretId: 'smtp-secret' } } },
      result: { rotationId: 'exec-1', userName: 'smtp', oldAccessKeyId: old.accessKeyId },
    });
    expect(output.text()).not.toContain(KMS_KEY_ID);
  });

  it('gives the same plan when re-run by the same execution (idempotent lock)', async () => {
    aws.addKey('smtp');
    const first = await handler({ input, rotationId: 'exec-1' }, lambdaContext());

    const second = await handler({ input, rotationId: 'exec-1' }, lambdaContext());

    expect({ ...second, lockExpiresAt: null }).toEqual({ ...first, lockExpiresAt: null });
    expect(aws.locks.get('smtp')?.owner).toBe('exec-1');
  });

  it('fails with RotationInProgressError when another rotation holds the user, changing nothing', async () => {
    // Prepare
    aws.addKey('smtp');
    await handler({ input, rotationId: 'exec-1' }, lambdaContext());
    const keysBefore = aws.keyIds('smtp');

    // Act
    const failure = handler({ input, rotationId: 'exec-2' }, lambdaContext());

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'RotationInProgressError' });
    expect(aws.locks.get('smtp')?.owner).toBe('exec-1');
    expect(aws.keyIds('smtp')).toEqual(keysBefore);
    const [line] = output.logLines().filter((l) => l.message === 'Plan failed');
    expect(line).toMatchObject({ level: 'ERROR', errorName: 'RotationInProgressError', transient: false, event: { rotationId: 'exec-2' } });
  });

  it('fails with ValidationError naming the field for bad input, without taking the lock', async () => {
    const failure = handler({ input: { userName: 'smtp', delivery: { type: 'carrier-pigeon' } }, rotationId: 'exec-1' }, lambdaContext());

    await expect(failure).rejects.toMatchObject({ name: 'ValidationError', field: expect.stringContaining('delivery') });
    expect(aws.locks.size).toBe(0);
  });

  it('fails with UserOutOfScopeError for a user outside KEYROTATE_SCOPE', async () => {
    aws.addUser('admin', { path: '/' });

    const failure = handler({ input: { ...input, userName: 'admin' }, rotationId: 'exec-1' }, lambdaContext());

    await expect(failure).rejects.toMatchObject({ name: 'UserOutOfScopeError' });
    expect(aws.locks.size).toBe(0);
  });

  it('fails with ValidationError when the state machine passes no rotationId', async () => {
    await expect(handler({ input }, lambdaContext())).rejects.toMatchObject({ name: 'ValidationError', field: 'rotationId' });
  });

  it('fails with TransientAwsError when IAM throttles', async () => {
    aws.fail('GetUser', Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));

    await expect(handler({ input, rotationId: 'exec-1' }, lambdaContext())).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});

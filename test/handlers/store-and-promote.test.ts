import { lambdaContext } from './lambda-env';
import { clientRequestTokenFor } from '../../lambdas/core/tokens';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import type { DeliveryResult, StoredSecretValue } from '../../lambdas/core/types';
import { handler as promoteHandler } from '../../lambdas/handlers/promote-secret';
import { handler as storeHandler } from '../../lambdas/handlers/store-secret';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';
import { createKey, delivered, deriveSmtp, givenSmtpUser, plan, secretsManagerInput } from './steps';

let aws: FakeAws;
let output: Captured;

beforeEach(() => {
  aws = new FakeAws();
  givenSmtpUser(aws);
  output = captureOutput();
});

afterEach(() => output.restore());

describe('StoreSecret handler', () => {
  it('stores the full value as AWSPENDING under the rotation’s version id', async () => {
    // Prepare
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);
    const smtp = await deriveSmtp(rotationPlan, newKey);
    const secret = aws.user('smtp').keys.find((k) => k.accessKeyId === newKey.accessKeyId)?.secretAccessKey ?? '';

    // Act
    const delivery = (await storeHandler({ plan: rotationPlan, newKey, smtp }, lambdaContext())) as DeliveryResult;

    // Assess
    const token = clientRequestTokenFor('exec-1');
    expect(delivery).toEqual({ type: 'secretsManager', secretArn: aws.secret('smtp-secret').arn, secretVersionId: token });
    const pending = aws.stageOf('smtp-secret', 'AWSPENDING');
    expect(pending?.versionId).toBe(token);
    const value = JSON.parse(pending?.value ?? '{}') as StoredSecretValue;
    expect(value).toMatchObject({
      userName: 'smtp',
      accessKeyId: newKey.accessKeyId,
      secretAccessKey: secret,
      sesSmtpRegion: 'eu-west-1',
      sesSmtpPasswordV4: deriveSmtpPasswordV4(secret, 'eu-west-1'),
    });
    expect(aws.stageOf('smtp-secret', 'AWSCURRENT')?.value).toBe(JSON.stringify({ userName: 'smtp' }));
    expect(output.text()).not.toContain(secret);
  });

  it('stores the same version again when re-run (idempotent PutSecretValue)', async () => {
    const { plan: rotationPlan, newKey, smtp, delivery } = await delivered();

    const again = await storeHandler({ plan: rotationPlan, newKey, smtp }, lambdaContext());

    expect(again).toEqual(delivery);
    expect(aws.secret('smtp-secret').versions).toHaveLength(2);
  });

  it('accepts a missing smtp when no SES region was asked for', async () => {
    const rotationPlan = await plan('exec-1', secretsManagerInput({ sesSmtpRegions: [] }));
    const newKey = await createKey(rotationPlan);

    const delivery = await storeHandler({ plan: rotationPlan, newKey }, lambdaContext());

    expect(delivery).toMatchObject({ type: 'secretsManager' });
    expect(JSON.parse(aws.stageOf('smtp-secret', 'AWSPENDING')?.value ?? '{}')).toMatchObject({ sesSmtpPasswords: {} });
  });

  it('fails with KeyStateConflictError when the version already holds another key', async () => {
    // Prepare: a late CreateKey re-run replaced the key after the first one was stored.
    const { plan: rotationPlan, newKey: storedKey } = await delivered();
    const replacement = await createKey(rotationPlan);
    expect(replacement.accessKeyId).not.toBe(storedKey.accessKeyId);
    const replacementSmtp = await deriveSmtp(rotationPlan, replacement);

    // Act
    const failure = storeHandler({ plan: rotationPlan, newKey: replacement, smtp: replacementSmtp }, lambdaContext());

    // Assess: Secrets Manager never rewrites a version; the stored value is left as it was.
    await expect(failure).rejects.toMatchObject({ name: 'KeyStateConflictError' });
    expect(JSON.parse(aws.stageOf('smtp-secret', 'AWSPENDING')?.value ?? '{}')).toMatchObject({ accessKeyId: storedKey.accessKeyId });
  });

  it('fails with SecretNotFoundError when the secret was deleted', async () => {
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);
    const smtp = await deriveSmtp(rotationPlan, newKey);
    aws.secrets.delete('smtp-secret');

    await expect(storeHandler({ plan: rotationPlan, newKey, smtp }, lambdaContext())).rejects.toMatchObject({ name: 'SecretNotFoundError' });
  });
});

describe('PromoteSecret handler', () => {
  it('moves AWSCURRENT to the new version and clears AWSPENDING', async () => {
    // Prepare
    const previous = aws.stageOf('smtp-secret', 'AWSCURRENT')?.versionId;
    const { plan: rotationPlan, delivery } = await delivered();

    // Act
    const promotion = await promoteHandler({ plan: rotationPlan, delivery }, lambdaContext());

    // Assess
    const token = clientRequestTokenFor('exec-1');
    expect(promotion).toEqual({ secretVersionId: token, previousVersionId: previous });
    expect(aws.stageOf('smtp-secret', 'AWSCURRENT')?.versionId).toBe(token);
    expect(aws.stageOf('smtp-secret', 'AWSPREVIOUS')?.versionId).toBe(previous);
    expect(aws.stageOf('smtp-secret', 'AWSPENDING')).toBeUndefined();
  });

  it('converges when re-run after a promotion', async () => {
    const { plan: rotationPlan, delivery } = await delivered();
    const first = await promoteHandler({ plan: rotationPlan, delivery }, lambdaContext());
    const updates = aws.count('UpdateSecretVersionStage');

    const second = await promoteHandler({ plan: rotationPlan, delivery }, lambdaContext());

    expect(second).toEqual(first);
    expect(aws.count('UpdateSecretVersionStage')).toBe(updates);
  });

  it('fails with RotationLockLostError, moving nothing, when another rotation took the user', async () => {
    const { plan: rotationPlan, delivery } = await delivered();
    aws.locks.set('smtp', { userName: 'smtp', owner: 'exec-other', expiresAt: Math.floor(Date.now() / 1000) + 600 });

    await expect(promoteHandler({ plan: rotationPlan, delivery }, lambdaContext())).rejects.toMatchObject({ name: 'RotationLockLostError' });
    expect(aws.stageOf('smtp-secret', 'AWSCURRENT')?.versionId).not.toBe(clientRequestTokenFor('exec-1'));
  });
});

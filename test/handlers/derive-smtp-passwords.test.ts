import { lambdaContext } from './lambda-env';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import type { SmtpPasswordsRef } from '../../lambdas/core/types';
import { handler } from '../../lambdas/handlers/derive-smtp-passwords';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';
import { createKey, givenSmtpUser, openSealed, plan, secretsManagerInput } from './steps';

let aws: FakeAws;
let output: Captured;

beforeEach(() => {
  aws = new FakeAws();
  givenSmtpUser(aws);
  output = captureOutput();
});

afterEach(() => output.restore());

describe('DeriveSmtpPasswords handler', () => {
  it('derives one password per region, sealed for this rotation and key', async () => {
    // Prepare
    const rotationPlan = await plan('exec-1', secretsManagerInput({ sesSmtpRegions: ['eu-west-1', 'us-east-1'] }));
    const newKey = await createKey(rotationPlan);
    const secret = aws.user('smtp').keys.find((k) => k.accessKeyId === newKey.accessKeyId)?.secretAccessKey ?? '';

    // Act
    const smtp = (await handler({ plan: rotationPlan, newKey }, lambdaContext())) as SmtpPasswordsRef;

    // Assess
    expect(smtp.regions).toEqual(['eu-west-1', 'us-east-1']);
    const opened = await openSealed(smtp.sealedPasswords ?? '', { rotationId: 'exec-1', accessKeyId: newKey.accessKeyId, purpose: 'sesSmtpPasswords' });
    expect(JSON.parse(opened)).toEqual({
      'eu-west-1': deriveSmtpPasswordV4(secret, 'eu-west-1'),
      'us-east-1': deriveSmtpPasswordV4(secret, 'us-east-1'),
    });
    expect(output.text()).not.toContain(deriveSmtpPasswordV4(secret, 'eu-west-1'));
  });

  it('derives the same passwords when re-run (fresh ciphertext, same content)', async () => {
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);
    const context = { rotationId: 'exec-1', accessKeyId: newKey.accessKeyId, purpose: 'sesSmtpPasswords' };

    const first = (await handler({ plan: rotationPlan, newKey }, lambdaContext())) as SmtpPasswordsRef;
    const second = (await handler({ plan: rotationPlan, newKey }, lambdaContext())) as SmtpPasswordsRef;

    expect(second.regions).toEqual(first.regions);
    await expect(openSealed(second.sealedPasswords ?? '', context)).resolves.toBe(await openSealed(first.sealedPasswords ?? '', context));
  });

  it('returns no sealed passwords when no region is asked for', async () => {
    const rotationPlan = await plan('exec-1', secretsManagerInput({ sesSmtpRegions: [] }));
    const newKey = await createKey(rotationPlan);

    await expect(handler({ plan: rotationPlan, newKey }, lambdaContext())).resolves.toEqual({ regions: [], sealedPasswords: null });
  });

  it('fails (terminal, from KMS) when the sealed secret belongs to another rotation', async () => {
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);

    const failure = handler({ plan: { ...rotationPlan, rotationId: 'exec-forged' }, newKey }, lambdaContext());

    await expect(failure).rejects.toMatchObject({ name: 'AwsRequestError', code: 'InvalidCiphertextException', transient: false });
  });
});

import { lambdaContext } from './lambda-env';
import { handler } from '../../lambdas/handlers/verify-new-key';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';
import { createKey, givenSmtpUser, plan } from './steps';

// One second of STS retries per invocation keeps the deadline test short (read on first use).
process.env.KEYROTATE_VERIFY_SECONDS = '1';

let aws: FakeAws;
let output: Captured;

beforeEach(() => {
  aws = new FakeAws();
  givenSmtpUser(aws);
  output = captureOutput();
});

afterEach(() => output.restore());

describe('VerifyNewKey handler', () => {
  it('proves the new key signs in as the user', async () => {
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);

    const verification = await handler({ plan: rotationPlan, newKey }, lambdaContext());

    expect(verification).toEqual({ callerArn: rotationPlan.userArn, attempts: 1 });
    const [line] = output.logLines().filter((l) => l.message === 'VerifyNewKey succeeded');
    expect(line).toMatchObject({ result: { callerArn: rotationPlan.userArn, attempts: 1 } });
  });

  it('retries through IAM propagation within one invocation', async () => {
    aws.propagationCalls = 1;
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);

    const verification = await handler({ plan: rotationPlan, newKey }, lambdaContext());

    expect(verification).toEqual({ callerArn: rotationPlan.userArn, attempts: 2 });
  });

  it('fails with KeyNotPropagatedError (retried by the state machine) when the deadline passes, and succeeds on re-run', async () => {
    // Prepare
    aws.propagationCalls = 3;
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);

    // Act
    const first = handler({ plan: rotationPlan, newKey }, lambdaContext());
    await expect(first).rejects.toMatchObject({ name: 'KeyNotPropagatedError', transient: true });
    aws.user('smtp').keys.forEach((k) => (k.invisibleForCalls = 0));
    const second = await handler({ plan: rotationPlan, newKey }, lambdaContext());

    // Assess
    expect(second).toMatchObject({ callerArn: rotationPlan.userArn });
    const [line] = output.logLines().filter((l) => l.message === 'VerifyNewKey failed');
    expect(line).toMatchObject({ errorName: 'KeyNotPropagatedError', transient: true });
  });

  it('fails with VerificationFailedError when the key signs in as someone else', async () => {
    const rotationPlan = await plan();
    const newKey = await createKey(rotationPlan);

    const failure = handler({ plan: { ...rotationPlan, userArn: 'arn:aws:iam::111122223333:user/other' }, newKey }, lambdaContext());

    await expect(failure).rejects.toMatchObject({ name: 'VerificationFailedError' });
  });
});

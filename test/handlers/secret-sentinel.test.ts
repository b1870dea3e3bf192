/**
 * Guarantee "no plaintext secrets", end to end through every handler: a known secret access key (and the
 * SMTP passwords derived from it) flows through each Lambda, on success and failure paths, and
 * never shows up in anything the Lambdas write (stdout, stderr, console), return (Step Functions
 * state) or throw (errorType / errorMessage / stack), in any usual encoding.
 */
import { lambdaContext } from './lambda-env';
import { generateKey, readKey } from 'openpgp';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import type { DeliveryResult, NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../../lambdas/core/types';
import { handler as createKey } from '../../lambdas/handlers/create-key';
import { handler as deriveSmtpPasswords } from '../../lambdas/handlers/derive-smtp-passwords';
import { handler as encryptForPgp } from '../../lambdas/handlers/encrypt-for-pgp';
import { handler as plan } from '../../lambdas/handlers/plan';
import { handler as promoteSecret } from '../../lambdas/handlers/promote-secret';
import { handler as purgeStaleKey } from '../../lambdas/handlers/purge-stale-key';
import { handler as retireOldKey } from '../../lambdas/handlers/retire-old-key';
import { handler as rollBack } from '../../lambdas/handlers/roll-back';
import { handler as secretsManagerRotation } from '../../lambdas/handlers/secrets-manager-rotation';
import { handler as storeSecret } from '../../lambdas/handlers/store-secret';
import { handler as verifyNewKey } from '../../lambdas/handlers/verify-new-key';
import { awsError } from '../adapters/sdk-errors';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';

const SENTINEL = 'SENTINELsecretKEY/abc+def0123456789ABCDEFGH';
const REGIONS = ['eu-west-1', 'us-east-1'];
const PASSWORDS = REGIONS.map((region) => deriveSmtpPasswordV4(SENTINEL, region));

/** Every form in which a secret could leak: raw, JSON-escaped, base64(url), hex, URL-encoded, and a fragment. */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(secret),
    // A built-in message may quote only the start of its input (JSON.parse quotes 10 characters).
    secret.slice(0, 8),
  ];
}

const FORBIDDEN = [...forms(SENTINEL), ...PASSWORDS.flatMap(forms)];

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

let aws: FakeAws;
let output: Captured;
const visible: string[] = [];
const thrown: string[] = [];
let pgpKey: string;

/** Invokes a handler the way Lambda does and keeps whatever would leave it. */
async function invoke<T>(handler: Handler, event: unknown): Promise<T> {
  try {
    const result = await handler(event, lambdaContext());
    visible.push(JSON.stringify(result ?? null));
    return result as T;
  } catch (error) {
    const e = error as Error;
    visible.push(e.name, e.message, String(e), e.stack ?? '', JSON.stringify(e));
    thrown.push(e.name);
    throw error;
  }
}

async function invokeFailing(handler: Handler, event: unknown): Promise<string> {
  return invoke(handler, event).then(
    () => 'no error',
    (error: unknown) => (error as Error).name,
  );
}

function stateMachineInput(userName: string, delivery: unknown, extra: Record<string, unknown> = {}) {
  return { userName, delivery, sesSmtpRegions: REGIONS, ...extra };
}

beforeAll(async () => {
  const generated = await generateKey({ userIDs: [{ name: 'Ops', email: 'ops@example.com' }], format: 'armored' });
  pgpKey = Buffer.from((await readKey({ armoredKey: generated.publicKey })).write()).toString('base64');
});

beforeEach(() => {
  aws = new FakeAws();
  visible.length = 0;
  thrown.length = 0;
  output = captureOutput();
});

afterEach(() => output.restore());

/** Plan → (PurgeStaleKey) → CreateKey → DeriveSmtpPasswords, with the sentinel as the new secret. */
async function upToSmtp(rotationId: string, input: unknown) {
  aws.nextSecrets.push(SENTINEL);
  const rotationPlan = await invoke<RotationPlan>(plan, { input, rotationId });
  if (rotationPlan.staleAccessKeyId !== null) await invoke(purgeStaleKey, { plan: rotationPlan });
  const newKey = await invoke<NewKeyRef>(createKey, { plan: rotationPlan });
  const smtp = await invoke<SmtpPasswordsRef>(deriveSmtpPasswords, { plan: rotationPlan, newKey });
  return { plan: rotationPlan, newKey, smtp };
}

function assertNoLeak(): void {
  const everything = [output.text(), ...visible].join('\n');
  // The test must have exercised something: output and results exist.
  expect(visible.length).toBeGreaterThan(5);
  expect(output.logLines().length).toBeGreaterThan(5);
  for (const form of FORBIDDEN) {
    expect({ form, found: everything.includes(form) }).toEqual({ form, found: false });
  }
}

describe('the secret sentinel', () => {
  it('never leaves a Lambda of a Secrets Manager rotation, including its failure paths', async () => {
    // Prepare
    aws.addUser('smtp', { path: '/service/' });
    aws.addKey('smtp');
    aws.addKey('smtp', { status: 'Inactive' });
    aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp' }));
    const input = stateMachineInput('smtp', { type: 'secretsManager', secretId: 'smtp-secret' }, { oldKey: { action: 'delete' } });

    // Act: an endpoint that echoes the request (the secret) in its error, then a corrupted sealed
    // map whose JSON.parse error would quote the plaintext (the core replaces it by a fixed
    // ValidationError), then the real run.
    const state = await upToSmtp('exec-sm', input);
    aws.fail('PutSecretValue', awsError('ValidationException', 400, `1 validation error: SecretString '${SENTINEL}' ${PASSWORDS[0]}`));
    const echoed = await invokeFailing(storeSecret, state);
    aws.decryptOverride = (context) => (context.purpose === 'sesSmtpPasswords' ? `${SENTINEL} ${PASSWORDS[0]}` : undefined);
    const corrupted = await invokeFailing(storeSecret, state);
    aws.decryptOverride = undefined;
    const delivery = await invoke<DeliveryResult>(storeSecret, state);
    aws.fail('GetCallerIdentity', awsError('SignatureDoesNotMatch', 403, `bad signature for ${SENTINEL}`));
    const badSignature = await invokeFailing(verifyNewKey, state);
    await invoke(verifyNewKey, state);
    await invoke(promoteSecret, { plan: state.plan, delivery });
    await invoke(retireOldKey, { step: 'deactivate', ...state, delivery });
    await invoke(retireOldKey, { step: 'finish', ...state, delivery });
    // A later dry run reads the stored sentinel back as the current key.
    await invoke(plan, { input: { ...input, dryRun: true }, rotationId: 'exec-sm-dry' });

    // Assess
    expect([echoed, corrupted, badSignature]).toEqual(['AwsRequestError', 'ValidationError', 'VerificationFailedError']);
    expect(JSON.parse(aws.stageOf('smtp-secret', 'AWSCURRENT')?.value ?? '{}')).toMatchObject({ secretAccessKey: SENTINEL });
    assertNoLeak();
  });

  it('never leaves a Lambda of a PGP rotation, nor of a roll-back', async () => {
    // Prepare
    aws.addUser('pgp', { path: '/service/' });
    aws.addKey('pgp');
    aws.addUser('rb', { path: '/service/' });
    aws.addKey('rb');
    aws.addSecret('rb-secret', JSON.stringify({ userName: 'rb' }));

    // Act: a PGP rotation to the end.
    const pgpState = await upToSmtp('exec-pgp', stateMachineInput('pgp', { type: 'pgp', pgpKey }));
    const pgpDelivery = await invoke<DeliveryResult>(encryptForPgp, pgpState);
    await invoke(verifyNewKey, pgpState);
    await invoke(retireOldKey, { step: 'deactivate', ...pgpState, delivery: pgpDelivery });
    const result = await invoke(retireOldKey, { step: 'finish', ...pgpState, delivery: pgpDelivery });
    // A rotation that fails verification and is rolled back, with its caught error in the state.
    const rbState = await upToSmtp('exec-rb', stateMachineInput('rb', { type: 'secretsManager', secretId: 'rb-secret' }));
    const rbDelivery = await invoke<DeliveryResult>(storeSecret, rbState);
    aws.fail('GetCallerIdentity', awsError('SignatureDoesNotMatch', 403, `bad signature for ${SENTINEL}`));
    const failure = await invokeFailing(verifyNewKey, rbState);
    const error = { Error: failure, Cause: JSON.stringify({ errorType: failure, errorMessage: thrown.at(-1) }) };
    await invoke(rollBack, { mode: 'rollback', ...rbState, delivery: rbDelivery, error });
    await invoke(rollBack, { mode: 'release', plan: rbState.plan, error });

    // Assess
    expect(result).toMatchObject({ keyFingerprint: expect.any(String), previousKey: { action: 'deleted' } });
    expect(aws.keyIds('rb')).toHaveLength(1);
    assertNoLeak();
  });

  it('never leaves the Secrets Manager rotation function, in its four steps, re-entries and test rotation', async () => {
    // Prepare
    const token = '0f1e2d3c-4b5a-4697-8877-665544332211';
    aws.addUser('smtp', { path: '/service/' });
    aws.addKey('smtp');
    aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp', sesSmtpRegions: REGIONS }));
    aws.startSecretRotation('smtp-secret', token);
    aws.nextSecrets.push(SENTINEL);
    const event = (Step: string, ClientRequestToken = token) => ({ Step, SecretId: 'smtp-secret', ClientRequestToken });

    // Act
    aws.fail('PutSecretValue', awsError('InternalServiceError', 500, `could not store ${SENTINEL}`));
    const storeFailure = await invokeFailing(secretsManagerRotation, event('createSecret'));
    aws.nextSecrets.push(SENTINEL);
    for (const step of ['createSecret', 'createSecret', 'setSecret', 'testSecret', 'testSecret']) {
      await invoke(secretsManagerRotation, event(step));
    }
    aws.fail('GetCallerIdentity', awsError('SignatureDoesNotMatch', 403, `bad signature for ${SENTINEL}`));
    const testFailure = await invokeFailing(secretsManagerRotation, event('testSecret'));
    await invoke(secretsManagerRotation, event('finishSecret'));
    await invoke(secretsManagerRotation, event('finishSecret'));
    await invoke(secretsManagerRotation, event('testSecret', 'test-rotation-0000000000000000000000'));

    // Assess
    expect([storeFailure, testFailure]).toEqual(['TransientAwsError', 'VerificationFailedError']);
    expect(JSON.parse(aws.stageOf('smtp-secret', 'AWSCURRENT')?.value ?? '{}')).toMatchObject({
      secretAccessKey: SENTINEL,
      sesSmtpPasswords: { 'eu-west-1': PASSWORDS[0], 'us-east-1': PASSWORDS[1] },
    });
    assertNoLeak();
  });
});

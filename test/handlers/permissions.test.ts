/**
 * The permissions table of docs/readme/lambdas.md (which the infrastructure turns into
 * least-privilege roles) against what each Lambda really calls: every handler runs through its
 * success, re-run and failure paths, each AWS call is recorded under the handler that made it,
 * and the set of IAM actions must equal the table's row, no more (AccessDenied in production)
 * and no less (a needless permission).
 */
import { lambdaContext } from './lambda-env';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey, readKey } from 'openpgp';
import { buildSecretValue, serializeSecretValue } from '../../lambdas/core/secret-value';
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
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';

const SERVICE_OF: Record<string, string> = {
  GetUser: 'iam',
  ListAccessKeys: 'iam',
  GetAccessKeyLastUsed: 'iam',
  CreateAccessKey: 'iam',
  UpdateAccessKey: 'iam',
  DeleteAccessKey: 'iam',
  DescribeSecret: 'secretsmanager',
  ListSecretVersionIds: 'secretsmanager',
  GetSecretValue: 'secretsmanager',
  PutSecretValue: 'secretsmanager',
  UpdateSecretVersionStage: 'secretsmanager',
  Encrypt: 'kms',
  Decrypt: 'kms',
  PutItem: 'dynamodb',
  GetItem: 'dynamodb',
  DeleteItem: 'dynamodb',
};

/** file → IAM actions, from the README table (resource-policy grants excluded). */
function documentedActions(): Map<string, Set<string>> {
  const markdown = readFileSync(join(__dirname, '../../docs/readme/lambdas.md'), 'utf8');
  const table = new Map<string, Set<string>>();
  for (const line of markdown.split('\n')) {
    const row = /^\| `([a-z-]+\.ts)` \| [^|]+ \| ([^|]+) \|/.exec(line);
    if (!row?.[1] || !row[2]) continue;
    const actions = [...row[2].matchAll(/`((?:iam|secretsmanager|kms|dynamodb):[A-Za-z]+)`/g)].map((m) => m[1] ?? '');
    table.set(row[1], new Set(actions));
  }
  return table;
}

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

const observed = new Map<string, Set<string>>();
let aws: FakeAws;
let output: Captured;

/** Invokes `handler` and files the AWS calls it made under `file`; failures are part of the run. */
async function run<T>(file: string, handler: Handler, event: unknown): Promise<T> {
  const before = aws.calls.length;
  try {
    return (await handler(event, lambdaContext())) as T;
  } finally {
    const actions = observed.get(file) ?? new Set<string>();
    for (const call of aws.calls.slice(before)) {
      // STS is signed with the new key itself: no permission of the Lambda role.
      if (call !== 'GetCallerIdentity') actions.add(`${SERVICE_OF[call] ?? 'unknown'}:${call}`);
    }
    observed.set(file, actions);
  }
}

const attempt = (promise: Promise<unknown>) => promise.then(() => undefined, () => undefined);

beforeAll(() => {
  output = captureOutput();
});

afterAll(() => output.restore());

async function stateMachineRotation(userName: string, rotationId: string, input: Record<string, unknown>) {
  const rotationPlan = await run<RotationPlan>('plan.ts', plan, { input: { userName, ...input }, rotationId });
  if (rotationPlan.staleAccessKeyId !== null) await run('purge-stale-key.ts', purgeStaleKey, { plan: rotationPlan });
  const newKey = await run<NewKeyRef>('create-key.ts', createKey, { plan: rotationPlan });
  const smtp = await run<SmtpPasswordsRef>('derive-smtp-passwords.ts', deriveSmtpPasswords, { plan: rotationPlan, newKey });
  return { plan: rotationPlan, newKey, smtp };
}

it('every Lambda calls exactly the AWS actions its README row lists', async () => {
  // Prepare
  aws = new FakeAws();
  const generated = await generateKey({ userIDs: [{ name: 'Ops' }], format: 'armored' });
  const pgpKey = Buffer.from((await readKey({ armoredKey: generated.publicKey })).write()).toString('base64');
  for (const name of ['smtp', 'pgp', 'rb', 'sm', 'empty', 'ur', 'two']) aws.addUser(name, { path: '/service/' });
  const smtpOld = aws.addKey('smtp', { lastUsedDate: new Date(Date.now() - 86_400_000) });
  aws.addKey('smtp', { status: 'Inactive' });
  aws.addKey('pgp');
  aws.addKey('rb');
  aws.addKey('sm');
  aws.addKey('sm', { status: 'Inactive' });
  // Two Active keys and nothing names the current one: Plan takes the lock, fails, releases it.
  aws.addKey('two');
  aws.addKey('two');
  aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp' }));
  aws.addSecret('rb-secret', JSON.stringify({ userName: 'rb' }));
  aws.addSecret('sm-secret', JSON.stringify({ userName: 'sm' }));
  aws.addSecret('empty-secret');
  // An unfinished retirement: the secret was moved off a key that is still Active.
  const value = (key: { accessKeyId: string; secretAccessKey: string }) =>
    serializeSecretValue(buildSecretValue({ userName: 'ur', ...key, createDate: '2026-01-01T00:00:00Z', smtpPasswords: {} }));
  const urPrevious = aws.addKey('ur', { lastUsedDate: new Date(Date.now() - 7 * 86_400_000) });
  const urCurrent = aws.addKey('ur');
  aws.addSecret('ur-secret', value(urCurrent)).versions.push({ versionId: 'v-previous', value: value(urPrevious), stages: ['AWSPREVIOUS'], createdDate: new Date(Date.now() - 86_400_000) });

  // Act: a dry run from an accessKeyId; a Secrets Manager rotation with a stale key, a crashed
  // CreateKey, a competing rotation, a usage check and re-runs.
  await run('plan.ts', plan, { input: { accessKeyId: smtpOld.accessKeyId, delivery: { type: 'pgp', pgpKey }, dryRun: true }, rotationId: 'dry' });
  const smPlan = await run<RotationPlan>('plan.ts', plan, {
    input: { userName: 'smtp', delivery: { type: 'secretsManager', secretId: 'smtp-secret' }, oldKey: { requireUnusedSeconds: 60 } },
    rotationId: 'exec-sm',
  });
  await run('purge-stale-key.ts', purgeStaleKey, { plan: smPlan });
  aws.fail('Encrypt', Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
  await attempt(run('create-key.ts', createKey, { plan: smPlan }));
  const smKey = await run<NewKeyRef>('create-key.ts', createKey, { plan: smPlan });
  const smSmtp = await run<SmtpPasswordsRef>('derive-smtp-passwords.ts', deriveSmtpPasswords, { plan: smPlan, newKey: smKey });
  const sm = { plan: smPlan, newKey: smKey, smtp: smSmtp };
  await attempt(run('plan.ts', plan, { input: { userName: 'smtp', delivery: { type: 'pgp', pgpKey } }, rotationId: 'exec-competing' }));
  const delivery = await run<DeliveryResult>('store-secret.ts', storeSecret, sm);
  await run('store-secret.ts', storeSecret, sm);
  await run('verify-new-key.ts', verifyNewKey, sm);
  await run('promote-secret.ts', promoteSecret, { plan: sm.plan, delivery });
  await run('promote-secret.ts', promoteSecret, { plan: sm.plan, delivery });
  await run('retire-old-key.ts', retireOldKey, { step: 'deactivate', ...sm, delivery });
  await run('retire-old-key.ts', retireOldKey, { step: 'finish', ...sm, delivery });
  // Plan checks the unfinished retirement's last use; PurgeStaleKey deactivates, then deletes it.
  const urPlan = await run<RotationPlan>('plan.ts', plan, {
    input: { userName: 'ur', delivery: { type: 'secretsManager', secretId: 'ur-secret' }, oldKey: { requireUnusedSeconds: 60 } },
    rotationId: 'exec-ur',
  });
  await run('purge-stale-key.ts', purgeStaleKey, { plan: urPlan });
  await attempt(run('plan.ts', plan, { input: { userName: 'two', delivery: { type: 'pgp', pgpKey } }, rotationId: 'exec-two' }));
  // A PGP rotation.
  const pgp = await stateMachineRotation('pgp', 'exec-pgp', { delivery: { type: 'pgp', pgpKey } });
  const pgpDelivery = await run<DeliveryResult>('encrypt-for-pgp.ts', encryptForPgp, pgp);
  await run('verify-new-key.ts', verifyNewKey, pgp);
  await run('retire-old-key.ts', retireOldKey, { step: 'deactivate', ...pgp, delivery: pgpDelivery });
  await run('retire-old-key.ts', retireOldKey, { step: 'finish', ...pgp, delivery: pgpDelivery });
  // A rotation rolled back after delivery, then released; a first rotation into an empty secret.
  const rb = await stateMachineRotation('rb', 'exec-rb', { delivery: { type: 'secretsManager', secretId: 'rb-secret' } });
  const rbDelivery = await run<DeliveryResult>('store-secret.ts', storeSecret, rb);
  await run('roll-back.ts', rollBack, { mode: 'rollback', ...rb, delivery: rbDelivery, error: { Error: 'X' } });
  await run('roll-back.ts', rollBack, { mode: 'release', plan: rb.plan });
  const empty = await stateMachineRotation('empty', 'exec-e', { delivery: { type: 'secretsManager', secretId: 'empty-secret' } });
  await run('store-secret.ts', storeSecret, empty);
  // The Secrets Manager rotation function: four steps, a re-entry and the test rotation.
  aws.startSecretRotation('sm-secret', 'token-0000000000000000000000000000001');
  const event = (Step: string, token = 'token-0000000000000000000000000000001') => ({ Step, SecretId: 'sm-secret', ClientRequestToken: token });
  aws.fail('PutSecretValue', Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
  await attempt(run('secrets-manager-rotation.ts', secretsManagerRotation, event('createSecret')));
  for (const step of ['createSecret', 'createSecret', 'setSecret', 'testSecret', 'finishSecret', 'finishSecret']) {
    await run('secrets-manager-rotation.ts', secretsManagerRotation, event(step));
  }
  await run('secrets-manager-rotation.ts', secretsManagerRotation, event('testSecret', 'test-rotation-00000000000000000000000'));

  // Assess
  const documented = documentedActions();
  expect(documented.size).toBe(11);
  const sorted = (m: Map<string, Set<string>>) => Object.fromEntries([...m].map(([file, actions]) => [file, [...actions].sort()]).sort());
  expect(sorted(observed)).toEqual(sorted(documented));
});

import * as openpgp from 'openpgp';
import {
  AwsRequestError,
  KeyNotPropagatedError,
  KeyStateConflictError,
  OldKeyInUseError,
  OldKeyRecentlyUsedError,
  RotationLockLostError,
  SecretMismatchError,
  ValidationError,
  VerificationFailedError,
} from '../../lambdas/core/errors';
import {
  createKey,
  deriveSmtpPasswords,
  encryptForPgp,
  openSmtpPasswords,
  promoteSecret,
  purgeStaleKey,
  retireOldKey,
  rollBack,
  storeSecret,
  verifyNewKey,
} from '../../lambdas/core/rotation';
import { parseSecretValue } from '../../lambdas/core/secret-value';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import { clientRequestTokenFor } from '../../lambdas/core/tokens';
import type { DeliveryResult, NewKeyRef, RotationPlan } from '../../lambdas/core/types';
import { START_TIME, SimulatedCrash } from '../helpers/memory-adapters';
import { type Fixture, SECRET, USER, caught, fixture, makePlan, pgpInput, secretsManagerInput } from './fixtures';

const TOKEN = clientRequestTokenFor('rotation-1');

/** The secret access key the memory directory issued for a key id. */
function secretOf(f: Fixture, accessKeyId: string): string {
  const key = f.directory.lookup(accessKeyId);
  if (!key) throw new Error(`no key ${accessKeyId}`);
  return key.secretAccessKey;
}

async function throughStore(f: Fixture, input = secretsManagerInput()) {
  const plan = await makePlan(f, input);
  const newKey = await createKey(f.deps, plan);
  const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
  const delivery = await storeSecret(f.deps, plan, newKey, smtp);
  return { plan, newKey, smtp, delivery };
}

describe('purgeStaleKey', () => {
  test('deletes the Inactive leftover, and a re-run finds it gone', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Inactive'] });
    const plan = await makePlan(f);
    const stale = f.existing[1]?.accessKeyId;

    // Act
    const first = await purgeStaleKey(f.deps, plan);
    const again = await purgeStaleKey(f.deps, plan);

    // Assess
    expect(first).toEqual({ deleted: stale, result: 'deleted' });
    expect(again).toEqual({ deleted: stale, result: 'absent' });
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([f.existing[0]?.accessKeyId]);
  });

  test('does nothing without a stale key', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f);

    // Act
    const result = await purgeStaleKey(f.deps, plan);

    // Assess
    expect(result).toEqual({ deleted: null, result: 'none' });
    expect(f.log.awsChanges()).toEqual([]);
  });

  test('refuses a key re-activated since Plan, changing nothing', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Inactive'] });
    const plan = await makePlan(f);
    f.directory.forceStatus(f.existing[1]?.accessKeyId as string, 'Active');

    // Act
    const error = await caught(() => purgeStaleKey(f.deps, plan));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
    expect(f.directory.keysOf(USER)).toHaveLength(2);
  });

  test('refuses without the lock', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Inactive'] });
    const plan = await makePlan(f);
    await f.lock.release(USER, plan.rotationId);

    // Act
    const error = await caught(() => purgeStaleKey(f.deps, plan));

    // Assess
    expect(error).toBeInstanceOf(RotationLockLostError);
    expect(f.directory.keysOf(USER)).toHaveLength(2);
  });
});

describe('createKey', () => {
  test('creates an Active key and returns its secret only sealed to this rotation and key', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);

    // Act
    const newKey = await createKey(f.deps, plan);

    // Assess
    const secret = secretOf(f, newKey.accessKeyId);
    expect(newKey).toEqual({
      accessKeyId: expect.stringMatching(/^AKIA/),
      status: 'Active',
      createDate: '2026-03-02T09:00:00Z',
      sealedSecret: expect.any(String),
    });
    expect(JSON.stringify(newKey)).not.toContain(secret);
    const context = { rotationId: 'rotation-1', accessKeyId: newKey.accessKeyId, purpose: 'secretAccessKey' };
    expect(await f.sealer.open(newKey.sealedSecret, context)).toBe(secret);
    expect(await caught(() => f.sealer.open(newKey.sealedSecret, { ...context, rotationId: 'other' }))).toBeInstanceOf(AwsRequestError);
    expect(await caught(() => f.sealer.open(newKey.sealedSecret, { ...context, purpose: 'sesSmtpPasswords' }))).toBeInstanceOf(AwsRequestError);
  });

  test('a crash after CreateAccessKey leaves an orphan that the re-run deletes first', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(createKey(f.deps, plan)).rejects.toBeInstanceOf(SimulatedCrash);
    const orphan = f.directory.keysOf(USER).find((k) => !plan.snapshot.includes(k.accessKeyId));

    // Act
    const newKey = await createKey(f.deps, plan);

    // Assess
    expect(orphan).toBeDefined();
    expect(newKey.accessKeyId).not.toBe(orphan?.accessKeyId);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual([...plan.snapshot, newKey.accessKeyId]);
  });

  test('a crash while sealing is cleaned up the same way', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    f.faults.inject('kms:Encrypt');
    await expect(createKey(f.deps, plan)).rejects.toBeInstanceOf(SimulatedCrash);

    // Act
    const newKey = await createKey(f.deps, plan);

    // Assess
    expect(f.directory.keysOf(USER)).toHaveLength(2);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toContain(newKey.accessKeyId);
  });

  test('never deletes a snapshot key, and says so when the stale key was not purged', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Inactive'] });
    const plan = await makePlan(f);

    // Act
    const error = await caught(() => createKey(f.deps, plan));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
    expect(f.directory.keysOf(USER)).toHaveLength(2);
  });

  test('refuses without the lock', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    f.clock.advance(Date.parse(plan.lockExpiresAt) - f.clock.now().getTime() + 1000);
    await makePlan(f, secretsManagerInput(), 'rotation-2');

    // Act
    const error = await caught(() => createKey(f.deps, plan));

    // Assess
    expect(error).toBeInstanceOf(RotationLockLostError);
    expect(f.log.awsChanges()).toEqual([]);
  });
});

describe('deriveSmtpPasswords', () => {
  test('derives one password per region, sealed to this rotation and key', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: ['us-east-1', 'eu-west-1'] }));
    const newKey = await createKey(f.deps, plan);
    const secret = secretOf(f, newKey.accessKeyId);

    // Act
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);

    // Assess
    expect(smtp.regions).toEqual(['us-east-1', 'eu-west-1']);
    const opened = await f.sealer.open(smtp.sealedPasswords as string, {
      rotationId: 'rotation-1',
      accessKeyId: newKey.accessKeyId,
      purpose: 'sesSmtpPasswords',
    });
    expect(JSON.parse(opened)).toEqual({
      'us-east-1': deriveSmtpPasswordV4(secret, 'us-east-1'),
      'eu-west-1': deriveSmtpPasswordV4(secret, 'eu-west-1'),
    });
  });

  test('without regions there is nothing to seal', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: [] }));
    const newKey = await createKey(f.deps, plan);

    // Act
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);

    // Assess
    expect(smtp).toEqual({ regions: [], sealedPasswords: null });
  });

  test('a sealed secret of another rotation does not open', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);

    // Act
    const error = await caught(() => deriveSmtpPasswords(f.deps, { ...plan, rotationId: 'someone-else' }, newKey));

    // Assess
    expect(error).toBeInstanceOf(AwsRequestError);
  });
});

describe('openSmtpPasswords', () => {
  // Sealed under the right context, so they open; what they open to is not the password map.
  const corruptions: Array<[string, (password: string) => string]> = [
    ['JSON cut short', (password) => `{"us-east-1":"${password}`],
    ['text that is not JSON', (password) => `us-east-1=${password}`],
    ['a JSON array', (password) => JSON.stringify([password])],
    ['JSON null', () => 'null'],
  ];

  test.each(corruptions)('a sealed value that opens to %s fails with a fixed ValidationError quoting none of it', async (_name, corrupt) => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: ['us-east-1'] }));
    const newKey = await createKey(f.deps, plan);
    const password = deriveSmtpPasswordV4(secretOf(f, newKey.accessKeyId), 'us-east-1');
    const context = { rotationId: plan.rotationId, accessKeyId: newKey.accessKeyId, purpose: 'sesSmtpPasswords' };
    const smtp = { regions: ['us-east-1'], sealedPasswords: await f.sealer.seal(corrupt(password), context) };

    // Act
    const error = await caught(() => openSmtpPasswords(f.deps, plan, newKey, smtp));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('smtp');
    expect(error.message).toBe('invalid smtp: the sealed SMTP passwords are not a JSON object of region to password; the sealed value is corrupt');
    expect(error.message).not.toContain(password);
    expect(error.cause).toBeUndefined();
  });

  test('StoreSecret fails the same way on a corrupt sealed value and stores nothing', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: ['us-east-1'] }));
    const newKey = await createKey(f.deps, plan);
    const context = { rotationId: plan.rotationId, accessKeyId: newKey.accessKeyId, purpose: 'sesSmtpPasswords' };
    const smtp = { regions: ['us-east-1'], sealedPasswords: await f.sealer.seal(secretOf(f, newKey.accessKeyId), context) };
    const changesBefore = f.log.awsChanges().length;

    // Act
    const error = await caught(() => storeSecret(f.deps, plan, newKey, smtp));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).not.toContain(secretOf(f, newKey.accessKeyId));
    expect(f.log.awsChanges()).toHaveLength(changesBefore);
  });
});

describe('storeSecret', () => {
  test('stores keyrotate\'s JSON as AWSPENDING under the rotation\'s token; AWSCURRENT is untouched', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: ['eu-west-1', 'us-east-1'] }));
    const newKey = await createKey(f.deps, plan);
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
    const currentBefore = f.secrets.valueAt(SECRET, 'AWSCURRENT');

    // Act
    const delivery = await storeSecret(f.deps, plan, newKey, smtp);

    // Assess
    expect(delivery).toEqual({ type: 'secretsManager', secretArn: expect.stringMatching(/^arn:aws:secretsmanager:/), secretVersionId: TOKEN });
    const secret = secretOf(f, newKey.accessKeyId);
    const stored = parseSecretValue(f.secrets.valueAt(SECRET, 'AWSPENDING') as string, SECRET);
    expect(stored).toEqual({
      kind: 'full',
      value: {
        userName: USER,
        accessKeyId: newKey.accessKeyId,
        secretAccessKey: secret,
        sesSmtpPasswordV4: deriveSmtpPasswordV4(secret, 'eu-west-1'),
        sesSmtpRegion: 'eu-west-1',
        sesSmtpPasswords: { 'eu-west-1': deriveSmtpPasswordV4(secret, 'eu-west-1'), 'us-east-1': deriveSmtpPasswordV4(secret, 'us-east-1') },
        createDate: '2026-03-02T09:00:00Z',
      },
    });
    expect(f.secrets.valueAt(SECRET, 'AWSCURRENT')).toBe(currentBefore);
  });

  test('without regions the value holds no SMTP password', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: [] }));
    const newKey = await createKey(f.deps, plan);

    // Act
    await storeSecret(f.deps, plan, newKey);

    // Assess
    const stored = JSON.parse(f.secrets.valueAt(SECRET, 'AWSPENDING') as string) as Record<string, unknown>;
    expect(stored.sesSmtpPasswords).toEqual({});
    expect(stored).not.toHaveProperty('sesSmtpPasswordV4');
  });

  test('a re-run, and a re-run after a crash past PutSecretValue, converge on one version', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
    f.faults.inject('secrets:PutSecretValue', { when: 'after' });
    await expect(storeSecret(f.deps, plan, newKey, smtp)).rejects.toBeInstanceOf(SimulatedCrash);

    // Act
    const second = await storeSecret(f.deps, plan, newKey, smtp);
    const third = await storeSecret(f.deps, plan, newKey, smtp);

    // Assess
    expect(second).toEqual(third);
    expect(Object.keys(f.secrets.stagesOf(SECRET))).toHaveLength(2);
    expect(f.log.awsChanges().filter((c) => c.startsWith('secrets:PutSecretValue'))).toHaveLength(1);
  });

  test('fails when the regions were planned but no passwords were derived', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);

    // Act
    const error = await caught(() => storeSecret(f.deps, plan, newKey));

    // Assess
    expect((error as ValidationError).field).toBe('smtp');
    expect(f.secrets.valueAt(SECRET, 'AWSPENDING')).toBeNull();
  });

  test('fails when the secret was handed to another user since Plan', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: [] }));
    const newKey = await createKey(f.deps, plan);
    f.secrets.putVersion(SECRET, JSON.stringify({ userName: 'payroll' }));

    // Act
    const error = await caught(() => storeSecret(f.deps, plan, newKey));

    // Assess
    expect(error).toBeInstanceOf(SecretMismatchError);
    expect(f.secrets.valueAt(SECRET, 'AWSPENDING')).toBeNull();
  });

  test('refuses a pgp plan', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });
    const plan = await makePlan(f, pgpInput('keybase:alice', { sesSmtpRegions: [] }));
    const newKey = await createKey(f.deps, plan);

    // Act
    const error = await caught(() => storeSecret(f.deps, plan, newKey));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
  });
});

describe('encryptForPgp', () => {
  let privateKey: openpgp.PrivateKey;
  let armoredPublicKey: string;

  beforeAll(async () => {
    const generated = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'keyrotate test', email: 'test@example.com' }],
      date: new Date(START_TIME.getTime() - 86_400_000),
      format: 'object',
    });
    privateKey = generated.privateKey;
    armoredPublicKey = generated.publicKey.armor();
  });

  async function decrypt(base64: string): Promise<string> {
    const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(base64, 'base64')) });
    const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary', date: START_TIME });
    return Buffer.from(data as Uint8Array).toString('utf8');
  }

  test('encrypts the secret and every SMTP password to the key, Terraform\'s output shape', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });
    const plan = await makePlan(f, pgpInput(armoredPublicKey, { sesSmtpRegions: ['us-east-1', 'eu-west-1'] }));
    const newKey = await createKey(f.deps, plan);
    const smtp = await deriveSmtpPasswords(f.deps, plan, newKey);
    const secret = secretOf(f, newKey.accessKeyId);

    // Act
    const delivery = await encryptForPgp(f.deps, plan, newKey, smtp);

    // Assess
    if (delivery.type !== 'pgp') throw new Error('expected pgp delivery');
    expect(delivery.keyFingerprint).toBe(privateKey.getFingerprint());
    expect(await decrypt(delivery.encryptedSecret)).toBe(secret);
    expect(await decrypt(delivery.encryptedSesSmtpPasswordV4 as string)).toBe(deriveSmtpPasswordV4(secret, 'us-east-1'));
    expect(Object.keys(delivery.encryptedSesSmtpPasswords)).toEqual(['us-east-1', 'eu-west-1']);
    expect(await decrypt(delivery.encryptedSesSmtpPasswords['eu-west-1'] as string)).toBe(deriveSmtpPasswordV4(secret, 'eu-west-1'));
    expect(JSON.stringify(delivery)).not.toContain(secret);
  });

  test('fetches github: keys through the port; without regions the SMTP fields are empty', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });
    f.pgpFetcher.pages.set('https://github.com/alice.gpg', armoredPublicKey);
    const plan = await makePlan(f, pgpInput('github:alice', { sesSmtpRegions: [] }));
    const newKey = await createKey(f.deps, plan);

    // Act
    const delivery = await encryptForPgp(f.deps, plan, newKey);

    // Assess
    expect(f.pgpFetcher.fetched).toEqual(['https://github.com/alice.gpg']);
    expect(delivery).toMatchObject({ type: 'pgp', encryptedSesSmtpPasswordV4: null, encryptedSesSmtpPasswords: {} });
  });

  test('refuses a Secrets Manager plan', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);

    // Act
    const error = await caught(() => encryptForPgp(f.deps, plan, newKey));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
  });
});

describe('verifyNewKey', () => {
  test('retries with growing, jittered waits until IAM propagation lets the key through', async () => {
    // Prepare
    const f = fixture({ propagationDelayMs: 7000 });
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);

    // Act
    const result = await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });

    // Assess
    expect(result.callerArn).toBe(f.userArn);
    expect(result.attempts).toBe(f.clock.sleeps.length + 1);
    expect(result.attempts).toBeGreaterThan(2);
    f.clock.sleeps.forEach((ms, i) => {
      const ceiling = Math.min(8000, 1000 * 2 ** i);
      expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms).toBeLessThanOrEqual(ceiling);
    });
  });

  test('answers at once for a key STS already knows', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);

    // Act
    const result = await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });

    // Assess
    expect(result).toEqual({ callerArn: f.userArn, attempts: 1 });
    expect(f.clock.sleeps).toEqual([]);
  });

  test('gives up with KeyNotPropagatedError (retried by the state machine) when the deadline passes', async () => {
    // Prepare
    const f = fixture({ propagationDelayMs: 60_000 });
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);
    const start = f.clock.now().getTime();

    // Act
    const error = await caught(() => verifyNewKey(f.deps, plan, newKey, { deadlineMs: 10_000 }));

    // Assess
    expect(error).toBeInstanceOf(KeyNotPropagatedError);
    expect(f.clock.now().getTime() - start).toBeLessThanOrEqual(10_000);
  });

  test('fails when the key signs in as someone else', async () => {
    // Prepare
    const f = fixture();
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);

    // Act
    const error = await caught(() =>
      verifyNewKey(f.deps, { ...plan, userArn: 'arn:aws:iam::123456789012:user/other' }, newKey, { deadlineMs: 5000 }),
    );

    // Assess
    expect(error).toBeInstanceOf(VerificationFailedError);
  });

  test("records the delivery (new key, the old key it replaces, the rotation) once the key is verified", async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);
    const recordedBefore = await f.lock.deliveryRecord(USER);

    // Act
    const result = await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });

    // Assess
    expect(recordedBefore).toBeNull();
    expect(result).not.toHaveProperty('warnings');
    expect(await f.lock.deliveryRecord(USER)).toEqual({
      accessKeyId: newKey.accessKeyId,
      replacedAccessKeyId: plan.oldAccessKeyId,
      rotationId: 'rotation-1',
      at: f.clock.now(),
    });
  });

  test('records nothing when the key does not verify', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);

    // Act
    await caught(() => verifyNewKey(f.deps, { ...plan, userArn: 'arn:aws:iam::123456789012:user/other' }, newKey, { deadlineMs: 5000 }));

    // Assess
    expect(await f.lock.deliveryRecord(USER)).toBeNull();
  });

  test.each([
    ['a first rotation (no old key)', [] as const, {}],
    ['newKeyStatus Inactive (the old key stays the working one)', ['Active'] as const, { newKeyStatus: 'Inactive' }],
  ])('records nothing for %s: no key is replaced', async (_name, keys, extra) => {
    // Prepare
    const f = fixture({ keys: [...keys] });
    const plan = await makePlan(f, pgpInput('keybase:alice', { sesSmtpRegions: [], ...extra }));
    const newKey = await createKey(f.deps, plan);

    // Act
    await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });

    // Assess
    expect(await f.lock.deliveryRecord(USER)).toBeNull();
  });

  test('a rotation that lost the lock writes no record and says so in a warning, but the key is verified', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f);
    const newKey = await createKey(f.deps, plan);
    f.clock.advanceSeconds(86_400 * 2);
    await f.lock.acquire(USER, 'rotation-other', new Date(f.clock.now().getTime() + 3_600_000));

    // Act
    const result = await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 });

    // Assess
    expect(result).toMatchObject({ callerArn: f.userArn, warnings: [expect.stringContaining('RotationLockLostError')] });
    expect(await f.lock.deliveryRecord(USER)).toBeNull();
  });
});

describe('promoteSecret', () => {
  test('moves AWSCURRENT to the new version (the old one becomes AWSPREVIOUS) and drops AWSPENDING', async () => {
    // Prepare
    const f = fixture();
    const { plan, delivery } = await throughStore(f);
    const [previous] = Object.entries(f.secrets.stagesOf(SECRET)).find(([, stages]) => stages.includes('AWSCURRENT')) ?? [];

    // Act
    const result = await promoteSecret(f.deps, plan, delivery);

    // Assess
    expect(result).toEqual({ secretVersionId: TOKEN, previousVersionId: previous });
    expect(f.secrets.stagesOf(SECRET)).toEqual({ [TOKEN]: ['AWSCURRENT'], [previous as string]: ['AWSPREVIOUS'] });
  });

  test('a re-run, and a re-run after a crash between the two label changes, converge', async () => {
    // Prepare
    const f = fixture();
    const { plan, delivery } = await throughStore(f);
    f.faults.inject('secrets:UpdateSecretVersionStage', { when: 'after' });
    await expect(promoteSecret(f.deps, plan, delivery)).rejects.toBeInstanceOf(SimulatedCrash);
    const afterCrash = f.secrets.stagesOf(SECRET)[TOKEN];

    // Act
    const second = await promoteSecret(f.deps, plan, delivery);
    const third = await promoteSecret(f.deps, plan, delivery);

    // Assess
    expect(afterCrash).toEqual(['AWSPENDING', 'AWSCURRENT']);
    expect(second).toEqual(third);
    expect(f.secrets.stagesOf(SECRET)[TOKEN]).toEqual(['AWSCURRENT']);
  });

  test('a first value has no previous version', async () => {
    // Prepare
    const f = fixture({ keys: [], secret: 'empty' });
    const { plan, delivery } = await throughStore(f);

    // Act
    const result = await promoteSecret(f.deps, plan, delivery);

    // Assess
    expect(result).toEqual({ secretVersionId: TOKEN, previousVersionId: null });
  });

  test('refuses a delivery of another rotation', async () => {
    // Prepare
    const f = fixture();
    const { plan, delivery } = await throughStore(f);

    // Act
    const error = await caught(() =>
      promoteSecret(f.deps, plan, { ...delivery, secretVersionId: clientRequestTokenFor('other') } as DeliveryResult),
    );

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(f.secrets.stagesOf(SECRET)[TOKEN]).toEqual(['AWSPENDING']);
  });
});

describe('retireOldKey', () => {
  async function delivered(f: Fixture, input = secretsManagerInput()) {
    const stored = await throughStore(f, input);
    await promoteSecret(f.deps, stored.plan, stored.delivery);
    return stored;
  }

  test('deactivate sets the old key Inactive, idempotently', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f);
    const old = plan.oldAccessKeyId as string;

    // Act
    const first = await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });
    const again = await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });

    // Assess
    const expected = { oldKey: { accessKeyId: old, status: 'Inactive' }, newKey: { accessKeyId: newKey.accessKeyId, status: 'Active' } };
    expect(first).toEqual(expected);
    expect(again).toEqual(expected);
    expect(f.log.awsChanges().filter((c) => c.startsWith('iam:UpdateAccessKey'))).toEqual([`iam:UpdateAccessKey ${USER} ${old} Inactive`]);
  });

  test('deactivate refuses while the secret does not serve the new key yet (guarantee: verified before retired)', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await throughStore(f);

    // Act
    const error = await caught(() => retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery }));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
    expect(f.directory.keysOf(USER).every((k) => k.status === 'Active')).toBe(true);
  });

  test('deactivate refuses when the new key stopped working', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f);
    f.directory.forceStatus(newKey.accessKeyId, 'Inactive');

    // Act
    const error = await caught(() => retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery }));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
    expect(f.directory.lookup(plan.oldAccessKeyId as string)?.status).toBe('Active');
  });

  test('requireUnusedSeconds: recently used → retry later; silent long enough → deactivate', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f, secretsManagerInput({ oldKey: { requireUnusedSeconds: 3600 } }));
    const old = plan.oldAccessKeyId as string;
    f.directory.setLastUsed(old, new Date(f.clock.now().getTime() - 60_000));

    // Act
    const early = await caught(() => retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery }));
    f.clock.advanceSeconds(3600);
    const later = await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });

    // Assess
    expect(early).toBeInstanceOf(OldKeyRecentlyUsedError);
    expect(early.message).toMatch(/last used at .* waiting until/);
    expect(later.oldKey).toEqual({ accessKeyId: old, status: 'Inactive' });
  });

  test('requireUnusedSeconds: still in use past the budget → OldKeyInUseError, both keys stay Active', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f, secretsManagerInput({ oldKey: { requireUnusedSeconds: 600 } }));
    const old = plan.oldAccessKeyId as string;
    f.clock.advanceSeconds(600 + 3600);
    f.directory.setLastUsed(old, f.clock.now());

    // Act
    const error = await caught(() => retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery }));

    // Assess
    expect(error).toBeInstanceOf(OldKeyInUseError);
    expect(f.directory.keysOf(USER).every((k) => k.status === 'Active')).toBe(true);
  });

  test('requireUnusedSeconds: a never-used old key is deactivated at once', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f, secretsManagerInput({ oldKey: { requireUnusedSeconds: 600 } }));

    // Act
    const result = await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });

    // Assess
    expect(result.oldKey?.status).toBe('Inactive');
  });

  test('finish deletes the old key, releases the lock and reports Terraform\'s attributes; a re-run converges', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f);
    await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });

    // Act
    const output = await retireOldKey(f.deps, { step: 'finish', plan, newKey, delivery });
    const again = await retireOldKey(f.deps, { step: 'finish', plan, newKey, delivery });

    // Assess
    expect(output).toEqual({
      id: newKey.accessKeyId,
      userName: USER,
      status: 'Active',
      createDate: newKey.createDate,
      sesSmtpRegions: ['eu-west-1'],
      secretArn: expect.stringMatching(/^arn:aws:secretsmanager:.*:secret:keyrotate\/loadbalancer-/),
      secretVersionId: TOKEN,
      previousKey: { id: plan.oldAccessKeyId, action: 'deleted' },
      rotationId: 'rotation-1',
    });
    expect(again).toEqual(output);
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: newKey.accessKeyId, status: 'Active' }]);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('finish with action deactivate keeps the old key Inactive', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f, secretsManagerInput({ oldKey: { action: 'deactivate' } }));
    await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });

    // Act
    const output = await retireOldKey(f.deps, { step: 'finish', plan, newKey, delivery });

    // Assess
    expect(output.previousKey).toEqual({ id: plan.oldAccessKeyId, action: 'deactivated' });
    expect(f.directory.lookup(plan.oldAccessKeyId as string)?.status).toBe('Inactive');
  });

  test('finish keeps an old key someone re-activated during the deletion delay', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f);
    await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });
    f.directory.forceStatus(plan.oldAccessKeyId as string, 'Active');

    // Act
    const error = await caught(() => retireOldKey(f.deps, { step: 'finish', plan, newKey, delivery }));

    // Assess
    expect(error).toBeInstanceOf(KeyStateConflictError);
    expect(f.directory.keysOf(USER)).toHaveLength(2);
  });

  test('a first rotation has nothing to retire', async () => {
    // Prepare
    const f = fixture({ keys: [], secret: 'seed' });
    const { plan, newKey, delivery } = await delivered(f);

    // Act
    const deactivated = await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });
    const output = await retireOldKey(f.deps, { step: 'finish', plan, newKey, delivery });

    // Assess
    expect(deactivated.oldKey).toBeNull();
    expect(output.previousKey).toBeNull();
  });

  test('newKeyStatus Inactive: the new key is made Inactive after verification and the old key kept', async () => {
    // Prepare
    const f = fixture({ secret: 'absent' });
    const plan = await makePlan(f, pgpInput('keybase:alice', { newKeyStatus: 'Inactive', sesSmtpRegions: [] }));
    const newKey = await createKey(f.deps, plan);
    await verifyNewKey(f.deps, plan, newKey, { deadlineMs: 1000 });
    const delivery: DeliveryResult = { type: 'pgp', encryptedSecret: 'x', encryptedSesSmtpPasswordV4: null, encryptedSesSmtpPasswords: {}, keyFingerprint: 'f' };

    // Act
    const deactivated = await retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery });
    const output = await retireOldKey(f.deps, { step: 'finish', plan, newKey, delivery });

    // Assess
    expect(deactivated).toEqual({
      oldKey: { accessKeyId: plan.oldAccessKeyId, status: 'Active' },
      newKey: { accessKeyId: newKey.accessKeyId, status: 'Inactive' },
    });
    expect(output.status).toBe('Inactive');
    expect(output.previousKey).toEqual({ id: plan.oldAccessKeyId, action: 'kept' });
    expect(f.directory.lookup(plan.oldAccessKeyId as string)?.status).toBe('Active');
  });

  test('fails on an unknown step', async () => {
    // Prepare
    const f = fixture();
    const { plan, newKey, delivery } = await delivered(f);

    // Act
    const error = await caught(() => retireOldKey(f.deps, { step: 'delete' as 'finish', plan, newKey, delivery }));

    // Assess
    expect((error as ValidationError).field).toBe('step');
  });
});

describe('rollBack', () => {
  test('deletes the new key and any orphan, never a snapshot key; withdraws AWSPENDING; releases the lock', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const { plan, newKey, delivery } = await throughStore(f);

    // Act
    const result = await rollBack(f.deps, { mode: 'rollback', plan, newKey, delivery, error: { Error: 'KeyNotPropagatedError' } });

    // Assess
    expect(result).toEqual({ deletedKeys: [newKey.accessKeyId], withdrawnVersion: TOKEN });
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual(plan.snapshot);
    expect(f.secrets.stagesOf(SECRET)[TOKEN]).toBeUndefined();
    expect(f.secrets.valueAt(SECRET, 'AWSCURRENT')).toContain(plan.oldAccessKeyId as string);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('finds keys from the snapshot when CreateKey crashed before returning one; a re-run converges', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f);
    f.faults.inject('iam:CreateAccessKey', { when: 'after' });
    await expect(createKey(f.deps, plan)).rejects.toBeInstanceOf(SimulatedCrash);

    // Act
    const first = await rollBack(f.deps, { mode: 'rollback', plan });
    const again = await rollBack(f.deps, { mode: 'rollback', plan });

    // Assess
    expect(first.deletedKeys).toHaveLength(1);
    expect(again).toEqual({ deletedKeys: [], withdrawnVersion: null });
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).toEqual(plan.snapshot);
  });

  test('withdraws a version stored by a StoreSecret that crashed before returning', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan = await makePlan(f, secretsManagerInput({ sesSmtpRegions: [] }));
    const newKey = await createKey(f.deps, plan);
    f.faults.inject('secrets:PutSecretValue', { when: 'after' });
    await expect(storeSecret(f.deps, plan, newKey)).rejects.toBeInstanceOf(SimulatedCrash);

    // Act
    const result = await rollBack(f.deps, { mode: 'rollback', plan, newKey });

    // Assess
    expect(result.withdrawnVersion).toBe(TOKEN);
    expect(f.secrets.valueAt(SECRET, 'AWSPENDING')).toBeNull();
  });

  test('rolls nothing back once the new version is AWSCURRENT (consumers may use it)', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const { plan, newKey, delivery } = await throughStore(f);
    await promoteSecret(f.deps, plan, delivery);

    // Act
    const result = await rollBack(f.deps, { mode: 'rollback', plan, newKey, delivery });

    // Assess
    expect(result).toEqual({ deletedKeys: [], withdrawnVersion: null });
    expect(f.directory.keysOf(USER)).toHaveLength(2);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('release mode only releases the lock', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const { plan, newKey, delivery } = await throughStore(f);

    // Act
    const result = await rollBack(f.deps, { mode: 'release', plan, newKey, delivery });

    // Assess
    expect(result).toEqual({ deletedKeys: [], withdrawnVersion: null });
    expect(f.directory.keysOf(USER)).toHaveLength(2);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('deletes nothing when another rotation holds the user', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const { plan, newKey } = await throughStore(f);
    await f.lock.release(USER, plan.rotationId);
    await f.lock.acquire(USER, 'rotation-2', new Date(f.clock.now().getTime() + 60_000));

    // Act
    const error = await caught(() => rollBack(f.deps, { mode: 'rollback', plan, newKey }));

    // Assess
    expect(error).toBeInstanceOf(RotationLockLostError);
    expect(f.directory.keysOf(USER)).toHaveLength(2);
    expect((await f.lock.holder(USER))?.owner).toBe('rotation-2');
  });

  test('a deleted secret does not stop the key clean-up', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const plan: RotationPlan = { ...(await makePlan(f)), delivery: { type: 'secretsManager', secretId: 'gone' } };
    const newKey: NewKeyRef = await createKey(f.deps, plan);

    // Act
    const result = await rollBack(f.deps, { mode: 'rollback', plan, newKey });

    // Assess
    expect(result).toEqual({ deletedKeys: [newKey.accessKeyId], withdrawnVersion: null });
  });
});

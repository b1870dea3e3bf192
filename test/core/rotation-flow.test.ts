/**
 * Whole rotations, step after step in the state machine's order (docs/internals.md), with the
 * in-memory account, plus the sentinel test of guarantee "no plaintext secrets".
 */
import * as openpgp from 'openpgp';
import { SES_SMTP_REGIONS } from '../../lambdas/core/ses-regions';
import {
  createKey,
  deriveSmtpPasswords,
  encryptForPgp,
  promoteSecret,
  purgeStaleKey,
  retireOldKey,
  rollBack,
  storeSecret,
  verifyNewKey,
} from '../../lambdas/core/rotation';
import { rotateSecretStep } from '../../lambdas/core/secrets-manager-rotation';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import type { RotationPlan } from '../../lambdas/core/types';
import { START_TIME } from '../helpers/memory-adapters';
import { type Fixture, SECRET, USER, fixture, makePlan, pgpInput, secretsManagerInput } from './fixtures';

let armoredPublicKey: string;

beforeAll(async () => {
  const generated = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'keyrotate flow test' }],
    date: new Date(START_TIME.getTime() - 86_400_000),
    format: 'object',
  });
  armoredPublicKey = generated.publicKey.armor();
});

/** Records every value a step returns and every error it throws, as Step Functions would. */
class Recorder {
  readonly outputs: string[] = [];

  async run<T>(act: () => Promise<T>): Promise<T> {
    try {
      const result = await act();
      this.outputs.push(JSON.stringify(result) ?? 'undefined');
      return result;
    } catch (error) {
      this.outputs.push(`${(error as Error).name}: ${(error as Error).message}`);
      throw error;
    }
  }

  /**
   * Runs a step twice (a re-run must converge) and returns the second result. `view` picks what
   * must be equal: sealing is randomised, as KMS ciphertext is.
   */
  async twice<T>(act: () => Promise<T>, view: (result: T) => unknown = (r) => r): Promise<T> {
    const first = await this.run(act);
    const second = await this.run(act);
    expect(view(second)).toEqual(view(first));
    return second;
  }
}

/** The state machine's happy path; every step invoked twice. */
async function rotateWithStateMachine(f: Fixture, input: Record<string, unknown>, recorder: Recorder, rotationId = 'rotation-1') {
  const plan: RotationPlan = await recorder.twice(() => makePlan(f, input, rotationId));
  if (plan.staleAccessKeyId !== null) await recorder.run(() => purgeStaleKey(f.deps, plan));
  const newKey = await recorder.run(() => createKey(f.deps, plan)); // not twice: a re-run replaces an unreturned key
  await recorder.run(() => createKey(f.deps, plan)).then((again) => {
    // The second call's key is the one the state machine would carry on with.
    Object.assign(newKey, again);
  });
  const smtp = plan.sesSmtpRegions.length > 0 ? await recorder.twice(() => deriveSmtpPasswords(f.deps, plan, newKey), (r) => r.regions) : undefined;
  const delivery =
    plan.delivery.type === 'pgp'
      ? await recorder.run(() => encryptForPgp(f.deps, plan, newKey, smtp))
      : await recorder.twice(() => storeSecret(f.deps, plan, newKey, smtp));
  const verification = await recorder.twice(() => verifyNewKey(f.deps, plan, newKey, { deadlineMs: 20_000 }), (r) => r.callerArn);
  if (delivery.type === 'secretsManager') await recorder.twice(() => promoteSecret(f.deps, plan, delivery));
  f.clock.advanceSeconds(plan.oldKey.gracePeriodSeconds);
  await recorder.twice(() => retireOldKey(f.deps, { step: 'deactivate', plan, newKey, delivery }));
  f.clock.advanceSeconds(plan.oldKey.deletionDelaySeconds);
  const output = await recorder.twice(() => retireOldKey(f.deps, { step: 'finish', plan, newKey, delivery }));
  return { plan, newKey, delivery, verification, output };
}

describe('a whole rotation', () => {
  test('Secrets Manager delivery: consumers get the new key, the old one is gone, nothing leaks', async () => {
    // Prepare
    const f = fixture({ keys: ['Active', 'Inactive'], propagationDelayMs: 8000 });
    const [old, stale] = f.existing;
    const recorder = new Recorder();

    // Act
    const { output, verification } = await rotateWithStateMachine(
      f,
      secretsManagerInput({ sesSmtpRegions: ['eu-west-1', 'us-east-1'], oldKey: { gracePeriodSeconds: 300, deletionDelaySeconds: 600 } }),
      recorder,
    );

    // Assess
    expect(verification.callerArn).toBe(f.userArn);
    expect(output).toMatchObject({ userName: USER, status: 'Active', sesSmtpRegions: ['eu-west-1', 'us-east-1'], previousKey: { id: old?.accessKeyId, action: 'deleted' } });
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: output.id, status: 'Active' }]);
    expect(f.directory.keysOf(USER).map((k) => k.accessKeyId)).not.toContain(stale?.accessKeyId);
    const current = JSON.parse(f.secrets.valueAt(SECRET, 'AWSCURRENT') as string) as { accessKeyId: string; secretAccessKey: string };
    expect(current.accessKeyId).toBe(output.id);
    expect(await f.verifier.callerArn(current.accessKeyId, current.secretAccessKey)).toBe(f.userArn);
    expect(await f.lock.holder(USER)).toBeNull();
  });

  test('pgp delivery: Terraform\'s encrypted outputs, old key deactivated', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], secret: 'absent' });
    const recorder = new Recorder();

    // Act
    const { output } = await rotateWithStateMachine(f, pgpInput(armoredPublicKey, { oldKey: { action: 'deactivate' } }), recorder);

    // Assess
    expect(output).toMatchObject({
      status: 'Active',
      encryptedSecret: expect.any(String),
      encryptedSesSmtpPasswordV4: expect.any(String),
      encryptedSesSmtpPasswords: { 'eu-west-1': expect.any(String) },
      keyFingerprint: expect.stringMatching(/^[0-9a-f]{40}$/),
      previousKey: { id: f.existing[0]?.accessKeyId, action: 'deactivated' },
    });
    expect(f.directory.keysOf(USER).map((k) => k.status)).toEqual(['Inactive', 'Active']);
  });

  test('the next rotation picks up where the last one left the user', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'] });
    const recorder = new Recorder();
    const first = await rotateWithStateMachine(f, secretsManagerInput({ oldKey: { action: 'deactivate' } }), recorder, 'rotation-1');

    // Act
    const second = await rotateWithStateMachine(f, secretsManagerInput(), recorder, 'rotation-2');

    // Assess
    expect(second.plan.staleAccessKeyId).toBe(first.plan.oldAccessKeyId);
    expect(second.plan.oldAccessKeyId).toBe(first.output.id);
    expect(f.directory.keysOf(USER)).toEqual([{ accessKeyId: second.output.id, status: 'Active' }]);
  });
});

describe('guarantee: no plaintext secrets (sentinel)', () => {
  test('no secret access key or SMTP password appears in any step output or error message', async () => {
    // Prepare
    const f = fixture({ keys: ['Active'], propagationDelayMs: 3000 });
    const recorder = new Recorder();
    const swallow = (p: Promise<unknown>) => p.catch(() => undefined);

    // Act: both deliveries, the Secrets Manager rotation, and failure paths (in an order the
    // user's state allows: the pgp rotation retires the key the secret names, so it comes last).
    await rotateWithStateMachine(f, secretsManagerInput({ sesSmtpRegions: ['eu-west-1', 'us-east-1'] }), recorder, 'rotation-sm');
    f.secrets.startRotation(SECRET, '11111111-2222-4333-8444-555555555555');
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await recorder.run(() => rotateSecretStep(f.deps, { step, secretId: SECRET, token: '11111111-2222-4333-8444-555555555555' }, {
        scope: { userNames: [USER] }, oldKeyAction: 'delete', lockSeconds: 3600, verifyDeadlineMs: 20_000, defaultSesSmtpRegions: ['eu-west-1'],
      }));
    }
    // Failures after secrets exist: a verification that cannot succeed, a wrong-context open, a rollback.
    const failing = await recorder.run(() => makePlan(f, secretsManagerInput(), 'rotation-fail'));
    const newKey = await recorder.run(() => createKey(f.deps, failing));
    const smtp = await recorder.run(() => deriveSmtpPasswords(f.deps, failing, newKey));
    await recorder.run(() => storeSecret(f.deps, failing, newKey, smtp));
    await swallow(recorder.run(() => verifyNewKey(f.deps, { ...failing, userArn: 'arn:aws:iam::123456789012:user/x' }, newKey, { deadlineMs: 5000 })));
    await swallow(recorder.run(() => deriveSmtpPasswords(f.deps, { ...failing, rotationId: 'other' }, newKey)));
    await swallow(recorder.run(() => retireOldKey(f.deps, { step: 'deactivate', plan: failing, newKey, delivery: { type: 'secretsManager', secretArn: 'a', secretVersionId: 'b' } })));
    await recorder.run(() => rollBack(f.deps, { mode: 'rollback', plan: failing, newKey }));
    await rotateWithStateMachine(f, pgpInput(armoredPublicKey, { sesSmtpRegions: ['eu-west-1'] }), recorder, 'rotation-pgp');
    await swallow(recorder.run(() => makePlan(f, secretsManagerInput({ oldAccessKeyId: f.directory.allSecrets()[0] }), 'rotation-bad-input')));

    // Assess
    const secrets = f.directory.allSecrets();
    const passwords = secrets.flatMap((s) => SES_SMTP_REGIONS.map((region) => deriveSmtpPasswordV4(s, region)));
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    expect(recorder.outputs.length).toBeGreaterThan(40);
    const everything = recorder.outputs.join('\n');
    for (const value of [...secrets, ...passwords]) expect(everything).not.toContain(value);
    // The sentinel can see a leak: the stored secret holds them in plain text.
    expect(secrets.some((secret) => (f.secrets.valueAt(SECRET, 'AWSCURRENT') ?? '').includes(secret))).toBe(true);
  });
});

/**
 * Whole rotations on the local engine (the synthesized state machine, the bundled Lambdas) and
 * the embedded endpoint, for each trigger (on demand, a schedule's input, Secrets Manager
 * rotation) and each delivery (Secrets Manager, PGP).
 */
import * as openpgp from 'openpgp';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import type { LocalRotationEngine } from '../../local/engine/rotation-engine';
import {
  callerArn,
  createSecret,
  currentSecret,
  expectNoLeak,
  keysOf,
  localAwsOf,
  startEngine,
  succeeded,
  userWithUsedKey,
} from './helpers';

jest.setTimeout(120_000);

describe('whole rotations, per trigger and delivery', () => {
  let engine: LocalRotationEngine;
  /** Every secret value the tests saw: none may appear in logs, history or outputs. */
  const secrets = new Set<string>();
  /** Execution histories and outputs, for the leak scan. */
  const texts: string[] = [];

  beforeAll(async () => {
    engine = await startEngine();
  });

  afterAll(async () => {
    await engine?.stop();
  });

  async function run(input: unknown) {
    const result = await engine.run(input);
    texts.push(JSON.stringify(result.execution.history), JSON.stringify(result));
    return result;
  }

  it('on demand into Secrets Manager: one new key, stored, working, SMTP passwords derived, old key deleted', async () => {
    // Prepare
    const old = await userWithUsedKey(engine, 'ondemand');
    secrets.add(old.secretAccessKey);
    const secretArn = await createSecret(engine, 'ondemand/credentials');

    // Act
    const result = await run({
      userName: 'ondemand',
      delivery: { type: 'secretsManager', secretId: 'ondemand/credentials' },
      sesSmtpRegions: ['eu-west-1', 'us-east-1'],
    });

    // Assess
    const output = succeeded(result);
    expect(output).toMatchObject({
      userName: 'ondemand',
      status: 'Active',
      secretArn,
      sesSmtpRegions: ['eu-west-1', 'us-east-1'],
      previousKey: { id: old.accessKeyId, action: 'deleted' },
      rotationId: result.execution.name,
    });
    expect(keysOf(engine, 'ondemand')).toEqual([{ id: output.id, status: 'Active' }]);
    const stored = await currentSecret(engine, 'ondemand/credentials');
    secrets.add(stored.secretAccessKey);
    Object.values(stored.sesSmtpPasswords).forEach((p) => secrets.add(p));
    expect(stored).toMatchObject({ userName: 'ondemand', accessKeyId: output.id, sesSmtpRegion: 'eu-west-1' });
    expect(await callerArn(engine, stored)).toBe(`arn:aws:iam::${engine.accountId}:user/rotated/ondemand`);
    expect(stored.sesSmtpPasswords).toEqual({
      'eu-west-1': deriveSmtpPasswordV4(stored.secretAccessKey, 'eu-west-1'),
      'us-east-1': deriveSmtpPasswordV4(stored.secretAccessKey, 'us-east-1'),
    });
    expect(stored.sesSmtpPasswordV4).toBe(stored.sesSmtpPasswords['eu-west-1']);
    expect(result.stats).toMatchObject({ statesEntered: 14, stateTransitions: 14 });
    expect(result.execution.invocations.every((i) => i.report.peakRssBytes > 0)).toBe(true);
  });

  it('on demand to a PGP key: the output decrypts to a working key and its SMTP password; the old key is kept Inactive', async () => {
    // Prepare
    const old = await userWithUsedKey(engine, 'pgpuser');
    secrets.add(old.secretAccessKey);
    const { privateKey, publicKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'keyrotate test' }], format: 'armored' });
    const recipient = await openpgp.readKey({ armoredKey: publicKey });
    const decryptionKey = await openpgp.readPrivateKey({ armoredKey: privateKey });
    const decrypt = async (base64: string) => {
      const message = await openpgp.readMessage({ binaryMessage: Buffer.from(base64, 'base64') });
      const { data } = await openpgp.decrypt({ message, decryptionKeys: decryptionKey, format: 'utf8' });
      return String(data);
    };

    // Act
    const result = await run({
      userName: 'pgpuser',
      delivery: { type: 'pgp', pgpKey: publicKey },
      sesSmtpRegions: ['eu-west-1'],
      oldKey: { action: 'deactivate' },
    });

    // Assess
    const output = succeeded(result);
    expect(output).toMatchObject({ keyFingerprint: recipient.getFingerprint(), previousKey: { id: old.accessKeyId, action: 'deactivated' } });
    const secretAccessKey = await decrypt(String(output.encryptedSecret));
    const smtpPassword = await decrypt(String(output.encryptedSesSmtpPasswordV4));
    secrets.add(secretAccessKey);
    secrets.add(smtpPassword);
    expect(await callerArn(engine, { accessKeyId: String(output.id), secretAccessKey })).toBe(`arn:aws:iam::${engine.accountId}:user/rotated/pgpuser`);
    expect(smtpPassword).toBe(deriveSmtpPasswordV4(secretAccessKey, 'eu-west-1'));
    expect(keysOf(engine, 'pgpuser')).toEqual(
      [
        { id: String(output.id), status: 'Active' },
        { id: old.accessKeyId, status: 'Inactive' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it("on a schedule: the exact input the stack's schedule sends rotates the user into the stack's secret", async () => {
    // Prepare
    const old = await userWithUsedKey(engine, 'scheduled');
    secrets.add(old.secretAccessKey);
    const schedule = engine.schedules().find((s) => (s.input as { userName?: string }).userName === 'scheduled');
    if (!schedule) throw new Error('the stack has no schedule for user scheduled');

    // Act
    const result = await run(schedule.input);

    // Assess
    expect(schedule.scheduleExpression).toBe('rate(30 days)');
    expect(schedule.targetArn).toBe(engine.stateMachineArn);
    expect(schedule.input).toMatchObject({ delivery: { type: 'secretsManager', secretId: engine.secretArn('scheduled/credentials') } });
    const output = succeeded(result);
    expect(output).toMatchObject({ secretArn: engine.secretArn('scheduled/credentials'), previousKey: { id: old.accessKeyId, action: 'deleted' } });
    const stored = await currentSecret(engine, 'scheduled/credentials');
    secrets.add(stored.secretAccessKey);
    Object.values(stored.sesSmtpPasswords).forEach((p) => secrets.add(p));
    expect(keysOf(engine, 'scheduled')).toEqual([{ id: stored.accessKeyId, status: 'Active' }]);
    expect(await callerArn(engine, stored)).toMatch(/:user\/rotated\/scheduled$/);
    expect(stored.sesSmtpPasswords).toEqual({ 'eu-west-1': deriveSmtpPasswordV4(stored.secretAccessKey, 'eu-west-1') });
  });

  it("by Secrets Manager: RotateSecret runs the four steps through the stack's rotation Lambda", async () => {
    // Prepare
    const old = await userWithUsedKey(engine, 'sm-user');
    secrets.add(old.secretAccessKey);
    const sm = new SecretsManagerClient(engine.sdkConfig);
    await sm.send(new PutSecretValueCommand({ SecretId: engine.secretArn('rotated/credentials'), SecretString: JSON.stringify({ userName: 'sm-user' }) }));
    sm.destroy();
    const aws = localAwsOf(engine);
    // No pause: the old key may share its creation second with the rotation's start (IAM
    // dates have one-second precision); createSecret judges orphans by the key snapshot it
    // keeps in the lock, so the current key is never mistaken for one.

    // Act
    const { versionId } = await engine.rotateSecret('rotated/credentials');

    // Assess
    const record = aws.secretsManager.rotations().at(-1);
    expect(record).toMatchObject({ clientRequestToken: versionId, outcome: 'succeeded' });
    expect(record?.steps.map((s) => `${s.step}:${s.ok}`)).toEqual(['createSecret:true', 'setSecret:true', 'testSecret:true', 'finishSecret:true']);
    const stored = await currentSecret(engine, 'rotated/credentials');
    secrets.add(stored.secretAccessKey);
    Object.values(stored.sesSmtpPasswords).forEach((p) => secrets.add(p));
    expect(stored.accessKeyId).not.toBe(old.accessKeyId);
    expect(await callerArn(engine, stored)).toMatch(/:user\/rotated\/sm-user$/);
    expect(stored.sesSmtpPasswords).toEqual({ 'eu-west-1': deriveSmtpPasswordV4(stored.secretAccessKey, 'eu-west-1') });
    // finishSecret's default: the previous key is deactivated, not deleted.
    expect(keysOf(engine, 'sm-user')).toEqual(
      [
        { id: stored.accessKeyId, status: 'Active' },
        { id: old.accessKeyId, status: 'Inactive' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    const rotationLogs = engine.logs.entries.filter((e) => e.functionName.includes('SecretsManagerRotation'));
    expect(rotationLogs.length).toBeGreaterThan(0);
  });

  it('leaks no secret into Lambda logs, execution history or outputs', () => {
    // Prepare: the tests above filled `secrets` and `texts`

    // Act / Assess
    expect(secrets.size).toBeGreaterThanOrEqual(8);
    expectNoLeak(engine, texts, secrets);
  });
});

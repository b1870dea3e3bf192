/**
 * A throttling storm: 30% of every IAM, STS and Secrets Manager call is refused with the
 * service's own throttling error (seeded, so a run can be replayed), while several users are
 * rotated at once through every trigger. Every rotation must still complete, and nothing may be
 * duplicated: each user ends with exactly one new key (and IAM never saw a second one created),
 * and each rotated secret has exactly one new version.
 *
 * Secrets Manager re-invokes a failed rotation itself; here the harness does it (same token),
 * as many times as needed, and counts it.
 */
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type Credentials,
  KEYBASE_USER,
  PROOF_PATH,
  type Proof,
  callerArn,
  createSecret,
  createUsedUser,
  putSecretValue,
  since,
  startProof,
  storedValue,
} from './support';

const SOAK = process.env.KEYROTATE_SOAK === '1';
/** One seed in a normal run; the soak replays several storms. */
const SEEDS = SOAK ? [20261127, 1, 2, 3, 4, 5, 6, 7] : [20261127];
const FRACTION = 0.3;
jest.setTimeout(SOAK ? 3_600_000 : 240_000);

interface Rotation {
  readonly label: string;
  readonly userName: string;
  readonly old: Credentials;
  readonly secretId?: string;
  /** Runs the rotation to success (or gives up); resolves to the delivered key. */
  run(): Promise<{ ok: boolean; error?: string; key?: Credentials; reinvocations: number }>;
}

describe.each(SEEDS)('a throttling storm (seed %i)', (seed) => {
  let proof: Proof;
  const started = Date.now();
  /** Every key id seen per user, at every IAM call (a key created then deleted is seen too). */
  const seen = new Map<string, Set<string>>();

  beforeAll(async () => {
    proof = await startProof({ retryIntervalMs: 20 });
  });

  afterAll(async () => {
    await proof?.close();
  });

  function secretsClient(): SecretsManagerClient {
    // The trigger itself is a Secrets Manager call: it retries throttling like any SDK client.
    return new SecretsManagerClient({ ...proof.engine.sdkConfig, maxAttempts: 10 });
  }

  async function rotateUntilDone(secretId: string): Promise<{ ok: boolean; error?: string; reinvocations: number }> {
    const sm = secretsClient();
    let token: string | undefined;
    let error = '';
    try {
      for (let attempt = 0; attempt < 10; attempt += 1) {
        try {
          await sm.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: proof.engine.rotationFunctionArns[0], ...(token ? { ClientRequestToken: token } : {}) }));
          return { ok: true, reinvocations: attempt };
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
          // Re-invoke the same rotation, as Secrets Manager does.
          token = [...proof.aws.secretsManager.rotations()].reverse().find((r) => r.secretArn.includes(secretId))?.clientRequestToken ?? token;
        }
      }
      return { ok: false, error, reinvocations: 10 };
    } finally {
      sm.destroy();
    }
  }

  it(`completes every rotation, duplicating nothing, with ${FRACTION * 100}% of IAM, STS and Secrets Manager calls throttled`, async () => {
    // Prepare: users for every trigger and delivery, before the storm
    const rotations: Rotation[] = [];
    const execute = async (input: unknown) => {
      const result = await proof.engine.run(input);
      return { result, retries: result.execution.history.filter((e) => e.type === 'StateRetried').length };
    };
    let stateMachineRetries = 0;
    for (const i of [1, 2, 3]) {
      const userName = `storm-sm-${i}`;
      const old = await createUsedUser(proof, userName);
      const secretId = `storm/${userName}`;
      await createSecret(proof, secretId);
      rotations.push({
        label: `on demand, Secrets Manager (${userName})`,
        userName,
        old,
        secretId,
        run: async () => {
          const { result, retries } = await execute({ userName, delivery: { type: 'secretsManager', secretId }, sesSmtpRegions: ['eu-west-1', 'us-east-1'] });
          stateMachineRetries += retries;
          const value = storedValue(proof, secretId);
          return result.status === 'SUCCEEDED' && value
            ? { ok: true, key: { accessKeyId: value.accessKeyId, secretAccessKey: value.secretAccessKey }, reinvocations: 0 }
            : { ok: false, error: result.status === 'FAILED' ? `${result.error}: ${result.cause}` : result.status, reinvocations: 0 };
        },
      });
    }
    for (const [userName, pgpKey] of [['storm-pgp', proof.pgp.publicKey], ['storm-keybase', `keybase:${KEYBASE_USER}`]] as const) {
      const old = await createUsedUser(proof, userName);
      rotations.push({
        label: `on demand, PGP (${userName})`,
        userName,
        old,
        run: async () => {
          const { result, retries } = await execute({ userName, delivery: { type: 'pgp', pgpKey } });
          stateMachineRetries += retries;
          if (result.status !== 'SUCCEEDED') return { ok: false, error: result.status === 'FAILED' ? `${result.error}: ${result.cause}` : result.status, reinvocations: 0 };
          const output = result.output as { id: string; encryptedSecret: string };
          return { ok: true, key: { accessKeyId: output.id, secretAccessKey: await proof.pgp.decrypt(output.encryptedSecret) }, reinvocations: 0 };
        },
      });
    }
    const schedule = proof.engine.schedules().find((s) => (s.input as { userName?: string }).userName === 'sched-sm');
    if (!schedule) throw new Error('no schedule for sched-sm');
    const scheduledOld = await createUsedUser(proof, 'sched-sm');
    rotations.push({
      label: 'schedule, Secrets Manager (sched-sm)',
      userName: 'sched-sm',
      old: scheduledOld,
      secretId: 'proof/sched-sm',
      run: async () => {
        const { result, retries } = await execute(schedule.input);
        stateMachineRetries += retries;
        const value = storedValue(proof, 'proof/sched-sm');
        return result.status === 'SUCCEEDED' && value
          ? { ok: true, key: { accessKeyId: value.accessKeyId, secretAccessKey: value.secretAccessKey }, reinvocations: 0 }
          : { ok: false, error: result.status === 'FAILED' ? `${result.error}: ${result.cause}` : result.status, reinvocations: 0 };
      },
    });
    for (const [userName, secretId] of [['rot-a', 'proof/rotation-a'], ['rot-b', 'proof/rotation-b']] as const) {
      const old = await createUsedUser(proof, userName);
      await putSecretValue(proof, secretId, JSON.stringify({ userName, sesSmtpRegions: ['eu-west-1'] }));
      rotations.push({
        label: `RotateSecret (${userName})`,
        userName,
        old,
        secretId,
        run: async () => {
          const outcome = await rotateUntilDone(secretId);
          const value = storedValue(proof, secretId);
          return outcome.ok && value ? { ...outcome, key: { accessKeyId: value.accessKeyId, secretAccessKey: value.secretAccessKey } } : outcome;
        },
      });
    }
    // IAM dates have one-second precision: the Secrets Manager rotations start in a later second.
    proof.aws.clock.advance(1500);
    const versionsBefore = new Map(rotations.map((r) => [r.userName, r.secretId ? valueVersions(r.secretId) : 0]));
    const stopWatching = proof.aws.calls.onCall((call) => {
      if (call.service !== 'iam') return;
      for (const r of rotations) {
        const ids = seen.get(r.userName) ?? new Set<string>();
        for (const key of proof.aws.iam.listAccessKeys(r.userName)) ids.add(key.accessKeyId);
        seen.set(r.userName, ids);
      }
    });
    const firstSeq = (proof.aws.calls.all().at(-1)?.seq ?? 0) + 1;
    proof.aws.setThrottle({ fraction: FRACTION, seed, apis: ['iam:*', 'sts:*', 'secretsmanager:*'] });
    const t0 = Date.now();

    // Act: every rotation at once
    const outcomes = await Promise.all(rotations.map((r) => r.run()));
    proof.aws.setThrottle(undefined);
    stopWatching();
    const stormMs = since(t0);

    // Assess: every rotation completed
    expect(outcomes.map((o, i) => ({ rotation: rotations[i]?.label, ok: o.ok, error: o.error }))).toEqual(rotations.map((r) => ({ rotation: r.label, ok: true, error: undefined })));
    const calls = proof.aws.calls.all().filter((c) => c.seq >= firstSeq && ['iam', 'sts', 'secretsmanager'].includes(c.service));
    const throttled = calls.filter((c) => c.injected === 'throttle');
    // The storm was real: close to the asked fraction of the calls was refused (±3 standard deviations).
    expect(throttled.length / calls.length).toBeGreaterThan(FRACTION - 0.1);
    expect(throttled.length / calls.length).toBeLessThan(FRACTION + 0.1);
    let cleanedUp = 0;
    for (const [i, r] of rotations.entries()) {
      const key = outcomes[i]?.key;
      if (!key) throw new Error(`${r.label}: nothing delivered`);
      // The delivered key works, and is the user's.
      expect(await callerArn(proof.engine, key)).toBe(`arn:aws:iam::${proof.engine.accountId}:user${PROOF_PATH}${r.userName}`);
      // Exactly one new key left. (A Secrets Manager rotation whose createSecret failed after
      // CreateAccessKey deletes that key on its re-invocation and makes another: counted below.)
      const ids = proof.aws.iam.listAccessKeys(r.userName).map((k) => k.accessKeyId);
      expect({ rotation: r.label, newKeys: ids.filter((id) => id !== r.old.accessKeyId) }).toEqual({ rotation: r.label, newKeys: [key.accessKeyId] });
      const created = [...(seen.get(r.userName) ?? [])].filter((id) => id !== r.old.accessKeyId);
      cleanedUp += created.length - 1;
      // Only the Secrets Manager rotation, which creates and stores in one step, ever makes one twice.
      if (!r.label.startsWith('RotateSecret')) expect({ rotation: r.label, created }).toEqual({ rotation: r.label, created: [key.accessKeyId] });
      // One new secret version per rotation.
      if (r.secretId) expect({ rotation: r.label, newVersions: valueVersions(r.secretId) - (versionsBefore.get(r.userName) ?? 0) }).toEqual({ rotation: r.label, newVersions: 1 });
    }
    const reinvocations = outcomes.reduce((n, o) => n + o.reinvocations, 0);
    console.log(
      `throttling (seed ${seed}): ${rotations.length} rotations at once, ${calls.length} IAM/STS/Secrets Manager calls, ` +
        `${throttled.length} throttled (${((100 * throttled.length) / calls.length).toFixed(1)}%), ${stateMachineRetries} state retries, ` +
        `${reinvocations} RotateSecret re-invocations, ${cleanedUp} half-made keys deleted on re-invocation; storm ${stormMs} ms, suite ${since(started)} ms`,
    );
  });

  /** Versions of a secret that hold a value. */
  function valueVersions(secretId: string): number {
    return proof.aws.secretsManager.describe(secretId)?.versions.filter((v) => v.hasValue).length ?? 0;
  }
});

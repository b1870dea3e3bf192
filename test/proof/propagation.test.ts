/**
 * IAM propagation: a new key is refused by STS for a random 0-20 s (per key, seeded), on a
 * clock shortened ten times: the endpoint refuses each new key for 0-2 s, one VerifyNewKey
 * invocation retries for 1 s (the stack's verify window) and the state machine retries it with
 * short pauses. Every rotation must succeed, and the old key must never be touched (deactivated
 * or deleted) before the new one has verified, which the ordered call log shows: the first STS
 * call signed by the new key that succeeded comes before any change to the old key.
 */
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { seededRandom } from '../../local/aws/control/throttle';
import type { CallRecord } from '../../local/aws';
import { type Credentials, type Proof, callerArn, createSecret, createUsedUser, since, startProof, storedValue } from './support';

const SOAK = process.env.KEYROTATE_SOAK === '1';
/** Real IAM takes up to ~20 s; the endpoint's delay is this much shorter. */
const TIME_SCALE = 10;
const MAX_REAL_DELAY_MS = 20_000;
const ROUNDS = SOAK ? 8 : 2;
jest.setTimeout(SOAK ? 3_600_000 : 180_000);

interface Observation {
  readonly label: string;
  readonly delayMs: number;
  readonly oldKey: string;
  readonly newKey?: string;
  /** seq of the first successful STS call signed with the new key. */
  readonly verifiedAt?: number;
  /** STS calls with the new key refused before that. */
  readonly refusals: number;
  /** seq of the first call after which the old key was no longer Active (or gone). */
  readonly oldKeyTouchedAt?: number;
  readonly ok: boolean;
  readonly error?: string;
}

describe('IAM propagation delay', () => {
  let proof: Proof;
  const random = seededRandom(20261127);
  const observations: Observation[] = [];
  let reinvocationCount = 0;
  const started = Date.now();

  beforeAll(async () => {
    proof = await startProof({ retryIntervalMs: 20 });
  });

  afterAll(async () => {
    await proof?.close();
    const verified = observations.filter((o) => o.verifiedAt !== undefined);
    console.log(
      `propagation: ${observations.length} rotations, delays ${observations.map((o) => `${(o.delayMs * TIME_SCALE) / 1000}s`).join(' ')} (real-time equivalent), ` +
        `${verified.reduce((n, o) => n + o.refusals, 0)} refused STS calls with new keys, ${reinvocationCount} RotateSecret re-invocations; ${since(started)} ms`,
    );
  });

  /** Runs `rotate` with a random delay for its new key, watching STS and the old key's state. */
  async function observe(label: string, userName: string, old: Credentials, rotate: () => Promise<{ ok: boolean; error?: string; newKey?: string }>): Promise<Observation> {
    const delayMs = Math.round((random() * MAX_REAL_DELAY_MS) / TIME_SCALE);
    const stsCalls: CallRecord[] = [];
    let oldKeyTouchedAt: number | undefined;
    const stop = proof.aws.calls.onCall((call) => {
      if (call.service === 'sts' && call.operation === 'GetCallerIdentity') stsCalls.push(call);
      if (oldKeyTouchedAt === undefined && call.service === 'iam' && proof.aws.iam.getAccessKey(old.accessKeyId)?.status !== 'Active') oldKeyTouchedAt = call.seq;
    });
    proof.aws.setPropagationDelay(delayMs);
    const outcome = await rotate().finally(() => {
      proof.aws.setPropagationDelay(0);
      stop();
    });
    const withNewKey = stsCalls.filter((c) => c.accessKeyId === outcome.newKey);
    const verifiedAt = withNewKey.find((c) => c.outcome === 'ok')?.seq;
    const observation: Observation = {
      label,
      delayMs,
      oldKey: old.accessKeyId,
      ...(outcome.newKey ? { newKey: outcome.newKey } : {}),
      ...(verifiedAt !== undefined ? { verifiedAt } : {}),
      refusals: withNewKey.filter((c) => verifiedAt === undefined || c.seq < verifiedAt).filter((c) => c.outcome === 'error').length,
      ...(oldKeyTouchedAt !== undefined ? { oldKeyTouchedAt } : {}),
      ok: outcome.ok,
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    observations.push(observation);
    return observation;
  }

  function expectOrdered(o: Observation): void {
    expect({ label: o.label, ok: o.ok, error: o.error }).toEqual({ label: o.label, ok: true, error: undefined });
    expect(o.verifiedAt).toBeDefined();
    // The old key was retired, and only after the new key had authenticated.
    expect(o.oldKeyTouchedAt).toBeDefined();
    expect(o.oldKeyTouchedAt ?? 0).toBeGreaterThan(o.verifiedAt ?? Infinity);
    // The delay was real: a long one got the new key refused at least once.
    if (o.delayMs >= 800) expect(o.refusals).toBeGreaterThan(0);
  }

  it.each(Array.from({ length: ROUNDS }, (_, i) => i))('on demand into Secrets Manager, round %i', async (round) => {
    // Prepare
    const userName = `prop-sm-${round}`;
    const old = await createUsedUser(proof, userName);
    const secretId = `prop/${userName}`;
    await createSecret(proof, secretId);

    // Act
    const o = await observe(`secret ${round}`, userName, old, async () => {
      const result = await proof.engine.run({ userName, delivery: { type: 'secretsManager', secretId } });
      return result.status === 'SUCCEEDED' ? { ok: true, newKey: String((result.output as { id: string }).id) } : { ok: false, error: result.status === 'FAILED' ? `${result.error}: ${result.cause}` : result.status };
    });

    // Assess
    expectOrdered(o);
    const stored = storedValue(proof, secretId);
    if (!stored) throw new Error('nothing stored');
    expect(stored.accessKeyId).toBe(o.newKey);
    expect(await callerArn(proof.engine, stored)).toMatch(new RegExp(`:user/proof/${userName}$`));
  });

  it.each(Array.from({ length: ROUNDS }, (_, i) => i))('on demand to a PGP key, round %i', async (round) => {
    // Prepare
    const userName = `prop-pgp-${round}`;
    const old = await createUsedUser(proof, userName);
    let encrypted = '';

    // Act
    const o = await observe(`pgp ${round}`, userName, old, async () => {
      const result = await proof.engine.run({ userName, delivery: { type: 'pgp', pgpKey: proof.pgp.publicKey }, sesSmtpRegions: [] });
      if (result.status !== 'SUCCEEDED') return { ok: false, error: result.status === 'FAILED' ? `${result.error}: ${result.cause}` : result.status };
      const output = result.output as { id: string; encryptedSecret: string };
      encrypted = output.encryptedSecret;
      return { ok: true, newKey: output.id };
    });

    // Assess
    expectOrdered(o);
    const secretAccessKey = await proof.pgp.decrypt(encrypted);
    expect(await callerArn(proof.engine, { accessKeyId: o.newKey ?? '', secretAccessKey })).toMatch(new RegExp(`:user/proof/${userName}$`));
  });

  it.each(Array.from({ length: ROUNDS }, (_, i) => i))('by Secrets Manager (testSecret, then re-invocations), round %i', async (round) => {
    // Prepare
    const userName = `prop-rot-${round}`;
    const old = await createUsedUser(proof, userName);
    const secretId = `prop/${userName}`;
    await createSecret(proof, secretId, JSON.stringify({ userName }));
    // IAM dates have one-second precision: the rotation starts in a later second than the key.
    proof.aws.clock.advance(1500);
    const sm = new SecretsManagerClient({ ...proof.engine.sdkConfig, maxAttempts: 1 });
    let reinvocations = 0;

    // Act: testSecret gives up after the verify window; Secrets Manager then retries the rotation
    const o = await observe(`rotation ${round}`, userName, old, async () => {
      let token: string | undefined;
      for (let attempt = 0; attempt < 12; attempt += 1) {
        try {
          await sm.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: proof.engine.rotationFunctionArns[0], ...(token ? { ClientRequestToken: token } : {}) }));
          reinvocations = attempt;
          return { ok: true, newKey: storedValue(proof, secretId)?.accessKeyId ?? '' };
        } catch {
          token = proof.aws.secretsManager.rotations().at(-1)?.clientRequestToken;
        }
      }
      return { ok: false, error: 'gave up after 12 attempts' };
    }).finally(() => sm.destroy());

    // Assess
    expectOrdered(o);
    const record = proof.aws.secretsManager.rotations().at(-1);
    expect(record?.outcome).toBe('succeeded');
    expect(proof.aws.iam.getAccessKey(old.accessKeyId)?.status).toBe('Inactive');
    reinvocationCount += reinvocations;
  });
});

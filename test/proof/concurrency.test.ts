/**
 * One rotation per user (guarantee "one rotation per user"), whichever trigger starts it. Rounds of 2 to 10 rotations
 * of the same user (the stack's scheduled user and its secret) are started at once, mixing the
 * three triggers: an execution with on-demand input, an execution with the schedule's exact
 * input, and RotateSecret through the stack's rotation Lambda. Exactly one may rotate; the others
 * must fail fast and change nothing; no key is lost and the stored secret works.
 *
 * Then rotations that arrive while another one is mid-way (in VerifyNewKey, or in a Secrets
 * Manager rotation's testSecret) must be refused with RotationInProgressError.
 */
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ExecutionResult } from '../../local/engine/events';
import { type Proof, callerArn, createSecret, createUsedUser, keysOf, rotationFunctionName, since, startProof, storedValue } from './support';

const SOAK = process.env.KEYROTATE_SOAK === '1';
const ROUND_SIZES = SOAK ? [2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10] : [2, 3, 5, 10];
jest.setTimeout(SOAK ? 3_600_000 : 240_000);

const USER = 'sched-sm';
const SECRET = 'proof/sched-sm';
type Trigger = 'on demand' | 'schedule' | 'RotateSecret';
const TRIGGERS: readonly Trigger[] = ['on demand', 'schedule', 'RotateSecret'];

interface Outcome {
  readonly trigger: Trigger;
  readonly ok: boolean;
  /** The typed error (state machine) or the failed step's error (RotateSecret). */
  readonly error?: string;
  /** State machine only: the states whose Lambda ran. */
  readonly lambdas?: readonly string[];
  /** RotateSecret only: refused by Secrets Manager itself, before the rotation Lambda ran. */
  readonly refusedBySecretsManager?: boolean;
}

describe('one rotation per user, whichever trigger', () => {
  let proof: Proof;
  const started = Date.now();
  const errorCounts: Record<string, number> = {};

  beforeAll(async () => {
    proof = await startProof({ retryIntervalMs: 20 });
    await createUsedUser(proof, USER);
    await createSecret(proof, 'conc/warm', JSON.stringify({ userName: USER }));
    // A first rotation: the user's key is then the one the secret names (the steady state).
    const first = await proof.engine.run(scheduleInput());
    if (first.status !== 'SUCCEEDED') throw new Error(`the first rotation failed: ${first.status}`);
  });

  afterAll(async () => {
    await proof?.close();
    console.log(`concurrency: rounds of ${ROUND_SIZES.join(', ')} rotations; losers' errors ${JSON.stringify(errorCounts)}; ${since(started)} ms`);
  });

  function scheduleInput(): unknown {
    const schedule = proof.engine.schedules().find((s) => (s.input as { userName?: string }).userName === USER);
    if (!schedule) throw new Error(`no schedule for ${USER}`);
    return schedule.input;
  }

  function fromExecution(trigger: Trigger, result: ExecutionResult & { execution: { invocations: readonly { stateName: string }[] } }): Outcome {
    const lambdas = result.execution.invocations.map((i) => i.stateName);
    return result.status === 'SUCCEEDED' ? { trigger, ok: true, lambdas } : { trigger, ok: false, error: result.status === 'FAILED' ? result.error : result.status, lambdas };
  }

  async function rotateSecret(token?: string): Promise<Outcome> {
    const sm = new SecretsManagerClient({ ...proof.engine.sdkConfig, maxAttempts: 1 });
    const before = proof.aws.secretsManager.rotations().length;
    try {
      await sm.send(new RotateSecretCommand({ SecretId: SECRET, RotationLambdaARN: proof.engine.rotationFunctionArns[0], ...(token ? { ClientRequestToken: token } : {}) }));
      return { trigger: 'RotateSecret', ok: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // No rotation record: Secrets Manager refused before calling the function.
      const ran = proof.aws.secretsManager.rotations().length > before;
      const failed = ran ? /failed at step \w+: (\w+)/.exec(message)?.[1] : undefined;
      return { trigger: 'RotateSecret', ok: false, error: failed ?? message, refusedBySecretsManager: !ran };
    } finally {
      sm.destroy();
    }
  }

  /** RotateSecret, re-invoked with the same token until it completes, as Secrets Manager retries. */
  async function rotateSecretToTheEnd(): Promise<Outcome> {
    let outcome = await rotateSecret();
    for (let retry = 0; !outcome.ok && !outcome.refusedBySecretsManager && retry < 10; retry += 1) {
      outcome = await rotateSecret(proof.aws.secretsManager.rotations().at(-1)?.clientRequestToken);
    }
    return outcome;
  }

  function start(trigger: Trigger): Promise<Outcome> {
    if (trigger === 'RotateSecret') return rotateSecret();
    const input = trigger === 'schedule' ? scheduleInput() : { userName: USER, delivery: { type: 'secretsManager', secretId: SECRET }, sesSmtpRegions: ['eu-west-1'] };
    return proof.engine.run(input).then((result) => fromExecution(trigger, result));
  }

  /** Warm containers for `n` concurrent Plans and rotation steps, so "at once" is at once. */
  async function warm(n: number): Promise<void> {
    await Promise.all(Array.from({ length: n }, () => proof.engine.run({ userName: USER, delivery: { type: 'secretsManager', secretId: SECRET }, dryRun: true })));
    const fn = proof.engine.runtime.get(rotationFunctionName(proof));
    await Promise.all(Array.from({ length: n }, () => fn?.invoke({ Step: 'setSecret', SecretId: 'conc/warm', ClientRequestToken: 'w'.repeat(32) })));
  }

  /** A rotation Secrets Manager left pending (its AWSPENDING placeholder): it retries it later. */
  function pendingToken(): string | undefined {
    const pending = proof.aws.secretsManager.describe(SECRET)?.versions.find((v) => v.stages.includes('AWSPENDING') && !v.stages.includes('AWSCURRENT'));
    return pending?.versionId;
  }

  it.each(ROUND_SIZES.map((n, i) => [n, i] as const))('%i rotations at once: exactly one rotates, the others change nothing (round %i)', async (n, round) => {
    // Prepare
    await warm(n);
    const keysBefore = keysOf(proof.engine, USER);
    const versionsBefore = proof.aws.secretsManager.describe(SECRET)?.versions.filter((v) => v.hasValue).length ?? 0;
    const firstSeq = (proof.aws.calls.all().at(-1)?.seq ?? 0) + 1;
    // IAM dates have one-second precision: Secrets Manager rotations start in a later second.
    proof.aws.clock.advance(1500);
    const triggers = Array.from({ length: n }, (_, i) => TRIGGERS[(i + round) % TRIGGERS.length] as Trigger);

    // Act
    const outcomes = await Promise.all(triggers.map((t) => start(t)));

    // Assess: exactly one rotated
    const winners = outcomes.filter((o) => o.ok);
    expect({ winners: winners.length, outcomes }).toEqual({ winners: 1, outcomes: expect.any(Array) });
    for (const loser of outcomes.filter((o) => !o.ok)) {
      const kind = loser.refusedBySecretsManager ? 'refused by Secrets Manager (a rotation is pending)' : (loser.error ?? '?');
      errorCounts[kind] = (errorCounts[kind] ?? 0) + 1;
      if (loser.refusedBySecretsManager) {
        expect(loser.error).toContain("A previous rotation isn't complete");
      } else {
        // Typed, and from the first step (Plan, or createSecret): nothing was made by a loser.
        expect(loser.error).toBe('RotationInProgressError');
        if (loser.lambdas) expect(loser.lambdas).toEqual(['Plan']);
      }
    }
    // Nothing duplicated: one key created, one secret version written, in the whole round.
    const round$ = proof.aws.calls.all().filter((c) => c.seq >= firstSeq && c.outcome === 'ok');
    expect(round$.filter((c) => c.operation === 'CreateAccessKey')).toHaveLength(1);
    expect(round$.filter((c) => c.operation === 'PutSecretValue')).toHaveLength(1);
    expect(proof.aws.secretsManager.describe(SECRET)?.versions.filter((v) => v.hasValue).length).toBe(versionsBefore + 1);
    // No key lost: the stored key works and is Active; every other key existed before.
    const stored = storedValue(proof, SECRET);
    if (!stored) throw new Error('nothing stored');
    expect(await callerArn(proof.engine, stored)).toMatch(/:user\/proof\/sched-sm$/);
    const after = keysOf(proof.engine, USER);
    expect(after.filter((k) => k.status === 'Active').map((k) => k.id)).toEqual([stored.accessKeyId]);
    expect(after.map((k) => k.id).filter((id) => id !== stored.accessKeyId && !keysBefore.some((k) => k.id === id))).toEqual([]);

    // Secrets Manager retries a refused rotation later: that later rotation works too.
    const token = pendingToken();
    if (token) {
      const retried = await rotateSecret(token);
      expect(retried).toMatchObject({ ok: true });
      const again = storedValue(proof, SECRET);
      if (!again) throw new Error('nothing stored');
      expect(await callerArn(proof.engine, again)).toMatch(/:user\/proof\/sched-sm$/);
    }
  });

  /** Starts `first`, and `second` once `first` is in the middle of its rotation (its new key exists, unverified). */
  async function lateComer(first: () => Promise<Outcome>, second: () => Promise<Outcome>): Promise<[Outcome, Outcome]> {
    // The new key is refused by STS for a while: the first rotation sits in its verification.
    proof.aws.setPropagationDelay(1500);
    let secondRun: Promise<Outcome> | undefined;
    const stop = proof.aws.calls.onCall((call) => {
      if (!secondRun && call.service === 'sts' && call.outcome === 'error') secondRun = second();
    });
    try {
      const firstOutcome = await first();
      if (!secondRun) throw new Error('the second rotation never started');
      return [firstOutcome, await secondRun];
    } finally {
      stop();
      proof.aws.setPropagationDelay(0);
    }
  }

  it('refuses an on-demand rotation that arrives while a scheduled one verifies its new key, with RotationInProgressError', async () => {
    // Prepare
    const keysBefore = keysOf(proof.engine, USER);

    // Act
    const [first, second] = await lateComer(
      () => start('schedule'),
      () => start('on demand'),
    );

    // Assess
    expect(first).toMatchObject({ ok: true });
    expect(second).toMatchObject({ ok: false, error: 'RotationInProgressError', lambdas: ['Plan'] });
    expect(keysOf(proof.engine, USER).filter((k) => !keysBefore.some((b) => b.id === k.id))).toHaveLength(1);
  });

  it('refuses a state machine rotation that arrives while a Secrets Manager rotation tests its new key, with RotationInProgressError', async () => {
    // Prepare
    const token = pendingToken();
    if (token) await rotateSecret(token);
    proof.aws.clock.advance(1500);

    // Act
    const [first, second] = await lateComer(
      () => rotateSecretToTheEnd(),
      () => start('on demand'),
    );

    // Assess
    expect(first).toMatchObject({ ok: true });
    expect(second).toMatchObject({ ok: false, error: 'RotationInProgressError', lambdas: ['Plan'] });
    const stored = storedValue(proof, SECRET);
    if (!stored) throw new Error('nothing stored');
    expect(await callerArn(proof.engine, stored)).toMatch(/:user\/proof\/sched-sm$/);
  });

  it('refuses RotateSecret while a state machine rotation of the same secret is pending, changing nothing', async () => {
    // Prepare
    const keysBefore = keysOf(proof.engine, USER);

    // Act
    const [first, second] = await lateComer(
      () => start('on demand'),
      () => rotateSecret(),
    );

    // Assess
    expect(first).toMatchObject({ ok: true });
    expect(second.ok).toBe(false);
    expect(second.refusedBySecretsManager || second.error === 'RotationInProgressError').toBe(true);
    expect(keysOf(proof.engine, USER).filter((k) => !keysBefore.some((b) => b.id === k.id))).toHaveLength(1);
  });
});

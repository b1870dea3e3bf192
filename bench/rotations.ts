/**
 * Rotations on the local engine (the synthesized state machine running the deployed bundles
 * against the embedded endpoint): one rotation end to end, timed and priced; the less common
 * paths once each, so every Lambda's peak memory is seen; and a fleet of users rotated under an
 * IAM write throttle.
 */
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { generateKey } from 'openpgp';
import type { CallRecord, LocalAws } from '../local/aws';
import type { ExecutionResult } from '../local/engine/events';
import type { InvocationReport } from '../local/engine/lambda-runtime';
import type { EngineStackConfig, LocalRotationEngine } from '../local/engine/rotation-engine';
import type { DeployedBundle } from './lambdas';
import { type RotationCost, rotationCost } from './lib/pricing';
import { median, round } from './lib/stats';

/** Users live under this path; the stack's scope is the path. */
export const BENCH_PATH = '/bench/';
export const BENCH_SES_REGION = 'us-east-1';
const ROTATED_SECRET = 'bench/secrets-manager-rotation';

/** The local stack every bench run uses (one cached synthesis). */
export const BENCH_STACK: EngineStackConfig = {
  scope: { pathPrefix: BENCH_PATH },
  secretRotations: [{ secretName: ROTATED_SECRET, userName: 'bench-sm-rotation' }],
  defaultSesSmtpRegions: [BENCH_SES_REGION],
  verifyWindowSeconds: 5,
};

/** The plain rotation of docs/internals.md: one SES region, Secrets Manager, grace 0, delete. */
export function plainRotationInput(userName: string, secretId: string): unknown {
  return {
    userName,
    delivery: { type: 'secretsManager', secretId },
    sesSmtpRegions: [BENCH_SES_REGION],
    oldKey: { action: 'delete', gracePeriodSeconds: 0, deletionDelaySeconds: 0 },
  };
}

function localAwsOf(engine: LocalRotationEngine): LocalAws {
  if (!engine.localAws) throw new Error('the benchmark runs on the embedded endpoint');
  return engine.localAws;
}

/** Invocation reports, as the engine's onInvocation hook delivers them. */
export class InvocationRecorder {
  readonly all: InvocationReport[] = [];
  private marks = 0;

  readonly record = (report: InvocationReport): void => {
    this.all.push(report);
  };

  /** Reports since the previous call. */
  takeNew(): InvocationReport[] {
    const fresh = this.all.slice(this.marks);
    this.marks = this.all.length;
    return fresh;
  }
}

/** A user in scope with one Active key, and an empty secret to deliver to. */
async function prepareUser(engine: LocalRotationEngine, sm: SecretsManagerClient, userName: string): Promise<string> {
  const aws = localAwsOf(engine);
  if (!aws.iam.getUser(userName)) aws.iam.createUser(userName, { path: BENCH_PATH });
  aws.iam.createAccessKey(userName);
  const secretId = `bench/${userName}`;
  await sm.send(new CreateSecretCommand({ Name: secretId }));
  return secretId;
}

function requireStatus(result: ExecutionResult, expected: ExecutionResult['status'], what: string): void {
  if (result.status === expected) return;
  const detail = result.status === 'FAILED' ? `${result.error}: ${result.cause}` : result.status;
  throw new Error(`${what}: expected ${expected}, got ${detail}`);
}

export interface EndToEndReport {
  readonly runs: number;
  /** The first rotation, every Lambda starting cold. */
  readonly coldMs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** The median run's cost at list prices, as measured locally. */
  readonly cost: RotationCost;
  /** The same with VerifyNewKey waiting `assumedPropagationMs` for IAM, as it does on AWS. */
  readonly costWithPropagation: RotationCost;
  readonly assumedPropagationMs: number;
}

/** IAM propagation on AWS is typically 5–15 s (AWS documents it as eventually consistent); VerifyNewKey is billed for the wait. */
export const ASSUMED_PROPAGATION_MS = 10_000;

export async function benchEndToEnd(
  engine: LocalRotationEngine,
  recorder: InvocationRecorder,
  memoryOf: (functionName: string) => number,
  verifyFunction: string,
  options: { runs: number; log: (line: string) => void },
): Promise<EndToEndReport> {
  const sm = new SecretsManagerClient(engine.sdkConfig);
  try {
    const samples: { ms: number; transitions: number; invocations: InvocationReport[] }[] = [];
    let coldMs = 0;
    for (let i = 0; i <= options.runs; i += 1) {
      const userName = `bench-e2e-${i}`;
      const secretId = await prepareUser(engine, sm, userName);
      recorder.takeNew();
      const started = process.hrtime.bigint();
      const result = await engine.run(plainRotationInput(userName, secretId));
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      requireStatus(result, 'SUCCEEDED', `end-to-end rotation ${i}`);
      if (i === 0) coldMs = ms;
      else samples.push({ ms, transitions: result.stats.stateTransitions, invocations: recorder.takeNew() });
    }
    options.log(`end to end: ${samples.map((s) => s.ms.toFixed(0)).join(', ')} ms (cold ${coldMs.toFixed(0)} ms)`);
    const medianMs = median(samples.map((s) => s.ms));
    // The run closest to the median stands for "one rotation" in the cost figures.
    const typical = [...samples].sort((a, b) => Math.abs(a.ms - medianMs) - Math.abs(b.ms - medianMs))[0] as (typeof samples)[number];
    const billed = typical.invocations.map((r) => ({ durationMs: r.durationMs, memoryMb: memoryOf(r.functionName) }));
    const withPropagation = typical.invocations.map((r) => ({
      durationMs: r.durationMs + (r.functionName === verifyFunction ? ASSUMED_PROPAGATION_MS : 0),
      memoryMb: memoryOf(r.functionName),
    }));
    return {
      runs: samples.length,
      coldMs: round(coldMs, 1),
      medianMs: round(medianMs, 1),
      minMs: round(Math.min(...samples.map((s) => s.ms)), 1),
      maxMs: round(Math.max(...samples.map((s) => s.ms)), 1),
      stateTransitions: median(samples.map((s) => s.transitions)),
      lambdaInvocations: median(samples.map((s) => s.invocations.length)),
      cost: rotationCost(typical.transitions, billed),
      costWithPropagation: rotationCost(typical.transitions, withPropagation),
      assumedPropagationMs: ASSUMED_PROPAGATION_MS,
    };
  } finally {
    sm.destroy();
  }
}

/**
 * The paths a plain rotation does not take, once each, so that every Lambda runs at least once
 * (its peak memory is then known): PGP delivery, a stale Inactive key to purge first, a
 * delivery failure that rolls back, and a Secrets Manager rotation.
 */
export async function runOtherPaths(engine: LocalRotationEngine, log: (line: string) => void): Promise<void> {
  const aws = localAwsOf(engine);
  const sm = new SecretsManagerClient(engine.sdkConfig);
  const iam = new IAMClient({ ...engine.sdkConfig });
  try {
    // PGP delivery.
    aws.iam.createUser('bench-pgp', { path: BENCH_PATH });
    aws.iam.createAccessKey('bench-pgp');
    const { publicKey } = await generateKey({ type: 'curve25519', userIDs: [{ name: 'keyrotate bench' }], format: 'armored' });
    const pgp = await engine.run({ userName: 'bench-pgp', delivery: { type: 'pgp', pgpKey: publicKey }, sesSmtpRegions: [BENCH_SES_REGION] });
    requireStatus(pgp, 'SUCCEEDED', 'PGP rotation');

    // An Inactive leftover key: Plan has it purged to make room.
    const purgeSecret = await prepareUser(engine, sm, 'bench-purge');
    const stale = aws.iam.createAccessKey('bench-purge');
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'bench-purge', AccessKeyId: stale.accessKeyId, Status: 'Inactive' }));
    const purge = await engine.run(plainRotationInput('bench-purge', purgeSecret));
    requireStatus(purge, 'SUCCEEDED', 'rotation with a stale key');

    // Secrets Manager refuses the delivery (a terminal error): RollBack deletes the new key.
    const rollBackSecret = await prepareUser(engine, sm, 'bench-rollback');
    const refusal = aws.faults.fail({ service: 'secretsmanager', operation: 'PutSecretValue', code: 'AccessDeniedException', status: 400 });
    try {
      const rollBack = await engine.run(plainRotationInput('bench-rollback', rollBackSecret));
      requireStatus(rollBack, 'FAILED', 'rotation whose delivery is refused');
    } finally {
      refusal.remove();
    }

    // Secrets Manager rotation (the four-step protocol through the rotation Lambda).
    aws.iam.createUser('bench-sm-rotation', { path: BENCH_PATH });
    aws.iam.createAccessKey('bench-sm-rotation');
    await sm.send(new PutSecretValueCommand({ SecretId: engine.secretArn(ROTATED_SECRET), SecretString: JSON.stringify({ userName: 'bench-sm-rotation' }) }));
    // IAM dates have one-second precision; a rotation that starts in the second its user's key
    // was created would take that key for an orphan of an earlier attempt.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await engine.rotateSecret(ROTATED_SECRET);
    log('other paths: PGP, purge, roll-back and Secrets Manager rotation ran');
  } finally {
    sm.destroy();
    iam.destroy();
  }
}

export interface MemoryRow {
  readonly name: string;
  readonly invocations: number;
  /** Highest RSS sampled during any invocation (init included on a cold start). */
  readonly peakRssMb: number;
  readonly memoryMb: number;
}

/** Peak memory per Lambda over every invocation recorded. */
export function memoryByFunction(reports: readonly InvocationReport[], bundles: readonly DeployedBundle[], nameOf: (functionName: string) => string): MemoryRow[] {
  return bundles.map((b) => {
    const mine = reports.filter((r) => nameOf(r.functionName) === b.name);
    const peak = mine.reduce((max, r) => Math.max(max, r.peakRssBytes), 0);
    return { name: b.name, invocations: mine.length, peakRssMb: round(peak / 1048576, 1), memoryMb: b.memoryMb };
  });
}

/** The IAM writes a rotation makes, each exactly once on the plain path. */
export const IAM_WRITE_APIS = ['iam:CreateAccessKey', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey'] as const;

export interface FleetReport {
  readonly users: number;
  readonly concurrency: number;
  /** The throttle: calls per second per IAM write API, sustained (token bucket)… */
  readonly ratePerApi: number;
  /** …and calls at once (the bucket's size; the endpoint's default is the rate). */
  readonly burst: number;
  /** Rotations per second the throttle allows: each rotation needs one call of each API. */
  readonly limitPerSecond: number;
  /** Rotations the throttle allowed during the run: burst + rate × wall time. */
  readonly allowedInWindow: number;
  readonly wallSeconds: number;
  readonly achievedPerSecond: number;
  /** Succeeded rotations / allowedInWindow. */
  readonly fractionOfLimit: number;
  readonly succeeded: number;
  readonly failures: number;
  readonly failureReasons: readonly string[];
  readonly throttledCalls: number;
  readonly stateTransitions: number;
  /** Transitions above the plain path's, i.e. retries caused by throttling. */
  readonly retryTransitions: number;
  readonly rotationP50Ms: number;
  readonly rotationP95Ms: number;
}

/** Runs `tasks` with at most `concurrency` in flight; resolves with their results in order. */
export async function runPool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

export async function benchFleet(
  engine: LocalRotationEngine,
  options: {
    users: number;
    ratePerApi: number;
    /** @default the endpoint's default, max(1, rate) */
    burst?: number;
    concurrency: number;
    plainTransitions: number;
    log: (line: string) => void;
    /** User names are `<prefix>-<n>`. @default 'bench-fleet' */
    prefix?: string;
  },
): Promise<FleetReport> {
  const prefix = options.prefix ?? 'bench-fleet';
  const aws = localAwsOf(engine);
  const sm = new SecretsManagerClient(engine.sdkConfig);
  const secretIds: string[] = [];
  try {
    for (let i = 0; i < options.users; i += 1) secretIds.push(await prepareUser(engine, sm, `${prefix}-${i}`));
  } finally {
    sm.destroy();
  }
  let throttledCalls = 0;
  const unsubscribe = aws.calls.onCall((call: CallRecord) => {
    if (call.injected === 'throttle') throttledCalls += 1;
  });
  const burst = options.burst ?? Math.max(1, options.ratePerApi);
  aws.setThrottle({ rate: options.ratePerApi, burst, apis: [...IAM_WRITE_APIS] });
  options.log(`fleet: ${options.users} rotations, ${options.concurrency} at a time, IAM writes throttled to ${options.ratePerApi}/s per API (burst ${burst})…`);
  const started = process.hrtime.bigint();
  let done = 0;
  try {
    const outcomes = await runPool(options.users, options.concurrency, async (i) => {
      const t = process.hrtime.bigint();
      const result = await engine.run(plainRotationInput(`${prefix}-${i}`, secretIds[i] as string));
      done += 1;
      if (done % 50 === 0) options.log(`fleet: ${done}/${options.users}`);
      return { result, ms: Number(process.hrtime.bigint() - t) / 1e6 };
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const failed = outcomes.filter((o) => o.result.status !== 'SUCCEEDED');
    const succeeded = outcomes.length - failed.length;
    const stateTransitions = outcomes.reduce((sum, o) => sum + o.result.stats.stateTransitions, 0);
    const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);
    const allowedInWindow = burst + options.ratePerApi * wallSeconds;
    return {
      users: options.users,
      concurrency: options.concurrency,
      ratePerApi: options.ratePerApi,
      burst,
      limitPerSecond: options.ratePerApi,
      allowedInWindow: round(allowedInWindow, 1),
      wallSeconds: round(wallSeconds, 1),
      achievedPerSecond: round(succeeded / wallSeconds, 2),
      fractionOfLimit: round(succeeded / allowedInWindow, 3),
      succeeded,
      failures: failed.length,
      failureReasons: [...new Set(failed.map((o) => (o.result.status === 'FAILED' ? o.result.error : o.result.status)))],
      throttledCalls,
      stateTransitions,
      retryTransitions: stateTransitions - options.plainTransitions * outcomes.length,
      rotationP50Ms: round(median(latencies), 0),
      rotationP95Ms: round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.95))] ?? 0, 0),
    };
  } finally {
    unsubscribe();
    aws.setThrottle(undefined);
  }
}

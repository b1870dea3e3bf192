/**
 * The rotation benchmark's measurements on the real local engine (synthesized stack, deployed
 * bundles, embedded endpoint), at a small scale: what it counts must be what happened.
 */
import { LocalRotationEngine } from '../../local/engine/rotation-engine';
import { deployedBundles, isEngineMetadata } from '../../bench/lambdas';
import { BENCH_STACK, IAM_WRITE_APIS, InvocationRecorder, benchEndToEnd, benchFleet, memoryByFunction, runOtherPaths } from '../../bench/rotations';

jest.setTimeout(180_000);

describe('rotation benchmark on the local engine', () => {
  let engine: LocalRotationEngine;
  const recorder = new InvocationRecorder();

  beforeAll(async () => {
    engine = await LocalRotationEngine.start({
      endpoint: 'embedded',
      stack: BENCH_STACK,
      waits: { allMs: 0 },
      embedded: { propagationDelayMs: 0 },
      onInvocation: recorder.record,
    });
  });

  afterAll(async () => {
    await engine?.stop();
  });

  it('times and prices a plain rotation: 14 transitions, 8 Lambda invocations', async () => {
    // Act
    const report = await benchEndToEnd(engine, recorder, () => 256, '', { runs: 2, log: () => undefined });
    // Assess
    expect(report.runs).toBe(2);
    expect(report.stateTransitions).toBe(14);
    expect(report.lambdaInvocations).toBe(8);
    expect(report.medianMs).toBeGreaterThan(0);
    expect(report.coldMs).toBeGreaterThan(report.minMs);
    expect(report.cost.stepFunctionsUsd).toBeCloseTo(14 * 0.000025, 12);
    expect(report.cost.lambdaInvocations).toBe(8);
  });

  it('runs every Lambda at least once across the other paths, so each has a peak memory', async () => {
    // Prepare
    const metadata = engine.synth.metadata;
    if (!isEngineMetadata(metadata)) throw new Error('no engine metadata');
    const bundles = deployedBundles(engine.synth.template, metadata, engine.synth.assemblyDirectory);
    const byDirectory = new Map(bundles.map((b) => [b.codeDirectory, b.name]));
    const nameOf = (fn: string) => byDirectory.get(engine.runtime.get(fn)?.config.codeDirectory ?? '') ?? fn;
    // Act
    await runOtherPaths(engine, () => undefined);
    const memory = memoryByFunction(recorder.all, bundles, nameOf);
    // Assess
    expect(memory.filter((m) => m.invocations === 0).map((m) => m.name)).toEqual([]);
    for (const m of memory) expect(m.peakRssMb).toBeGreaterThan(20);
  });

  it('rotates a fleet under an IAM write throttle without failures, never faster than the throttle allows', async () => {
    // Prepare: 2 writes per second per API, one at once: 6 rotations need at least 2.5 s.
    const throttled: string[] = [];
    const unsubscribe = engine.localAws?.calls.onCall((call) => {
      if (call.injected === 'throttle') throttled.push(`${call.service}:${call.operation}`);
    });
    // Act
    const report = await benchFleet(engine, { users: 6, ratePerApi: 2, burst: 1, concurrency: 3, plainTransitions: 14, log: () => undefined });
    unsubscribe?.();
    // Assess
    expect(report).toMatchObject({ users: 6, succeeded: 6, failures: 0, limitPerSecond: 2, burst: 1 });
    expect(report.wallSeconds).toBeGreaterThanOrEqual(2.4);
    expect(report.allowedInWindow).toBeCloseTo(1 + 2 * report.wallSeconds, 0);
    expect(report.fractionOfLimit).toBeLessThanOrEqual(1);
    expect(report.throttledCalls).toBe(throttled.length);
    expect(throttled.every((api) => (IAM_WRITE_APIS as readonly string[]).includes(api))).toBe(true);
  });
});

import type { InvocationReport } from '../../local/engine/lambda-runtime';
import type { DeployedBundle } from '../../bench/lambdas';
import { InvocationRecorder, memoryByFunction, plainRotationInput, runPool } from '../../bench/rotations';

function invocation(functionName: string, peakRssBytes: number): InvocationReport {
  return { functionName, requestId: 'r', startedAt: new Date(0), durationMs: 5, coldStart: false, peakRssBytes, maxRssBytes: 0, ok: true };
}

describe('runPool', () => {
  it('never runs more than `concurrency` tasks at once and keeps results in order', async () => {
    // Prepare
    let running = 0;
    let peak = 0;
    const task = async (i: number) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5 + (i % 3)));
      running -= 1;
      return i * 2;
    };
    // Act
    const results = await runPool(10, 3, task);
    // Assess
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(peak).toBe(3);
  });

  it('handles fewer tasks than workers', async () => {
    expect(await runPool(2, 8, async (i) => i)).toEqual([0, 1]);
  });
});

describe('InvocationRecorder', () => {
  it('hands out each report once', () => {
    const recorder = new InvocationRecorder();
    recorder.record(invocation('a', 1));
    expect(recorder.takeNew().map((r) => r.functionName)).toEqual(['a']);
    recorder.record(invocation('b', 1));
    expect(recorder.takeNew().map((r) => r.functionName)).toEqual(['b']);
    expect(recorder.all).toHaveLength(2);
  });
});

describe('memoryByFunction', () => {
  it('takes the highest peak per Lambda and says which never ran', () => {
    // Prepare
    const bundles = [{ name: 'plan', memoryMb: 256 }, { name: 'rollBack', memoryMb: 256 }] as DeployedBundle[];
    const reports = [invocation('Stack-Plan', 50 * 1048576), invocation('Stack-Plan', 80 * 1048576)];
    // Act
    const rows = memoryByFunction(reports, bundles, (fn) => (fn === 'Stack-Plan' ? 'plan' : fn));
    // Assess
    expect(rows).toEqual([
      { name: 'plan', invocations: 2, peakRssMb: 80, memoryMb: 256 },
      { name: 'rollBack', invocations: 0, peakRssMb: 0, memoryMb: 256 },
    ]);
  });
});

describe('plainRotationInput', () => {
  it('is the plain rotation of docs/internals.md', () => {
    expect(plainRotationInput('alice', 'bench/alice')).toEqual({
      userName: 'alice',
      delivery: { type: 'secretsManager', secretId: 'bench/alice' },
      sesSmtpRegions: ['us-east-1'],
      oldKey: { action: 'delete', gracePeriodSeconds: 0, deletionDelaySeconds: 0 },
    });
  });
});

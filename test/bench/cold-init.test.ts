import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lambdaLikeEnv, measureColdInit } from '../../bench/lib/cold-init';
import { projectNodeBinary } from '../../bench/lib/node-binary';

describe('measureColdInit', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotate-cold-init-test-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('times each file against an empty process', () => {
    // Prepare: a file that takes at least 150 ms of wall time to load, however busy the machine.
    const slow = path.join(dir, 'slow.cjs');
    fs.writeFileSync(slow, 'const end = Date.now() + 150; while (Date.now() < end) {}');
    // Act
    const report = measureColdInit([slow], { runs: 3, node: projectNodeBinary(), env: lambdaLikeEnv(), warmupRounds: 0 });
    // Assess
    const [result] = report.results;
    expect(report.baselineSamplesMs).toHaveLength(3);
    expect(result?.samplesMs).toHaveLength(3);
    expect(result?.medianMs).toBeGreaterThanOrEqual(150);
    expect(result?.ratio).toBeGreaterThan(1);
    expect(result?.ratio).toBeCloseTo((result?.medianMs ?? 0) / report.baselineMs, 5);
  });

  it('gives the child only the environment it is told to', () => {
    // Prepare: the file fails unless NODE_OPTIONS (which tsx sets for its children) is absent.
    const probe = path.join(dir, 'probe.cjs');
    fs.writeFileSync(probe, 'if (process.env.NODE_OPTIONS !== undefined || process.env.AWS_REGION !== "us-east-1") process.exit(3);');
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = '--no-warnings';
    try {
      // Act / Assess
      expect(() => measureColdInit([probe], { runs: 1, node: projectNodeBinary(), env: lambdaLikeEnv(), warmupRounds: 0 })).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
  });

  it('fails when a file does not load', () => {
    const broken = path.join(dir, 'broken.cjs');
    fs.writeFileSync(broken, 'throw new Error("boom")');
    expect(() => measureColdInit([broken], { runs: 1, node: projectNodeBinary(), env: lambdaLikeEnv(), warmupRounds: 0 })).toThrow(/broken\.cjs exited with 1/);
  });
});

/**
 * Cold initialisation: the wall time of a fresh Node.js process that loads one file and exits,
 * which is what a Lambda cold start pays for the bundle (module parse + top-level evaluation)
 * on top of the runtime's own start. Measured against the same Node.js loading an empty file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, shuffled } from './stats';

export interface ColdInitOptions {
  /** Samples per file; the median is reported. */
  readonly runs: number;
  readonly node: string;
  /** The child's whole environment (never the parent's: NODE_OPTIONS from tsx would skew it). */
  readonly env: NodeJS.ProcessEnv;
  /** Unmeasured rounds first, so every file is in the page cache. */
  readonly warmupRounds?: number;
  readonly random?: () => number;
}

export interface ColdInitResult {
  readonly file: string;
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  /** medianMs / the empty process's medianMs. */
  readonly ratio: number;
}

export interface ColdInitReport {
  readonly baselineMs: number;
  readonly baselineSamplesMs: readonly number[];
  readonly results: readonly ColdInitResult[];
}

/** A Lambda-like environment: region and credentials as the runtime sets them, nothing else. */
export function lambdaLikeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCHEXAMPLE0001',
    AWS_SECRET_ACCESS_KEY: 'bench-secret-not-a-real-key',
    AWS_LAMBDA_FUNCTION_NAME: 'keyrotate-bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    POWERTOOLS_SERVICE_NAME: 'keyrotate',
    ...extra,
  };
}

function timeOnce(node: string, file: string, env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const child = spawnSync(node, [file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) {
    throw new Error(`${path.basename(file)} exited with ${child.status ?? child.signal}: ${child.stderr.toString().slice(0, 400)}`);
  }
  return elapsed;
}

/**
 * Times every file and the empty baseline, interleaved: each round runs all of them once in a
 * shuffled order, so load from other processes on the (shared) machine hits them alike
 * instead of skewing whichever happened to run during a busy second.
 */
export function measureColdInit(files: readonly string[], options: ColdInitOptions): ColdInitReport {
  const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotate-bench-'));
  const empty = path.join(emptyDir, 'empty.cjs');
  fs.writeFileSync(empty, '');
  try {
    const all = [empty, ...files];
    const samples = new Map<string, number[]>(all.map((f) => [f, []]));
    for (let round = 0; round < (options.warmupRounds ?? 1); round += 1) {
      for (const file of all) timeOnce(options.node, file, options.env);
    }
    for (let round = 0; round < options.runs; round += 1) {
      for (const file of shuffled(all, options.random)) {
        samples.get(file)?.push(timeOnce(options.node, file, options.env));
      }
    }
    const baselineSamplesMs = samples.get(empty) ?? [];
    const baselineMs = median(baselineSamplesMs);
    return {
      baselineMs,
      baselineSamplesMs,
      results: files.map((file) => {
        const samplesMs = samples.get(file) ?? [];
        const medianMs = median(samplesMs);
        return { file, samplesMs, medianMs, ratio: medianMs / baselineMs };
      }),
    };
  } finally {
    fs.rmSync(emptyDir, { recursive: true, force: true });
  }
}

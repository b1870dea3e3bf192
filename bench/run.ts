/**
 * `npm run bench`: measures keyrotate's Lambda bundles and rotations on the local engine, prints
 * the tables and writes them as JSON under bench/results/ (options: USAGE below, or --help).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalRotationEngine } from '../local/engine/rotation-engine';
import { DEFAULT_RESULTS_DIR, formatExperiments, runExperiments, writeExperimentsReport } from './experiments/run-experiments';
import { deployedBundles, isEngineMetadata, measureBundles } from './lambdas';
import { PRICES } from './lib/pricing';
import { round } from './lib/stats';
import { type BenchReport, formatBenchReport, targetChecks } from './report';
import { BENCH_STACK, InvocationRecorder, benchEndToEnd, benchFleet, memoryByFunction, runOtherPaths } from './rotations';

const USAGE = `Usage: npm run bench -- [options]

Measures keyrotate's Lambda bundles (size, cold init) and rotations on the local engine (one
rotation end to end with its cost, every Lambda's peak memory, a throttled fleet); prints the
tables and writes them as JSON to bench/results/.

  --runs N                samples per median (default 11)
  --fleet-users N         users rotated in the fleet run (default 200)
  --fleet-rate R          IAM write throttle, calls per second per API (default 3)
  --fleet-burst B         calls at once before the rate applies (default: R)
  --fleet-concurrency C   rotations in flight at once (default 8)
  --function-env K=V      added to every Lambda's environment (repeatable)
  --experiments           the bundling experiments of bench/README.md instead
`;

export interface BenchOptions {
  readonly runs: number;
  readonly fleetUsers: number;
  readonly fleetRate: number;
  readonly fleetBurst?: number;
  readonly fleetConcurrency: number;
  readonly functionEnvironment: Readonly<Record<string, string>>;
  readonly experiments: boolean;
}

const NUMERIC_FLAGS = {
  '--runs': 'runs',
  '--fleet-users': 'fleetUsers',
  '--fleet-rate': 'fleetRate',
  '--fleet-burst': 'fleetBurst',
  '--fleet-concurrency': 'fleetConcurrency',
} as const;

/** Parses the command line; throws a message naming the flag and the value on bad input. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const options: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = {
    runs: 11,
    fleetUsers: 200,
    fleetRate: 3,
    fleetConcurrency: 8,
    functionEnvironment: {},
    experiments: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--experiments') {
      options.experiments = true;
      continue;
    }
    if (arg === '--function-env') {
      const pair = argv[i + 1] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--function-env needs NAME=VALUE, got '${pair}'`);
      options.functionEnvironment = { ...options.functionEnvironment, [pair.slice(0, eq)]: pair.slice(eq + 1) };
      i += 1;
      continue;
    }
    const key = (NUMERIC_FLAGS as Record<string, (typeof NUMERIC_FLAGS)[keyof typeof NUMERIC_FLAGS] | undefined>)[arg];
    if (!key) throw new Error(`unknown option '${arg}'`);
    const raw = argv[i + 1];
    const value = Number(raw);
    if (raw === undefined || !(value > 0) || (key !== 'fleetRate' && !Number.isInteger(value))) {
      throw new Error(`${arg} needs a positive ${key === 'fleetRate' ? 'number' : 'integer'}, got '${raw ?? ''}'`);
    }
    options[key] = value;
    i += 1;
  }
  return options;
}

function machine(): BenchReport['machine'] {
  return { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadAverage: os.loadavg().map((l) => round(l, 2)) };
}

async function runRotationBench(options: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const recorder = new InvocationRecorder();
  log('starting the local engine (synthesizes the CDK app, or reuses its cache)…');
  const engine = await LocalRotationEngine.start({
    endpoint: 'embedded',
    stack: BENCH_STACK,
    waits: { allMs: 0 },
    embedded: { propagationDelayMs: 0 },
    functionEnvironment: options.functionEnvironment,
    onInvocation: recorder.record,
  });
  try {
    const metadata = engine.synth.metadata;
    if (!isEngineMetadata(metadata)) throw new Error('the local engine did not record which function is which');
    const bundles = deployedBundles(engine.synth.template, metadata, engine.synth.assemblyDirectory);
    const byDirectory = new Map(bundles.map((b) => [b.codeDirectory, b]));
    const bundleOf = (functionName: string) => {
      const directory = engine.runtime.get(functionName)?.config.codeDirectory;
      return directory === undefined ? undefined : byDirectory.get(directory);
    };
    const nameOf = (functionName: string): string => bundleOf(functionName)?.name ?? functionName;
    const memoryOf = (functionName: string): number => engine.runtime.get(functionName)?.config.memorySizeMb ?? 128;
    const verifyFunction = engine.runtime.functionNames.find((fn) => bundleOf(fn)?.name === 'verifyNewKey') ?? '';

    const bundleReport = await measureBundles(bundles, { runs: options.runs, outDir: DEFAULT_RESULTS_DIR, log });
    const endToEnd = await benchEndToEnd(engine, recorder, memoryOf, verifyFunction, { runs: options.runs, log });
    await runOtherPaths(engine, log);
    const memory = memoryByFunction(recorder.all, bundles, nameOf);
    const fleet = await benchFleet(engine, {
      users: options.fleetUsers,
      ratePerApi: options.fleetRate,
      ...(options.fleetBurst !== undefined ? { burst: options.fleetBurst } : {}),
      concurrency: options.fleetConcurrency,
      plainTransitions: endToEnd.stateTransitions,
      log,
    });
    return {
      measuredAt: new Date().toISOString(),
      node: process.version,
      machine: machine(),
      functionEnvironment: options.functionEnvironment,
      bundles: bundleReport,
      memory,
      endToEnd,
      fleet,
      prices: PRICES,
    };
  } finally {
    await engine.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    log(`bench: ${(error as Error).message}`);
    return 2;
  }
  fs.mkdirSync(DEFAULT_RESULTS_DIR, { recursive: true });
  if (options.experiments) {
    const report = await runExperiments({ runs: options.runs, outDir: DEFAULT_RESULTS_DIR, log });
    console.log(formatExperiments(report));
    log(`\nwritten ${writeExperimentsReport(report, DEFAULT_RESULTS_DIR)}`);
    return report.experiments.every((e) => e.rows.every((r) => r.works || r.variant === 'naive')) ? 0 : 1;
  }
  const report = await runRotationBench(options, log);
  console.log(formatBenchReport(report));
  const file = path.join(DEFAULT_RESULTS_DIR, `bench-${report.measuredAt.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ ...report, targets: targetChecks(report) }, null, 2)}\n`);
  log(`\nwritten ${file}`);
  // Missed targets are reported, not a crash: the exit code says whether the run itself worked.
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

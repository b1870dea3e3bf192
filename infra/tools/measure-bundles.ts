/**
 * Measures what the bundling choice costs: bundle size and cold module load time of every
 * Lambda, with the AWS SDK v3 bundled (what the construct deploys) and left to the runtime
 * (`@aws-sdk/*` and `@smithy/*` external, resolved from node_modules as Lambda resolves them
 * from its runtime copy).
 *
 *   npx tsx infra/tools/measure-bundles.ts [runs=10]
 *
 * Cold load = wall time of `node -e "require(bundle)"` in a fresh process, median of `runs`,
 * minus the median of an empty `node -e ""`. Uses the esbuild settings the construct deploys.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { ALL_HANDLER_FILES, PROJECT_ROOT, handlerEntry } from '../bundling';
import { slimEsbuildOptions } from '../slim-bundling';

const runs = Number(process.argv[2] ?? 10);
const node = process.execPath;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function timeNode(code: string): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    const result = spawnSync(node, ['-e', code], {
      env: { ...process.env, NODE_PATH: path.join(PROJECT_ROOT, 'node_modules'), AWS_REGION: 'eu-west-1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`node -e failed: ${result.stderr.toString().slice(0, 500)}`);
    samples.push(ms);
  }
  return median(samples);
}

function bundle(file: string, outfile: string, sdkExternal: boolean): number {
  // The deployed settings (infra/bundling.ts uses infra/slim-bundling.ts), or the same with
  // the SDK left to the runtime.
  buildSync({
    ...slimEsbuildOptions,
    entryPoints: [handlerEntry(file)],
    outfile,
    external: sdkExternal ? ['@aws-sdk/*', '@smithy/*'] : [],
    logLevel: 'error',
  });
  return statSync(outfile).size;
}

const out = mkdtempSync(path.join(tmpdir(), 'keyrotate-bundles-'));
try {
  const empty = timeNode('');
  console.log(`node ${process.version}, ${runs} runs each; empty process: ${empty.toFixed(1)} ms (subtracted)\n`);
  console.log('| Lambda | bundled SDK: size | load | SDK external: size | load |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const totals = { inSize: 0, inLoad: 0, exSize: 0, exLoad: 0 };
  for (const file of ALL_HANDLER_FILES) {
    const inFile = path.join(out, 'bundled', `${file}.js`);
    const exFile = path.join(out, 'external', `${file}.js`);
    const inSize = bundle(file, inFile, false);
    const exSize = bundle(file, exFile, true);
    const inLoad = timeNode(`require(${JSON.stringify(inFile)})`) - empty;
    const exLoad = timeNode(`require(${JSON.stringify(exFile)})`) - empty;
    totals.inSize += inSize;
    totals.exSize += exSize;
    totals.inLoad += inLoad;
    totals.exLoad += exLoad;
    const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`| ${file} | ${kb(inSize)} | ${inLoad.toFixed(1)} ms | ${kb(exSize)} | ${exLoad.toFixed(1)} ms |`);
  }
  const n = ALL_HANDLER_FILES.length;
  console.log(
    `| mean | ${(totals.inSize / n / 1024).toFixed(0)} KiB | ${(totals.inLoad / n).toFixed(1)} ms | ` +
      `${(totals.exSize / n / 1024).toFixed(0)} KiB | ${(totals.exLoad / n).toFixed(1)} ms |`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}

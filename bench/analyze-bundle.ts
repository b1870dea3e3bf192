/**
 * What a Lambda bundle is made of: the biggest inputs by bytes in the output, grouped by
 * package (and by sub-module for @smithy/core and @aws-sdk/core, whose sub-modules are where
 * the weight hides), and optionally why an input is there (its chain of importers).
 *
 *   npx tsx bench/analyze-bundle.ts lambdas/handlers/plan.ts            # slim options
 *   npx tsx bench/analyze-bundle.ts bench/experiments/iam-handler.ts --naive --top 30
 *   npx tsx bench/analyze-bundle.ts cdk.out/…/index.meta.json --why nested-clients
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { slimEsbuildOptions } from '../infra/slim-bundling';
import { buildBundle } from './lib/build';
import { NAIVE_OPTIONS } from './lib/variants';

export interface SizedEntry {
  readonly name: string;
  readonly bytes: number;
}

export interface BundleSummary {
  readonly outputBytes: number;
  readonly inputs: readonly SizedEntry[];
  readonly packages: readonly SizedEntry[];
}

const SPLIT_PACKAGES = ['@smithy/core', '@aws-sdk/core', '@aws-sdk/nested-clients'];

/**
 * The package an input path belongs to: `@scope/name` or `name` after the last node_modules,
 * with the sub-module for packages that bundle many (`@smithy/core/serde`); the first folder
 * for project files.
 */
export function packageOf(input: string): string {
  const marker = 'node_modules/';
  const at = input.lastIndexOf(marker);
  if (at < 0) return input.split('/')[0] ?? input;
  const parts = input.slice(at + marker.length).split('/');
  const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? input);
  if (SPLIT_PACKAGES.includes(name)) {
    const sub = parts.indexOf('submodules');
    if (sub >= 0 && parts[sub + 1] !== undefined) return `${name}/${parts[sub + 1]}`;
  }
  return name;
}

function sortedEntries(map: Map<string, number>): SizedEntry[] {
  return [...map].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/** Bytes each input and each package contributes to the (single) JavaScript output. */
export function summarizeMetafile(metafile: Metafile): BundleSummary {
  const output = Object.entries(metafile.outputs).find(([file]) => /\.(c|m)?js$/.test(file))?.[1];
  if (!output) throw new Error('the metafile has no JavaScript output');
  const inputs = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (bytesInOutput === 0) continue;
    inputs.set(input, bytesInOutput);
    const pkg = packageOf(input);
    packages.set(pkg, (packages.get(pkg) ?? 0) + bytesInOutput);
  }
  return { outputBytes: output.bytes, inputs: sortedEntries(inputs), packages: sortedEntries(packages) };
}

/**
 * For every input whose path contains `needle`: one shortest chain of importers from it back to
 * the entry point (`[input, its importer, …, entry]`), so "why is X in my bundle" has an answer.
 */
export function explainInputs(metafile: Metafile, needle: string): string[][] {
  const importers = new Map<string, string[]>();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    for (const { path: imported, external } of imports) {
      if (external) continue;
      importers.set(imported, [...(importers.get(imported) ?? []), input]);
    }
  }
  const chains: string[][] = [];
  for (const target of Object.keys(metafile.inputs).filter((input) => input.includes(needle))) {
    // Breadth-first from the target up through its importers: the first root reached gives
    // the shortest chain.
    const previous = new Map<string, string | null>([[target, null]]);
    const queue = [target];
    let root: string | undefined;
    while (queue.length > 0 && root === undefined) {
      const current = queue.shift() as string;
      const ups = importers.get(current) ?? [];
      if (ups.length === 0) root = current;
      for (const up of ups) {
        if (!previous.has(up)) {
          previous.set(up, current);
          queue.push(up);
        }
      }
    }
    const chain: string[] = [];
    for (let node: string | null | undefined = root; node; node = previous.get(node)) chain.push(node);
    chains.push(chain.reverse());
  }
  return chains;
}

export function formatSummary(summary: BundleSummary, top: number): string {
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1).padStart(7)} KB`;
  return [
    `output: ${kb(summary.outputBytes)}`,
    '',
    `top packages (of ${summary.packages.length}):`,
    ...summary.packages.slice(0, top).map((p) => `${kb(p.bytes)}  ${p.name}`),
    '',
    `top inputs (of ${summary.inputs.length}):`,
    ...summary.inputs.slice(0, top).map((i) => `${kb(i.bytes)}  ${i.name.replace(/^.*node_modules\//, '')}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--top' || arg === '--why') flags.set(arg, argv[++i] ?? '');
    else if (arg.startsWith('--')) flags.set(arg, 'true');
    else positional.push(arg);
  }
  const target = positional[0];
  if (!target) {
    console.error('usage: analyze-bundle.ts <entry.ts | metafile.json> [--naive] [--top N] [--why substring]');
    process.exitCode = 2;
    return;
  }
  const flag = (name: string): string | undefined => flags.get(name);
  let metafile: Metafile;
  if (target.endsWith('.json')) {
    metafile = JSON.parse(fs.readFileSync(target, 'utf8')) as Metafile;
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotate-analyze-'));
    try {
      const options = flags.has('--naive') ? NAIVE_OPTIONS : slimEsbuildOptions;
      metafile = (await buildBundle(target, path.join(dir, 'index.js'), options)).metafile;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(formatSummary(summarizeMetafile(metafile), Number(flag('--top') ?? 25)));
  const why = flag('--why');
  if (why !== undefined) {
    console.log(`\nwhy ${why}:`);
    for (const chain of explainInputs(metafile, why)) console.log(`  ${chain.join('\n    <- ')}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

/**
 * The deployed Lambda bundles: which asset of the synthesized template belongs to which
 * handler, how big each is, and how long a fresh Node.js takes to load it; the same handlers
 * rebuilt with infra/slim-bundling.ts alongside, for comparison.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROTATION_LAMBDA_FILE, STATE_MACHINE_LAMBDAS, handlerEntry } from '../infra/bundling';
import { findForbiddenInputs, slimEsbuildOptions } from '../infra/slim-bundling';
import { buildBundle } from './lib/build';
import { lambdaLikeEnv, measureColdInit } from './lib/cold-init';
import { projectNodeBinary } from './lib/node-binary';
import { round } from './lib/stats';

/** The template, as much of it as this file reads. */
export interface TemplateLike {
  readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown>; readonly Metadata?: Record<string, unknown> }>>;
}

/**
 * What the local engine records at synthesis: construct name → logical id of each state-machine
 * Lambda, and the logical ids of the Secrets Manager rotation Lambdas (a list, or an object
 * keyed by logical id in earlier versions of the engine).
 */
export interface EngineMetadataLike {
  readonly functions: Readonly<Record<string, string>>;
  readonly rotationFunctions: readonly string[] | Readonly<Record<string, string>>;
}

export interface DeployedBundle {
  /** The construct's name for the function (`plan`, `createKey`, …, `secretsManagerRotation`). */
  readonly name: string;
  readonly logicalId: string;
  /** lambdas/handlers/<handlerFile>.ts */
  readonly handlerFile: string;
  /** The asset directory and the bundle in it. */
  readonly codeDirectory: string;
  readonly bundle: string;
  readonly memoryMb: number;
}

export function isEngineMetadata(value: unknown): value is EngineMetadataLike {
  const v = value as Partial<EngineMetadataLike> | null;
  return typeof v === 'object' && v !== null && typeof v.functions === 'object' && typeof v.rotationFunctions === 'object';
}

/**
 * Maps each Lambda of the template to its bundle through the asset metadata (`aws:asset:path`,
 * relative to the cloud assembly) and to its handler file through the engine's metadata.
 */
export function deployedBundles(template: TemplateLike, metadata: EngineMetadataLike, assemblyDirectory: string): DeployedBundle[] {
  const handlerFiles: Record<string, string> = { ...STATE_MACHINE_LAMBDAS };
  const entries: [string, string, string][] = [
    ...Object.entries(metadata.functions).map(([name, id]): [string, string, string] => [name, id, handlerFiles[name] ?? '']),
    ...(Array.isArray(metadata.rotationFunctions) ? (metadata.rotationFunctions as readonly string[]) : Object.keys(metadata.rotationFunctions)).map((id, i): [string, string, string] => [i === 0 ? 'secretsManagerRotation' : `secretsManagerRotation${i + 1}`, id, ROTATION_LAMBDA_FILE]),
  ];
  return entries.map(([name, logicalId, handlerFile]) => {
    const resource = template.Resources[logicalId];
    if (resource?.Type !== 'AWS::Lambda::Function') throw new Error(`${name}: ${logicalId} is not a Lambda function of the template`);
    if (!handlerFile) throw new Error(`${name}: no handler file is known for it (infra/bundling.ts STATE_MACHINE_LAMBDAS)`);
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof assetPath !== 'string') throw new Error(`${name}: ${logicalId} has no aws:asset:path metadata`);
    const codeDirectory = path.resolve(assemblyDirectory, assetPath);
    const handler = typeof resource.Properties?.Handler === 'string' ? resource.Properties.Handler : 'index.handler';
    const base = handler.slice(0, handler.lastIndexOf('.'));
    const bundle = ['.js', '.cjs', '.mjs'].map((ext) => path.join(codeDirectory, base + ext)).find((f) => fs.existsSync(f));
    if (!bundle) throw new Error(`${name}: no bundle for handler ${handler} in ${codeDirectory}`);
    const memory = resource.Properties?.MemorySize;
    return { name, logicalId, handlerFile, codeDirectory, bundle, memoryMb: typeof memory === 'number' ? memory : 128 };
  });
}

export interface BundleRow {
  readonly name: string;
  readonly handlerFile: string;
  readonly memoryMb: number;
  readonly bytes: number;
  readonly initMs: number;
  readonly initRatio: number;
  readonly sizeTargetBytes: number;
  /**
   * The same handler built with infra/slim-bundling.ts; `forbiddenInputs` should be empty (an
   * entry means an SDK upgrade or a new import undid one of its aliases).
   */
  readonly slim: { readonly bytes: number; readonly initMs: number; readonly initRatio: number; readonly forbiddenInputs: readonly string[] };
}

export interface BundleReport {
  readonly emptyProcessMs: number;
  readonly runs: number;
  readonly rows: readonly BundleRow[];
}

/** The PGP Lambda carries openpgp; every other one only AWS SDK clients. */
export function sizeTargetBytes(handlerFile: string): number {
  return (handlerFile === 'encrypt-for-pgp' ? 700 : 350) * 1024;
}

export async function measureBundles(bundles: readonly DeployedBundle[], options: { runs: number; outDir: string; log: (line: string) => void }): Promise<BundleReport> {
  const slimFiles = new Map<string, { file: string; bytes: number; forbiddenInputs: string[] }>();
  for (const b of bundles) {
    const built = await buildBundle(handlerEntry(b.handlerFile), path.join(options.outDir, 'slim-bundles', `${b.handlerFile}.cjs`), slimEsbuildOptions);
    slimFiles.set(b.name, { file: built.outfile, bytes: built.bytes, forbiddenInputs: findForbiddenInputs(built.metafile) });
  }
  const files = [...bundles.map((b) => b.bundle), ...[...slimFiles.values()].map((s) => s.file)];
  options.log(`timing cold initialisation of ${files.length} bundles (${options.runs} interleaved runs each)…`);
  const cold = measureColdInit(files, { runs: options.runs, node: projectNodeBinary(), env: lambdaLikeEnv() });
  const byFile = new Map(cold.results.map((r) => [r.file, r]));
  const timing = (file: string) => {
    const r = byFile.get(file);
    if (!r) throw new Error(`no timing for ${file}`);
    return { initMs: round(r.medianMs, 1), initRatio: round(r.ratio, 2) };
  };
  return {
    emptyProcessMs: round(cold.baselineMs, 1),
    runs: options.runs,
    rows: bundles.map((b) => {
      const slim = slimFiles.get(b.name) as { file: string; bytes: number; forbiddenInputs: string[] };
      return {
        name: b.name,
        handlerFile: b.handlerFile,
        memoryMb: b.memoryMb,
        bytes: fs.statSync(b.bundle).size,
        ...timing(b.bundle),
        sizeTargetBytes: sizeTargetBytes(b.handlerFile),
        slim: { bytes: slim.bytes, ...timing(slim.file), forbiddenInputs: slim.forbiddenInputs },
      };
    }),
  };
}

/**
 * In-process CDK synthesis for the local engine, with a cache.
 *
 * The engine runs what would be deployed: the template and the asset bundles that `cdk synth`
 * produces. Bundling every Lambda with esbuild takes seconds, so the cloud assembly is cached
 * under a key made of the sources that go into it (lambdas/**, infra/**, the lock file), the
 * construct props and the CDK version; a run with unchanged sources reuses it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { projectRoot } from './paths';
import type { CfnTemplate } from './template';

export interface SynthRequest {
  readonly stackName: string;
  /** The stack's region (concrete values at synthesis); environment-agnostic when absent. */
  readonly region?: string;
  /**
   * Adds the constructs to the (environment-agnostic) stack. What it returns (JSON, e.g. the
   * logical ids of the constructs the caller needs) is kept with the cached assembly, because a
   * cache hit does not run it.
   */
  readonly build: (stack: Stack) => unknown;
  /** Everything besides the sources that changes the output (the construct props): hashed. */
  readonly cacheKey: unknown;
  /** Source directories (absolute) that end up in the template or the bundles: hashed. */
  readonly sourceDirectories: readonly string[];
  /** Where assemblies are cached; default `<project>/.keyrotate/synth-cache` (or the temp dir). */
  readonly cacheDirectory?: string;
  /** false: always synthesize (the result is still written to the cache). */
  readonly useCache?: boolean;
}

export interface SynthResult {
  readonly stackName: string;
  /** The cloud assembly directory (cdk.out equivalent): template and asset.<hash> bundles. */
  readonly assemblyDirectory: string;
  readonly template: CfnTemplate;
  readonly cached: boolean;
  /** Time spent here: synthesis and bundling, or just reading the cache. */
  readonly durationMs: number;
  /** Synthesis time of the assembly (measured when it was built, also on a cache hit). */
  readonly synthMs: number;
  /** What `build` returned (read back from the cache on a hit). */
  readonly metadata: unknown;
}

interface CacheMarker {
  readonly stackName: string;
  readonly templateFile: string;
  readonly synthMs: number;
  readonly createdAt: string;
  readonly metadata: unknown;
}

const MARKER = 'keyrotate-synth.json';
/** Assemblies kept in the cache; older ones are removed after a new synthesis. */
const KEEP_ENTRIES = 8;
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', '.git', 'dist']);

function hashTree(hash: ReturnType<typeof createHash>, dir: string, root: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) {
      if (!SKIP_DIRS.has(name)) hashTree(hash, full, root);
    } else if (stat.isFile()) {
      hash.update(path.relative(root, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  }
}

/** The cache key: sources, lock file, CDK version, props. */
export function synthCacheKey(request: Pick<SynthRequest, 'stackName' | 'region' | 'cacheKey' | 'sourceDirectories'>): string {
  const root = projectRoot();
  const hash = createHash('sha256');
  for (const dir of request.sourceDirectories) hashTree(hash, dir, root);
  for (const file of ['package-lock.json', path.join('node_modules', 'aws-cdk-lib', 'package.json')]) {
    const full = path.join(root, file);
    if (existsSync(full)) hash.update(file).update(readFileSync(full));
  }
  hash.update(request.stackName).update(request.region ?? '').update(JSON.stringify(request.cacheKey ?? null));
  return hash.digest('hex').slice(0, 24);
}

export function defaultCacheDirectory(): string {
  const root = projectRoot();
  const inProject = path.join(root, '.keyrotate', 'synth-cache');
  try {
    mkdirSync(inProject, { recursive: true });
    return inProject;
  } catch {
    // A read-only install: fall back to the temp directory.
    return path.join(tmpdir(), 'keyrotate-synth-cache');
  }
}

function readCached(directory: string): { marker: CacheMarker; template: CfnTemplate } | null {
  const markerFile = path.join(directory, MARKER);
  if (!existsSync(markerFile)) return null;
  try {
    const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as CacheMarker;
    const template = JSON.parse(readFileSync(path.join(directory, marker.templateFile), 'utf8')) as CfnTemplate;
    return { marker, template };
  } catch {
    return null;
  }
}

function pruneCache(cacheDirectory: string, keep: string): void {
  const entries = readdirSync(cacheDirectory)
    .map((name) => path.join(cacheDirectory, name))
    .filter((dir) => dir !== keep && existsSync(path.join(dir, MARKER)))
    .map((dir) => ({ dir, mtime: statSync(path.join(dir, MARKER)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of entries.slice(KEEP_ENTRIES - 1)) rmSync(dir, { recursive: true, force: true });
}

/** Synthesizes (or reuses) the assembly of a one-stack app. */
export async function synthesize(request: SynthRequest): Promise<SynthResult> {
  const started = Date.now();
  const cacheDirectory = request.cacheDirectory ?? defaultCacheDirectory();
  mkdirSync(cacheDirectory, { recursive: true });
  const key = synthCacheKey(request);
  const directory = path.join(cacheDirectory, key);
  if (request.useCache !== false) {
    const hit = readCached(directory);
    if (hit) {
      return {
        stackName: request.stackName,
        assemblyDirectory: directory,
        template: hit.template,
        cached: true,
        durationMs: Date.now() - started,
        synthMs: hit.marker.synthMs,
        metadata: hit.marker.metadata ?? null,
      };
    }
  }

  // Synthesize into a private directory, then rename: concurrent runs (jest workers, two
  // terminals) never see a half-written assembly.
  const staging = `${directory}.tmp-${process.pid}-${Date.now()}`;
  const { App, Stack } = await import('aws-cdk-lib');
  // Asset metadata maps each function to its bundle directory (asset.<hash>); `cdk synth`
  // turns it on through the CLI, an in-process App must ask for it.
  const app = new App({ outdir: staging, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, request.stackName, request.region ? { env: { region: request.region } } : {});
  const metadata = (await request.build(stack)) ?? null;
  const assembly = app.synth();
  const artifact = assembly.getStackByName(request.stackName);
  const synthMs = Date.now() - started;
  const marker: CacheMarker = {
    stackName: request.stackName,
    templateFile: path.basename(artifact.templateFullPath),
    synthMs,
    createdAt: new Date().toISOString(),
    metadata,
  };
  writeFileSync(path.join(staging, MARKER), JSON.stringify(marker, null, 2));
  if (existsSync(directory) && !readCached(directory)) rmSync(directory, { recursive: true, force: true });
  try {
    renameSync(staging, directory);
  } catch {
    // The same key is already there (another process, or useCache: false): same sources and
    // props give the same assembly, and someone may be running it, so keep it.
    rmSync(staging, { recursive: true, force: true });
  }
  pruneCache(cacheDirectory, directory);
  const template = JSON.parse(readFileSync(path.join(directory, marker.templateFile), 'utf8')) as CfnTemplate;
  return { stackName: request.stackName, assemblyDirectory: directory, template, cached: false, durationMs: Date.now() - started, synthMs, metadata };
}

/** Builds one bundle with esbuild and reports what the benchmark needs about it. */
import fs from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

export interface BuiltBundle {
  readonly outfile: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

export async function buildBundle(entry: string, outfile: string, options: BuildOptions): Promise<BuiltBundle> {
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  const result = await build({
    ...options,
    entryPoints: [entry],
    outfile,
    metafile: true,
    write: true,
    logLevel: 'error',
  });
  return { outfile, bytes: fs.statSync(outfile).size, metafile: result.metafile };
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

let cachedRoot: string | undefined;

/**
 * The keyrotate project directory. Found by walking up from this module, because this code
 * runs both from the TypeScript sources (jest, tsx) and from the CLI bundle in dist/, and it
 * needs the files next to the sources: the Lambda runner script, lambdas/ and infra/.
 */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && isKeyrotateManifest(manifest)) {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the keyrotate project directory above ${__dirname}`);
    dir = parent;
  }
}

function isKeyrotateManifest(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'keyrotate';
  } catch {
    return false;
  }
}

/** The script each local Lambda container runs (see lambda-runner.cjs). */
export function lambdaRunnerPath(): string {
  return path.join(projectRoot(), 'local', 'engine', 'lambda-runner.cjs');
}

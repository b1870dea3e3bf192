import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

let cachedRoot: string | undefined;

/**
 * The keyrotate project directory (package.json, lambdas/, infra/shims/). Found by walking up
 * from this module, because this code runs both from the TypeScript sources (jest, tsx, cdk) and
 * from the CLI bundle in dist/, whose own directory is not the sources' one.
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

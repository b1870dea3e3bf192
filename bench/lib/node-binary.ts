import fs from 'node:fs';
import path from 'node:path';

/** The repository root (bench/lib → ..). */
export const repoRoot = path.resolve(__dirname, '..', '..');

/**
 * The Node.js 24 binary the project installs (the `node` dev dependency). Cold-start figures
 * are measured by spawning it directly: going through `npx` or a shell would add their own
 * start-up to every sample.
 */
export function projectNodeBinary(): string {
  const candidate = path.join(repoRoot, 'node_modules', '.bin', 'node');
  if (fs.existsSync(candidate)) return fs.realpathSync(candidate);
  return process.execPath;
}

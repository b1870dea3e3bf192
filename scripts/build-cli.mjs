// Builds the keyrotate CLI into dist/cli.cjs with the project's esbuild. Dependencies stay
// external (resolved from node_modules at run time), so the build takes well under a second;
// `npm ci` runs it through the `prepare` script, so no separate build step is needed.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
await build({
  entryPoints: [path.join(root, 'cli', 'main.ts')],
  outfile: path.join(root, 'dist', 'cli.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
if (!process.env.npm_config_loglevel || process.env.npm_config_loglevel !== 'silent') {
  process.stderr.write(`built dist/cli.cjs in ${Date.now() - started} ms\n`);
}

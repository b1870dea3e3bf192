#!/usr/bin/env node
'use strict';
// The keyrotate entry point. It must start on any Node.js the user has (the machine may
// only have Node 20), so it is plain CommonJS that re-executes itself with the Node.js the
// project installs from the npm registry (the `node` dev dependency) when the running one
// is older than 22, then loads the CLI bundle that `npm ci` (the `prepare` script) built.
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const projectNode = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(projectNode) || process.env.KEYROTATE_REEXEC === '1') {
    process.stderr.write(`keyrotate: Node.js 22 or newer is required (running ${process.version}); run \`npm ci\` to install the project's Node.js\n`);
    process.exit(1);
  }
  const result = spawnSync(projectNode, [__filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, KEYROTATE_REEXEC: '1' },
  });
  process.exit(result.status ?? 1);
}

const bundle = path.join(root, 'dist', 'cli.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write('keyrotate: the CLI is not built; run `npm ci` (or `npm run build`)\n');
  process.exit(1);
}
require(bundle)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });

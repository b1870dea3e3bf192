/**
 * README.md is assembled from docs/readme/*.md (scripts/build-readme.mjs); the parts are
 * checked against the code by their own tests. Here: README.md is not stale, and it documents
 * every `keyrotate` command the CLI registers.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { commands } from '../cli/commands';

const root = path.resolve(__dirname, '..');

test('README.md is the current assembly of docs/readme/*.md', () => {
  // Act
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-readme.mjs'), '--check'], { encoding: 'utf8' });

  // Assess
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test.each(commands.map((c) => c.name))('the README lists `keyrotate %s` in its command table', (name) => {
  // Prepare
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  // Assess
  expect(readme).toContain(`| \`keyrotate ${name}\` |`);
});

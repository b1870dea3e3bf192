/**
 * docs/readme/construct.md matches the code: its usage example runs against the real construct,
 * and its props tables list exactly the props of the interfaces in infra/props.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { transformSync } from 'esbuild';
import { PROJECT_ROOT } from '../../infra/bundling';

const readme = readFileSync(path.join(PROJECT_ROOT, 'docs', 'readme', 'construct.md'), 'utf8');
const propsSource = readFileSync(path.join(PROJECT_ROOT, 'infra', 'props.ts'), 'utf8');

/** The `readonly name` members of one exported interface of infra/props.ts. */
function membersOf(interfaceName: string): string[] {
  const start = propsSource.indexOf(`export interface ${interfaceName} {`);
  expect(start).toBeGreaterThanOrEqual(0);
  const body = propsSource.slice(start, propsSource.indexOf('\n}\n', start));
  return [...body.matchAll(/^ {2}readonly (\w+)\??:/gm)].map((m) => m[1] as string);
}

/** The first column of the markdown table that follows `heading`. */
function tableAfter(heading: string): string[] {
  const start = readme.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = readme.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push((line.split('|')[1] ?? '').trim().replace(/`/g, ''));
  }
  return rows;
}

test('the props table lists every prop of AccessKeyRotationProps, and no other', () => {
  expect(tableAfter('### Props').sort()).toEqual(membersOf('AccessKeyRotationProps').sort());
});

test('the RotatedUser table lists every field of RotatedUser, and no other', () => {
  expect(tableAfter('`RotatedUser`:').sort()).toEqual(membersOf('RotatedUser').sort());
});

test('the usage example runs against the real construct and synthesizes', () => {
  // Prepare
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const { code } = transformSync(block as string, { loader: 'ts', format: 'cjs', target: 'node24' });
  const outdir = mkdtempSync(path.join(tmpdir(), 'keyrotate-readme-'));
  const saved = { context: process.env.CDK_CONTEXT_JSON, outdir: process.env.CDK_OUTDIR };
  // The CDK reads these when `new App()` has no arguments: no bundling, a temporary outdir.
  process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
  process.env.CDK_OUTDIR = outdir;
  // jest's loader (TypeScript through SWC); './infra/…' is the repository's infra folder.
  const load = (id: string): unknown => jest.requireActual(id.startsWith('./infra/') ? path.join(PROJECT_ROOT, id) : id);
  const module = { exports: {} };

  try {
    // Act
    new Function('require', 'module', 'exports', code)(load, module, module.exports);

    // Assess
    const template = JSON.parse(readFileSync(path.join(outdir, 'KeyRotation.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::Scheduler::Schedule')).toHaveLength(2);
    expect(types).toContain('AWS::SecretsManager::RotationSchedule');
    expect(types).toContain('AWS::StepFunctions::StateMachine');
  } finally {
    process.env.CDK_CONTEXT_JSON = saved.context;
    process.env.CDK_OUTDIR = saved.outdir;
    if (saved.context === undefined) delete process.env.CDK_CONTEXT_JSON;
    if (saved.outdir === undefined) delete process.env.CDK_OUTDIR;
    rmSync(outdir, { recursive: true, force: true });
  }
});

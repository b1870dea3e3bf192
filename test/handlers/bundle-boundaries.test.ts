/**
 * Each Lambda bundle carries only what its Lambda needs: every lambdas/handlers/*.ts is bundled
 * with esbuild (as a deployment would: bundle, Node, CommonJS, minified) and its metafile says
 * which modules went in. The AWS SDK clients must match the Lambda's row of the permissions
 * table in docs/readme/lambdas.md, openpgp must be in EncryptForPgp only, and the core modules
 * that pull in big or unrelated code (the input parser, the PGP code, the barrel of every step)
 * only where they belong. One stray import (a step importing another step, a handler importing
 * core/rotation) fails here instead of quietly growing every cold start.
 *
 * The sizes are printed for information only: they depend on the bundling options the
 * deployment adds (infra/slim-bundling.ts), which this test leaves out on purpose.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';

const ROOT = join(__dirname, '../..');
const HANDLERS_DIR = join(ROOT, 'lambdas/handlers');

/** The IAM action prefixes of the permissions table and the SDK client each one needs. */
const SDK_CLIENT_OF_SERVICE: Readonly<Record<string, string>> = {
  iam: '@aws-sdk/client-iam',
  secretsmanager: '@aws-sdk/client-secrets-manager',
  kms: '@aws-sdk/client-kms',
  dynamodb: '@aws-sdk/client-dynamodb',
};

/**
 * STS is called with the new key itself, not the role (docs/readme/lambdas.md: "needs no
 * permission"), so the permissions table cannot say who calls it: VerifyNewKey and testSecret.
 */
const STS_CALLERS: readonly string[] = ['verify-new-key.ts', 'secrets-manager-rotation.ts'];

/** Modules (or packages) that may be in the listed bundles only. */
const CONFINED: ReadonlyArray<[string, readonly string[]]> = [
  ['node_modules/openpgp/', ['encrypt-for-pgp.ts']],
  ['lambdas/core/pgp.ts', ['encrypt-for-pgp.ts']],
  ['lambdas/adapters/https-pgp-key-fetcher.ts', ['encrypt-for-pgp.ts']],
  ['lambdas/core/rotation-input.ts', ['plan.ts']],
  ['lambdas/core/steps/plan.ts', ['plan.ts']],
  // The barrel reaches every step: no handler may import it.
  ['lambdas/core/rotation.ts', []],
];

interface Bundle {
  readonly bytes: number;
  /** Every module esbuild read, including those tree shaking then dropped whole. */
  readonly inputs: readonly string[];
  /** The modules that contribute code to the output. */
  readonly contributing: readonly string[];
}

/** file → the SDK clients its row of the permissions table needs. */
function documentedClients(): Map<string, Set<string>> {
  const markdown = readFileSync(join(ROOT, 'docs/readme/lambdas.md'), 'utf8');
  const table = new Map<string, Set<string>>();
  for (const line of markdown.split('\n')) {
    const row = /^\| `([a-z-]+\.ts)` \| [^|]+ \| ([^|]+) \|/.exec(line);
    if (!row?.[1] || !row[2]) continue;
    const services = [...row[2].matchAll(/`(iam|secretsmanager|kms|dynamodb):[A-Za-z]+`/g)].map((m) => m[1] ?? '');
    table.set(row[1], new Set(services.map((service) => SDK_CLIENT_OF_SERVICE[service] ?? service)));
  }
  return table;
}

/** The npm package of a metafile input path (the innermost node_modules), or null for project files. */
function packageOf(input: string): string | null {
  const match = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  return match?.[1] ?? null;
}

async function bundle(file: string): Promise<Bundle> {
  const result = await build({
    entryPoints: [join(HANDLERS_DIR, file)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const metafile: Metafile = result.metafile;
  const [output] = Object.values(metafile.outputs);
  if (!output) throw new Error(`esbuild wrote no output for ${file}`);
  const contributing = Object.entries(output.inputs)
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .map(([input]) => input);
  return { bytes: output.bytes, inputs: Object.keys(metafile.inputs), contributing };
}

const files = readdirSync(HANDLERS_DIR)
  .filter((file) => file.endsWith('.ts') && file !== 'shared.ts')
  .sort();
const bundles = new Map<string, Bundle>();

function bundleOf(file: string): Bundle {
  const built = bundles.get(file);
  if (!built) throw new Error(`${file} was not bundled`);
  return built;
}

beforeAll(async () => {
  const built = await Promise.all(files.map(async (file) => [file, await bundle(file)] as const));
  for (const [file, result] of built) bundles.set(file, result);
  const width = Math.max(...files.map((file) => file.length));
  const rows = files.map((file) => {
    const { bytes } = bundleOf(file);
    return `${file.padEnd(width)}  ${String(bytes).padStart(9)}  ${(bytes / 1024).toFixed(0).padStart(5)} KB`;
  });
  console.log(['Lambda bundle sizes (esbuild, minified, no slim options):', `${'handler'.padEnd(width)}  ${'bytes'.padStart(9)}`, ...rows].join('\n'));
}, 60_000);

describe('Lambda bundle boundaries', () => {
  it('bundles every handler, and the permissions table lists exactly these handlers', () => {
    // Act
    const documented = [...documentedClients().keys()].sort();

    // Assess
    expect(files.length).toBeGreaterThan(0);
    expect(documented).toEqual(files);
  });

  it.each(files)('%s carries exactly the AWS SDK clients its permissions (and STS use) need', (file) => {
    // Prepare
    const expected = new Set(documentedClients().get(file));
    if (STS_CALLERS.includes(file)) expected.add('@aws-sdk/client-sts');

    // Act: clients imported through adapters/clients.ts but never used are dropped whole, so
    // only those that contribute code count.
    const clients = new Set(
      bundleOf(file)
        .contributing.map(packageOf)
        .filter((name): name is string => name?.startsWith('@aws-sdk/client-') ?? false),
    );

    // Assess
    expect([...clients].sort()).toEqual([...expected].sort());
  });

  it.each(CONFINED)('%s is in no bundle but %j', (module, allowed) => {
    // Act: read at all (in `inputs`, even if tree shaking dropped it) is too much elsewhere.
    const holders = files.filter((file) => bundleOf(file).inputs.some((input) => input.includes(module)));
    const contributing = allowed.filter((file) => bundleOf(file).contributing.some((input) => input.includes(module)));

    // Assess: outside its Lambdas it is not even read; inside, it really is in the code.
    expect(holders).toEqual([...allowed]);
    expect(contributing).toEqual([...allowed]);
  });
});

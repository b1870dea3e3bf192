/**
 * How keyrotate's Lambda handlers should be bundled so each bundle is small and quick to load.
 * Every option here was measured (bench/README.md has the table; `npm run bench -- --experiments`
 * re-measures it). Two forms of the same settings:
 *
 * - `slimEsbuildOptions` for esbuild's JS API (the benchmark, the local engine);
 * - `slimNodejsBundling()` for CDK's `NodejsFunction` `bundling` prop, which drives the esbuild
 *   CLI: no plugins there, so every trick is an option or an `--alias:` flag.
 *
 * What each setting buys (IAM-shaped experiment: naive 553 KB, 3.6× an empty Node.js start;
 * slim 195 KB, 2.0×):
 * - `mainFields: ['module', 'main']` (−40 %): AWS SDK v3 packages have no `exports` map, so
 *   esbuild's Node default (`main` first) picks their CommonJS builds, which tree-shaking cannot
 *   prune (a client then carries every one of its commands). The ES builds prune to what is used.
 * - the aliases in `SLIM_ALIASES` (see each shim for why it is safe);
 * - `externalModules: []`: NodejsFunction leaves `@aws-sdk/*` out of the bundle by default on
 *   Node 18+ runtimes, so the Lambda would load the runtime's own, untrimmed SDK from disk.
 * - `keepNames`: keyrotate's errors take their `name` from their class (lambdas/core/errors.ts),
 *   and that name is the contract with the state machine (Retry on `TransientAwsError`, Catch,
 *   the errorType users see). Minifying renames classes, so without this a throttled call
 *   surfaces as e.g. `qd` and is never retried. It costs 13–29 KB; its init cost is within
 *   the measurement noise.
 * - `legalComments: 'external'`: licence notices (openpgp is LGPL) go to `<bundle>.LEGAL.txt`
 *   beside the bundle, in the deployed asset, instead of into the code Node.js must parse.
 * - `minify` (whitespace, identifiers and syntax), `target: 'node24'` (no down-levelling), no
 *   source map (a map is only useful with --enable-source-maps, which slows every cold start).
 * - `define` + `banner`: openpgp's ES build calls `createRequire(import.meta.url)` at load;
 *   `import.meta` is empty in a CommonJS bundle, so without these the PGP bundle throws at
 *   start-up. The banner gives it the bundle's own file URL.
 *
 * Bundles built this way read AWS credentials from environment variables only (as Lambda
 * provides them); whoever runs them elsewhere (the local engine) must set AWS_ACCESS_KEY_ID
 * and AWS_SECRET_ACCESS_KEY.
 */
import path from 'node:path';
import { projectRoot } from './project-root';
import type { BuildOptions, Metafile } from 'esbuild';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * The shims' absolute directory, so the aliases work from any working directory. Found from the
 * project root, not `__dirname`: this module also runs from the CLI bundle in dist/.
 */
export const SHIMS_DIR = path.join(projectRoot(), 'infra', 'shims');

/**
 * Import path → module that replaces it in every Lambda bundle. Absolute paths: esbuild
 * resolves an alias target from its working directory, which differs between the CDK
 * (project root) and the benchmark.
 */
export const SLIM_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.join(SHIMS_DIR, 'credential-provider-env-only.ts'),
  '@smithy/core/event-streams': path.join(SHIMS_DIR, 'no-event-streams.ts'),
  'node:stream/web': path.join(SHIMS_DIR, 'lazy-stream-web.ts'),
  openpgp: path.join(SHIMS_DIR, 'openpgp', 'index.ts'),
};

/** The Node.js the Lambdas run on (esbuild then keeps modern syntax as is). */
export const SLIM_TARGET = 'node24';

/** ES builds first: see the header comment. */
export const SLIM_MAIN_FIELDS: readonly string[] = ['module', 'main'];

const IMPORT_META_URL = '__keyrotate_import_meta_url';

/** Replaces `import.meta.url` (empty in a CommonJS bundle) by the bundle's own file URL. */
export const SLIM_DEFINE: Readonly<Record<string, string>> = { 'import.meta.url': IMPORT_META_URL };

/** Declares what SLIM_DEFINE points at; `__filename` is the bundle itself. */
export const SLIM_BANNER = `var ${IMPORT_META_URL}=require("node:url").pathToFileURL(__filename).href;`;

/** For esbuild's JS API. Add `entryPoints` and `outfile` (or `outdir`). */
export const slimEsbuildOptions = {
  bundle: true,
  platform: 'node',
  target: SLIM_TARGET,
  format: 'cjs',
  minify: true,
  // Error class names are Step Functions errorTypes (Retry/Catch match them): keep them.
  keepNames: true,
  treeShaking: true,
  mainFields: [...SLIM_MAIN_FIELDS],
  legalComments: 'external',
  sourcemap: false,
  alias: { ...SLIM_ALIASES },
  define: { ...SLIM_DEFINE },
  banner: { js: SLIM_BANNER },
} satisfies BuildOptions;

/**
 * For `new NodejsFunction(scope, id, { bundling: slimNodejsBundling(), ... })`. The runtime
 * should be Node.js 24 (`target` assumes it). Spread and override for a particular function;
 * keep `externalModules: []`.
 */
export function slimNodejsBundling(): BundlingOptions {
  return {
    minify: true,
    keepNames: true,
    target: SLIM_TARGET,
    mainFields: [...SLIM_MAIN_FIELDS],
    externalModules: [],
    sourceMap: false,
    define: { ...SLIM_DEFINE },
    banner: SLIM_BANNER,
    esbuildArgs: {
      '--alias': Object.entries(SLIM_ALIASES).map(([from, to]) => `${from}=${to}`),
      '--legal-comments': 'external',
    },
  };
}

/**
 * Inputs that must contribute no code to a slim bundle: each one means an alias stopped
 * applying (for example an SDK upgrade moved the import) and the bundle silently grew back.
 */
export const SLIM_FORBIDDEN_INPUTS: readonly string[] = [
  'node_modules/@aws-sdk/credential-provider-node/',
  'node_modules/@aws-sdk/nested-clients/',
  'node_modules/@aws-sdk/credential-provider-ini/',
  'node_modules/@aws-sdk/credential-provider-sso/',
  'node_modules/@smithy/credential-provider-imds/',
  'node_modules/@smithy/core/dist-es/submodules/event-streams/',
  'node_modules/@smithy/core/dist-cjs/',
  'node_modules/@aws-sdk/core/dist-cjs/',
];

/**
 * The inputs SLIM_FORBIDDEN_INPUTS rules out that contribute code to the bundle's output
 * (empty when slim). Inputs that tree shaking removed entirely do not count.
 */
export function findForbiddenInputs(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput > 0 && SLIM_FORBIDDEN_INPUTS.some((p) => input.includes(p))) found.add(input);
    }
  }
  return [...found].sort();
}

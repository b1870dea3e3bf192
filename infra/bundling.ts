/**
 * Which Lambdas keyrotate has and how each is bundled, in one place: the construct
 * (NodejsFunction), the benchmark (bench/) and infra/tools/measure-bundles.ts read it, so what
 * is measured is what is deployed.
 */
import * as path from 'node:path';
import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { projectRoot } from './project-root';
import { slimNodejsBundling } from './slim-bundling';

/** The repository root (package.json, package-lock.json, lambdas/). */
export const PROJECT_ROOT = projectRoot();

/** Where the handler files live; each exports `handler` (docs/internals.md). */
export const HANDLERS_DIR = path.join(PROJECT_ROOT, 'lambdas', 'handlers');

/**
 * The Lambdas of the state machine, keyed by the name the construct exposes them under
 * (`AccessKeyRotation.functions`), valued by their handler file (without `.ts`).
 */
export const STATE_MACHINE_LAMBDAS = {
  plan: 'plan',
  purgeStaleKey: 'purge-stale-key',
  createKey: 'create-key',
  deriveSmtpPasswords: 'derive-smtp-passwords',
  storeSecret: 'store-secret',
  encryptForPgp: 'encrypt-for-pgp',
  verifyNewKey: 'verify-new-key',
  promoteSecret: 'promote-secret',
  retireOldKey: 'retire-old-key',
  rollBack: 'roll-back',
} as const;

export type StateMachineLambdaName = keyof typeof STATE_MACHINE_LAMBDAS;

/** A Lambda's PascalCase name: its construct id (before `Function`) and its name in the docs. */
export function lambdaId(name: StateMachineLambdaName): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The Secrets Manager rotation Lambda's handler file. */
export const ROTATION_LAMBDA_FILE = 'secrets-manager-rotation';

/** Every handler file the construct bundles. */
export const ALL_HANDLER_FILES: readonly string[] = [...Object.values(STATE_MACHINE_LAMBDAS), ROTATION_LAMBDA_FILE];

export function handlerEntry(file: string): string {
  return path.join(HANDLERS_DIR, `${file}.ts`);
}

/**
 * The NodejsFunction bundling of every keyrotate Lambda: the measured "slim" settings of
 * infra/slim-bundling.ts (written with the benchmark, which re-measures them: bench/README.md),
 * plus what only the construct decides. In short:
 * - The AWS SDK v3 is bundled (`externalModules: []`), not taken from the runtime: the bundled,
 *   tree-shaken copy loads faster (docs/readme/construct.md "Performance") and the deployed code
 *   runs exactly the SDK version the tests ran (the runtime's copy changes without notice).
 * - ES module builds first (`mainFields: module, main`), so esbuild can tree-shake the SDK.
 * - `keepNames`: class and function names stay readable in stack traces. The Step Functions
 *   error types that Retry and Catch match do not depend on it: each error class states its
 *   name as a literal (lambdas/core/errors.ts).
 * - Aliases: openpgp is marked free of side effects (so only EncryptForPgp's bundle keeps it),
 *   the SDK's credential chain is reduced to the environment variables Lambda provides.
 * - `import.meta.url` defined for CommonJS output (openpgp calls createRequire with it at load).
 * - CommonJS output (`require()`-able: the local engine loads the bundles so), minified, no
 *   source maps, licence comments in a file beside the bundle.
 * - Local esbuild only: no Docker on developer laptops or CI.
 */
export function lambdaBundling(): BundlingOptions {
  return {
    ...slimNodejsBundling(),
    format: OutputFormat.CJS,
    // With `externalModules: []` (slim) this is implied; said explicitly because NodejsFunction
    // would otherwise leave `@aws-sdk/*` to the runtime on Node.js 18 and later.
    bundleAwsSDK: true,
    logLevel: LogLevel.WARNING,
    forceDockerBundling: false,
  };
}

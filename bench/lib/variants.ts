/**
 * The bundling variants the experiments compare: a naive build, then one technique added at a
 * time (so each row's difference is that technique's effect), ending at infra/slim-bundling.ts,
 * plus the alternatives that were measured and not adopted.
 */
import type { BuildOptions } from 'esbuild';
import { SLIM_ALIASES, SLIM_BANNER, SLIM_DEFINE, SLIM_MAIN_FIELDS, slimEsbuildOptions } from '../../infra/slim-bundling';

/** What "just bundle and minify it" gives. */
export const NAIVE_OPTIONS = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
} satisfies BuildOptions;

export interface Variant {
  readonly id: string;
  readonly label: string;
  readonly options: BuildOptions;
  /** Output extension: `.mjs` for ES module output. */
  readonly extension: '.cjs' | '.mjs';
  /** False for alternatives that were measured but are not part of the slim options. */
  readonly adopted: boolean;
  /** Use another entry point (a code change rather than a build option), by experiment id. */
  readonly entryOverride?: Readonly<Record<string, string>>;
}

const importMetaFix = { define: { ...SLIM_DEFINE }, banner: { js: SLIM_BANNER } } satisfies BuildOptions;
const withMainFields = { ...NAIVE_OPTIONS, ...importMetaFix, mainFields: [...SLIM_MAIN_FIELDS] } satisfies BuildOptions;
const aliasesUpTo = (count: number): Record<string, string> => Object.fromEntries(Object.entries(SLIM_ALIASES).slice(0, count));

/** Cumulative: each adopted variant is the previous one plus one technique. */
export const VARIANTS: readonly Variant[] = [
  { id: 'naive', label: 'naive (bundle, minify, node24, cjs)', options: NAIVE_OPTIONS, extension: '.cjs', adopted: true },
  {
    id: 'import-meta',
    label: '+ import.meta.url for CommonJS',
    options: { ...NAIVE_OPTIONS, ...importMetaFix },
    extension: '.cjs',
    adopted: true,
  },
  { id: 'main-fields', label: "+ mainFields ['module','main']", options: withMainFields, extension: '.cjs', adopted: true },
  {
    id: 'env-credentials',
    label: '+ alias credential-provider-node → env only',
    options: { ...withMainFields, alias: aliasesUpTo(1) },
    extension: '.cjs',
    adopted: true,
  },
  {
    id: 'no-event-streams',
    label: '+ alias @smithy/core/event-streams → stub',
    options: { ...withMainFields, alias: aliasesUpTo(2) },
    extension: '.cjs',
    adopted: true,
  },
  {
    id: 'lazy-stream-web',
    label: '+ alias node:stream/web → lazy',
    options: { ...withMainFields, alias: aliasesUpTo(3) },
    extension: '.cjs',
    adopted: true,
  },
  {
    id: 'openpgp-side-effect-free',
    label: '+ alias openpgp → side-effect-free re-export',
    options: { ...withMainFields, alias: aliasesUpTo(4) },
    extension: '.cjs',
    adopted: true,
  },
  {
    id: 'keep-names',
    label: '+ keepNames (error classes keep their names)',
    options: { ...withMainFields, alias: aliasesUpTo(4), keepNames: true },
    extension: '.cjs',
    adopted: true,
  },
  { id: 'slim', label: "+ legalComments 'external' = slim-bundling.ts", options: slimEsbuildOptions, extension: '.cjs', adopted: true },
  {
    id: 'slim-lazy-openpgp',
    label: 'slim + openpgp loaded on first use (code change)',
    options: slimEsbuildOptions,
    extension: '.cjs',
    adopted: true,
    entryOverride: { pgp: 'pgp-lazy-handler.ts' },
  },
  {
    id: 'slim-esm',
    label: 'alternative: slim as ES module (.mjs)',
    options: { ...slimEsbuildOptions, format: 'esm', define: {}, banner: {} },
    extension: '.mjs',
    adopted: false,
  },
  {
    id: 'sdk-external',
    label: "alternative: NodejsFunction default (@aws-sdk/* external, runtime's SDK)",
    options: { ...NAIVE_OPTIONS, ...importMetaFix, external: ['@aws-sdk/*'] },
    extension: '.cjs',
    adopted: false,
  },
];

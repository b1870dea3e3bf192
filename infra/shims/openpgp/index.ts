/**
 * Stand-in for `openpgp` in keyrotate's Lambda bundles (wired by the esbuild alias in
 * infra/slim-bundling.ts): re-exports the real package, from a package scope that declares
 * `"sideEffects": false` (package.json beside this file; `#openpgp` maps to the real `openpgp`,
 * which the alias does not rewrite).
 *
 * Why: the handlers import their step from lambdas/core/rotation.ts, which imports every step,
 * including the PGP one, so every Lambda's bundle imports openpgp. openpgp does not declare
 * itself free of side effects (its module body runs set-up code), so esbuild keeps all of it,
 * 270 KB, in every bundle, and Node.js evaluates it at every cold start, although only
 * EncryptForPgp ever calls it. Loading openpgp changes nothing outside openpgp, so declaring
 * it side-effect free is true; esbuild then drops it wherever none of its exports is used and
 * keeps it whole where one is.
 */
export * from '#openpgp';

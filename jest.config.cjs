/**
 * Jest runs TypeScript through SWC (no TypeScript compiler API needed) and also
 * transforms the ESM-only packages (middy 7 and friends) to CommonJS, the way
 * middy's testing guide describes for Jest.
 */
const esmPackages = ['@middy', 'aws-local-stepfunctions'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj|cj)s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  // middy 7 publishes only an "import" export condition; Jest resolves with "require", so
  // point it at the ESM entry, which the transform above turns into CommonJS.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 30000,
};

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
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 30000,
};

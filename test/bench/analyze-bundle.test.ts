import type { Metafile } from 'esbuild';
import { explainInputs, formatSummary, packageOf, summarizeMetafile } from '../../bench/analyze-bundle';

/** A metafile as esbuild writes it, reduced to the fields the analyzer reads. */
function metafile(): Metafile {
  const input = (imports: string[]) => ({ bytes: 1, imports: imports.map((path) => ({ path, kind: 'import-statement' as const, original: path })) });
  return {
    inputs: {
      'lambdas/handlers/plan.ts': input(['lambdas/core/rotation.ts']),
      'lambdas/core/rotation.ts': input(['lambdas/core/pgp.ts', 'node_modules/@aws-sdk/client-iam/dist-es/index.js']),
      'lambdas/core/pgp.ts': input(['node_modules/openpgp/dist/node/openpgp.mjs']),
      'node_modules/openpgp/dist/node/openpgp.mjs': input([]),
      'node_modules/@aws-sdk/client-iam/dist-es/index.js': input(['node_modules/@smithy/core/dist-es/submodules/serde/index.js']),
      'node_modules/@smithy/core/dist-es/submodules/serde/index.js': input([]),
      'node_modules/@smithy/core/dist-es/submodules/serde/date-utils.js': input([]),
    },
    outputs: {
      'out/index.js': {
        bytes: 1000,
        imports: [],
        exports: [],
        entryPoint: 'lambdas/handlers/plan.ts',
        inputs: {
          'lambdas/handlers/plan.ts': { bytesInOutput: 50 },
          'lambdas/core/rotation.ts': { bytesInOutput: 100 },
          'lambdas/core/pgp.ts': { bytesInOutput: 0 },
          'node_modules/openpgp/dist/node/openpgp.mjs': { bytesInOutput: 600 },
          'node_modules/@aws-sdk/client-iam/dist-es/index.js': { bytesInOutput: 150 },
          'node_modules/@smithy/core/dist-es/submodules/serde/index.js': { bytesInOutput: 60 },
          'node_modules/@smithy/core/dist-es/submodules/serde/date-utils.js': { bytesInOutput: 40 },
        },
      },
    },
  };
}

describe('packageOf', () => {
  it.each([
    ['node_modules/openpgp/dist/node/openpgp.mjs', 'openpgp'],
    ['node_modules/@aws-sdk/client-iam/dist-es/index.js', '@aws-sdk/client-iam'],
    ['node_modules/@smithy/core/dist-es/submodules/serde/index.js', '@smithy/core/serde'],
    ['node_modules/@aws-sdk/core/dist-es/submodules/protocols/query/x.js', '@aws-sdk/core/protocols'],
    ['node_modules/a/node_modules/@scope/b/index.js', '@scope/b'],
    ['lambdas/core/pgp.ts', 'lambdas'],
  ])('%s belongs to %s', (input, expected) => {
    expect(packageOf(input)).toBe(expected);
  });
});

describe('summarizeMetafile', () => {
  it('ranks inputs and packages by the bytes they put in the output, dropping tree-shaken ones', () => {
    // Act
    const summary = summarizeMetafile(metafile());
    // Assess
    expect(summary.outputBytes).toBe(1000);
    expect(summary.inputs[0]).toEqual({ name: 'node_modules/openpgp/dist/node/openpgp.mjs', bytes: 600 });
    expect(summary.inputs.map((i) => i.name)).not.toContain('lambdas/core/pgp.ts');
    expect(summary.packages).toEqual([
      { name: 'openpgp', bytes: 600 },
      { name: '@aws-sdk/client-iam', bytes: 150 },
      { name: 'lambdas', bytes: 150 },
      { name: '@smithy/core/serde', bytes: 100 },
    ]);
  });

  it('fails on a metafile without JavaScript output', () => {
    expect(() => summarizeMetafile({ inputs: {}, outputs: {} })).toThrow('no JavaScript output');
  });

  it('formats the top entries only', () => {
    const text = formatSummary(summarizeMetafile(metafile()), 1);
    expect(text).toContain('openpgp');
    expect(text).not.toContain('client-iam');
  });
});

describe('explainInputs', () => {
  it('gives the shortest chain of importers from the input to the entry point', () => {
    // Act
    const chains = explainInputs(metafile(), 'openpgp');
    // Assess
    expect(chains).toEqual([
      ['node_modules/openpgp/dist/node/openpgp.mjs', 'lambdas/core/pgp.ts', 'lambdas/core/rotation.ts', 'lambdas/handlers/plan.ts'],
    ]);
  });

  it('is empty when nothing matches', () => {
    expect(explainInputs(metafile(), 'no-such-package')).toEqual([]);
  });
});

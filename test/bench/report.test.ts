import type { BundleRow } from '../../bench/lambdas';
import { PRICES, rotationCost } from '../../bench/lib/pricing';
import { type BenchReport, formatBenchReport, targetChecks } from '../../bench/report';

function row(name: string, bytes: number, initRatio: number, handlerFile = name): BundleRow {
  return {
    name,
    handlerFile,
    memoryMb: 256,
    bytes,
    initMs: initRatio * 20,
    initRatio,
    sizeTargetBytes: (handlerFile === 'encrypt-for-pgp' ? 700 : 350) * 1024,
    slim: { bytes, initMs: initRatio * 20, initRatio, forbiddenInputs: [] },
  };
}

function report(overrides: { transitions?: number; fraction?: number; failures?: number } = {}): BenchReport {
  const cost = rotationCost(overrides.transitions ?? 14, [{ durationMs: 10, memoryMb: 256 }]);
  return {
    measuredAt: '2026-01-01T00:00:00.000Z',
    node: 'v24.0.0',
    machine: { cpus: 2, model: 'test', loadAverage: [0.1, 0.1, 0.1] },
    functionEnvironment: {},
    bundles: { emptyProcessMs: 20, runs: 11, rows: [row('plan', 300 * 1024, 1.5), row('encryptForPgp', 720 * 1024, 2.5, 'encrypt-for-pgp')] },
    memory: [{ name: 'plan', invocations: 3, peakRssMb: 80, memoryMb: 256 }],
    endToEnd: {
      runs: 11,
      coldMs: 900,
      medianMs: 70,
      minMs: 60,
      maxMs: 90,
      stateTransitions: overrides.transitions ?? 14,
      lambdaInvocations: 8,
      cost,
      costWithPropagation: cost,
      assumedPropagationMs: 10_000,
    },
    fleet: {
      users: 200,
      concurrency: 8,
      ratePerApi: 4,
      burst: 4,
      limitPerSecond: 4,
      allowedInWindow: 224,
      wallSeconds: 55,
      achievedPerSecond: 3.6,
      fractionOfLimit: overrides.fraction ?? 0.9,
      succeeded: 200 - (overrides.failures ?? 0),
      failures: overrides.failures ?? 0,
      failureReasons: [],
      throttledCalls: 10,
      stateTransitions: 2800,
      retryTransitions: 0,
      rotationP50Ms: 500,
      rotationP95Ms: 900,
    },
    prices: PRICES,
  };
}

describe('targetChecks', () => {
  it('checks size and init per Lambda, with the PGP Lambda allowed 700 KB', () => {
    // Act
    const checks = targetChecks(report());
    // Assess
    expect(checks.find((c) => c.what === 'plan bundle size')).toMatchObject({ met: true, target: '< 350.0 KB' });
    expect(checks.find((c) => c.what === 'plan cold init')).toMatchObject({ met: true, measured: '1.50×' });
    expect(checks.find((c) => c.what === 'encryptForPgp bundle size')).toMatchObject({ met: false, target: '< 700.0 KB', measured: '720.0 KB' });
    expect(checks.find((c) => c.what === 'encryptForPgp cold init')).toMatchObject({ met: false });
  });

  it('fails the rotation targets when they are missed', () => {
    const checks = targetChecks(report({ transitions: 15, fraction: 0.79, failures: 1 }));
    expect(checks.filter((c) => !c.met).map((c) => c.what)).toEqual(
      expect.arrayContaining(['state transitions per plain rotation', 'fleet throughput', 'fleet failures']),
    );
  });

  it('passes them when they are met', () => {
    const checks = targetChecks(report());
    for (const what of ['state transitions per plain rotation', 'fleet throughput', 'fleet failures']) {
      expect(checks.find((c) => c.what === what)?.met).toBe(true);
    }
  });
});

describe('formatBenchReport', () => {
  it('warns when a slim rebuild contains what the aliases should keep out', () => {
    const r = report();
    const rows = [{ ...r.bundles.rows[0], slim: { ...r.bundles.rows[0]!.slim, forbiddenInputs: ['node_modules/@aws-sdk/nested-clients/x.js'] } } as BundleRow];
    const text = formatBenchReport({ ...r, bundles: { ...r.bundles, rows } });
    expect(text).toContain("WARNING: plan's slim bundle contains what slim-bundling.ts should keep out: node_modules/@aws-sdk/nested-clients/x.js");
  });

  it('states the prices with their date and marks missed targets', () => {
    const text = formatBenchReport(report());
    expect(text).toContain(`list prices of ${PRICES.asOf}`);
    expect(text).toContain('$0.025 per 1,000 transitions');
    expect(text).toContain('| encryptForPgp bundle size | < 700.0 KB | 720.0 KB | **no** |');
    expect(text).toContain('not invoked');
  });
});

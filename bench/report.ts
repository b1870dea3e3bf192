/**
 * The `npm run bench` report: one JSON document (bench/results/bench-<time>.json) and the
 * tables printed from it, each figure checked against its target.
 */
import type { BundleReport } from './lambdas';
import { PRICES, formatUsd } from './lib/pricing';
import type { EndToEndReport, FleetReport, MemoryRow } from './rotations';

export const TARGETS = {
  /** Init of a bundle, as a multiple of an empty Node.js process. */
  initRatio: 1.8,
  stateTransitions: 14,
  fleetFractionOfLimit: 0.8,
  fleetFailures: 0,
} as const;

export interface BenchReport {
  readonly measuredAt: string;
  readonly node: string;
  readonly machine: { readonly cpus: number; readonly model: string; readonly loadAverage: readonly number[] };
  /** Added to every Lambda's environment for this run (--function-env); empty: as deployed. */
  readonly functionEnvironment: Readonly<Record<string, string>>;
  readonly bundles: BundleReport;
  readonly memory: readonly MemoryRow[];
  readonly endToEnd: EndToEndReport;
  readonly fleet: FleetReport;
  readonly prices: typeof PRICES;
}

export interface TargetCheck {
  readonly what: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

/** Every target of the benchmark, one line each, met or not. */
export function targetChecks(report: BenchReport): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of report.bundles.rows) {
    checks.push({
      what: `${row.name} bundle size`,
      target: `< ${kb(row.sizeTargetBytes)}`,
      measured: kb(row.bytes),
      met: row.bytes < row.sizeTargetBytes,
    });
    checks.push({
      what: `${row.name} cold init`,
      target: `< ${TARGETS.initRatio}× empty`,
      measured: `${row.initRatio.toFixed(2)}×`,
      met: row.initRatio < TARGETS.initRatio,
    });
  }
  checks.push({
    what: 'state transitions per plain rotation',
    target: `≤ ${TARGETS.stateTransitions}`,
    measured: String(report.endToEnd.stateTransitions),
    met: report.endToEnd.stateTransitions <= TARGETS.stateTransitions,
  });
  checks.push({
    what: 'fleet throughput',
    target: `≥ ${TARGETS.fleetFractionOfLimit * 100}% of the throttle's limit`,
    measured: `${(report.fleet.fractionOfLimit * 100).toFixed(1)}%`,
    met: report.fleet.fractionOfLimit >= TARGETS.fleetFractionOfLimit,
  });
  checks.push({
    what: 'fleet failures',
    target: `${TARGETS.fleetFailures}`,
    measured: String(report.fleet.failures),
    met: report.fleet.failures <= TARGETS.fleetFailures,
  });
  return checks;
}

export function formatBenchReport(report: BenchReport): string {
  const b = report.bundles;
  const e = report.endToEnd;
  const f = report.fleet;
  const memory = new Map(report.memory.map((m) => [m.name, m]));
  const lines: string[] = [
    `keyrotate benchmark, ${report.measuredAt}: Node.js ${report.node}, ${report.machine.cpus} × ${report.machine.model}, ` +
      `load average ${report.machine.loadAverage.join(' ')}`,
    ...(Object.keys(report.functionEnvironment).length > 0
      ? [`Lambda environment changed for this run: ${Object.entries(report.functionEnvironment).map(([k, v]) => `${k}=${v}`).join(' ')}`]
      : []),
    '',
    `## Lambda bundles (as synthesized; init = fresh Node.js loading the bundle, median of ${b.runs}; empty process ${b.emptyProcessMs} ms)`,
    '',
    '| Lambda | memory | size | target | init ms | init × empty | peak RSS (rotation) | slim-bundling.ts: size | init × empty |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...b.rows.map((r) => {
      const m = memory.get(r.name);
      return `| ${r.name} | ${r.memoryMb} MB | ${kb(r.bytes)} | < ${kb(r.sizeTargetBytes)} | ${r.initMs.toFixed(1)} | ${r.initRatio.toFixed(2)}× | ${
        m && m.invocations > 0 ? `${m.peakRssMb.toFixed(1)} MB` : 'not invoked'
      } | ${kb(r.slim.bytes)} | ${r.slim.initRatio.toFixed(2)}× |`;
    }),
    ...b.rows
      .filter((r) => r.slim.forbiddenInputs.length > 0)
      .map((r) => `WARNING: ${r.name}'s slim bundle contains what slim-bundling.ts should keep out: ${r.slim.forbiddenInputs.join(', ')}`),
    '',
    `## One rotation end to end (Secrets Manager, one SES region, grace 0, delete; median of ${e.runs} warm runs)`,
    '',
    `- wall time: median ${e.medianMs} ms (min ${e.minMs}, max ${e.maxMs}); first, every Lambda cold: ${e.coldMs} ms`,
    `- state transitions: ${e.stateTransitions}; Lambda invocations: ${e.lambdaInvocations}`,
    `- cost at ${PRICES.region} list prices of ${PRICES.asOf} (${PRICES.source}; Step Functions Standard $0.025 per 1,000 transitions, ` +
      `Lambda arm64 $0.0000000133 per ms at 1024 MB scaled by configured memory, $0.20 per million requests; free tiers not deducted):`,
    `  - as measured locally: ${formatUsd(e.cost.totalUsd)} per rotation (Step Functions ${formatUsd(e.cost.stepFunctionsUsd)}, ` +
      `Lambda duration ${formatUsd(e.cost.lambdaDurationUsd)}, requests ${formatUsd(e.cost.lambdaRequestsUsd)}); ${formatUsd(e.cost.totalUsd * 1000)} per 1,000`,
    `  - with VerifyNewKey waiting ${e.assumedPropagationMs / 1000} s for IAM propagation, as on AWS: ${formatUsd(e.costWithPropagation.totalUsd)} per rotation; ` +
      `${formatUsd(e.costWithPropagation.totalUsd * 1000)} per 1,000`,
    '',
    `## Fleet: ${f.users} users, IAM writes (CreateAccessKey, UpdateAccessKey, DeleteAccessKey) throttled to ${f.ratePerApi}/s each (burst ${f.burst}), ${f.concurrency} rotations at a time`,
    '',
    `- limit the throttle allows: ${f.limitPerSecond} rotations/s (one call of each API per rotation), i.e. ${f.allowedInWindow} rotations in the ${f.wallSeconds} s the run took (burst + rate × time)`,
    `- achieved: ${f.succeeded} rotations in ${f.wallSeconds} s = ${f.achievedPerSecond}/s, ${(f.fractionOfLimit * 100).toFixed(1)}% of what the throttle allowed`,
    `- succeeded ${f.succeeded}, failed ${f.failures}${f.failureReasons.length ? ` (${f.failureReasons.join(', ')})` : ''}; ` +
      `${f.throttledCalls} calls throttled; ${f.retryTransitions} extra state transitions from retries; rotation p50 ${f.rotationP50Ms} ms, p95 ${f.rotationP95Ms} ms`,
    '',
    '## Targets',
    '',
    '| what | target | measured | met |',
    '| --- | --- | --- | --- |',
    ...targetChecks(report).map((c) => `| ${c.what} | ${c.target} | ${c.measured} | ${c.met ? 'yes' : '**no**'} |`),
  ];
  return lines.join('\n');
}

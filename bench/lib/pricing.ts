/**
 * What one rotation costs at AWS list prices. Pure arithmetic over what the local engine
 * measured (state transitions, Lambda invocations with their duration and configured memory).
 */

export const PRICES = {
  region: 'us-east-1',
  /** When these figures were taken from the pricing pages below (first tier, free tiers not deducted). */
  asOf: '2026-11-27',
  source: 'aws.amazon.com/step-functions/pricing, aws.amazon.com/lambda/pricing',
  /** Step Functions Standard: $0.025 per 1,000 state transitions (retries included). */
  stateTransitionUsd: 0.025 / 1000,
  /** Lambda arm64 duration: $0.0000133334 per GB-second, i.e. $0.0000000133 per ms at 1024 MB. */
  lambdaArmUsdPerMsAt1024Mb: 0.0000000133,
  /** Lambda requests: $0.20 per million. */
  lambdaRequestUsd: 0.2 / 1_000_000,
} as const;

export interface BilledInvocation {
  /** Billed duration: Lambda rounds up to the next millisecond (init included since 2025). */
  readonly durationMs: number;
  readonly memoryMb: number;
}

export interface RotationCost {
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  readonly stepFunctionsUsd: number;
  readonly lambdaDurationUsd: number;
  readonly lambdaRequestsUsd: number;
  readonly totalUsd: number;
}

export function rotationCost(stateTransitions: number, invocations: readonly BilledInvocation[]): RotationCost {
  const stepFunctionsUsd = stateTransitions * PRICES.stateTransitionUsd;
  const lambdaDurationUsd = invocations.reduce(
    (sum, i) => sum + Math.ceil(i.durationMs) * PRICES.lambdaArmUsdPerMsAt1024Mb * (i.memoryMb / 1024),
    0,
  );
  const lambdaRequestsUsd = invocations.length * PRICES.lambdaRequestUsd;
  return {
    stateTransitions,
    lambdaInvocations: invocations.length,
    stepFunctionsUsd,
    lambdaDurationUsd,
    lambdaRequestsUsd,
    totalUsd: stepFunctionsUsd + lambdaDurationUsd + lambdaRequestsUsd,
  };
}

/** `$0.000412` style, enough digits for sub-cent amounts. */
export function formatUsd(usd: number): string {
  return `$${usd < 0.01 ? usd.toPrecision(3) : usd.toFixed(4)}`;
}

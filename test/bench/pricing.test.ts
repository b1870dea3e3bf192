import { PRICES, formatUsd, rotationCost } from '../../bench/lib/pricing';

describe('rotationCost', () => {
  it('prices transitions, duration scaled by memory, and requests', () => {
    // Prepare: 14 transitions; one 100 ms invocation at 1024 MB, one 50 ms at 512 MB.
    const invocations = [
      { durationMs: 100, memoryMb: 1024 },
      { durationMs: 50, memoryMb: 512 },
    ];
    // Act
    const cost = rotationCost(14, invocations);
    // Assess
    expect(cost.stepFunctionsUsd).toBeCloseTo(14 * 0.000025, 12);
    expect(cost.lambdaDurationUsd).toBeCloseTo(100 * 0.0000000133 + 50 * 0.0000000133 * 0.5, 15);
    expect(cost.lambdaRequestsUsd).toBeCloseTo(2 * 0.0000002, 15);
    expect(cost.totalUsd).toBeCloseTo(cost.stepFunctionsUsd + cost.lambdaDurationUsd + cost.lambdaRequestsUsd, 15);
    expect(cost).toMatchObject({ stateTransitions: 14, lambdaInvocations: 2 });
  });

  it('bills whole milliseconds, rounded up', () => {
    const cost = rotationCost(0, [{ durationMs: 1.2, memoryMb: 1024 }]);
    expect(cost.lambdaDurationUsd).toBeCloseTo(2 * PRICES.lambdaArmUsdPerMsAt1024Mb, 15);
  });

  it('states where its prices come from and when', () => {
    expect(PRICES.region).toBe('us-east-1');
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('formatUsd', () => {
  it('keeps three significant digits below a cent', () => {
    expect(formatUsd(0.000352)).toBe('$0.000352');
    expect(formatUsd(0.3518)).toBe('$0.3518');
  });
});

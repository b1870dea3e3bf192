import { parseBenchArgs } from '../../bench/run';

describe('parseBenchArgs', () => {
  it('has the documented defaults', () => {
    expect(parseBenchArgs([])).toEqual({ runs: 11, fleetUsers: 200, fleetRate: 3, fleetConcurrency: 8, functionEnvironment: {}, experiments: false });
  });

  it('reads every option', () => {
    const options = parseBenchArgs([
      '--runs', '21', '--fleet-users', '50', '--fleet-rate', '2.5', '--fleet-burst', '3', '--fleet-concurrency', '4',
      '--function-env', 'AWS_RETRY_MODE=adaptive', '--function-env', 'X=a=b', '--experiments',
    ]);
    expect(options).toEqual({
      runs: 21,
      fleetUsers: 50,
      fleetRate: 2.5,
      fleetBurst: 3,
      fleetConcurrency: 4,
      functionEnvironment: { AWS_RETRY_MODE: 'adaptive', X: 'a=b' },
      experiments: true,
    });
  });

  it.each([
    [['--runs', '0'], "--runs needs a positive integer, got '0'"],
    [['--runs', '1.5'], "--runs needs a positive integer, got '1.5'"],
    [['--fleet-rate'], "--fleet-rate needs a positive number, got ''"],
    [['--fleet'], "unknown option '--fleet'"],
    [['--function-env', 'novalue'], "--function-env needs NAME=VALUE, got 'novalue'"],
  ])('fails on %j, naming the flag and the value', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});

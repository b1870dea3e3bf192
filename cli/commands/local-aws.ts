import { parseArgs } from 'node:util';
import { type CliCommand, type CliIo, UsageError } from '../io';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from '../../local/aws';

/** LocalStack's port: scripts and docs written for it work unchanged. */
const DEFAULT_PORT = 4566;

const help = `Usage: keyrotate local-aws [--port N] [--host H] [--state FILE] [--propagation-delay MS] [--region R]

Runs the local AWS endpoint until Ctrl-C (or SIGTERM): one HTTP server speaking the real wire
protocols of IAM, STS, Secrets Manager, KMS and DynamoDB (the part of AWS keyrotate uses), so
the AWS CLI, the AWS SDKs and keyrotate itself can use it through AWS_ENDPOINT_URL. It prints
the variables to export. Any credentials work as the account's administrator, except access
keys the endpoint created for its IAM users: those are checked like AWS checks them.

Options:
  --port N                 TCP port; 0 picks a free one (default ${DEFAULT_PORT}).
  --host H                 Interface to listen on (default 127.0.0.1).
  --state FILE             Load state from FILE and save it after every change, so data
                           survives a restart. The file holds secrets: it is created with
                           mode 0600. Default: in memory only.
  --propagation-delay MS   A new access key is rejected (InvalidClientTokenId) until it is
                           MS milliseconds old, like IAM's eventual consistency (default 0).
  --region R               Region in the ARNs the endpoint makes (default us-east-1).
  --account-id ID          12-digit account id (default 000000000000).
  --throttle-fraction F    Throttle this fraction (0-1) of all calls at random.
  --throttle-rate N        Token bucket per API: N calls per second sustained...
  --throttle-burst N       ...and N calls at once (default: the rate).
  --seed N                 Seed of the random throttle (default 1).
  --log-calls              Print one line per call to stderr (service, operation, outcome).
  -h, --help               Show this help.

Example:
  keyrotate local-aws --state .keyrotate/local-aws.json &
  export AWS_ENDPOINT_URL=http://127.0.0.1:${DEFAULT_PORT} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  aws iam create-user --user-name mailer
`;

function number(flag: string, value: string | undefined, check: (n: number) => boolean, allowed: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`${flag} must be ${allowed}, got '${value}'`);
  return n;
}

/** Turns the command line into endpoint options (and whether to log calls). */
export function parseLocalAwsArgs(args: string[]): { options: LocalAwsOptions; logCalls: boolean } {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        state: { type: 'string' },
        'propagation-delay': { type: 'string' },
        region: { type: 'string' },
        'account-id': { type: 'string' },
        'throttle-fraction': { type: 'string' },
        'throttle-rate': { type: 'string' },
        'throttle-burst': { type: 'string' },
        seed: { type: 'string' },
        'log-calls': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const str = (name: string) => values[name] as string | undefined;
  const region = str('region');
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new UsageError(`--region must be a region name such as us-east-1, got '${region}'`);
  const accountId = str('account-id');
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) throw new UsageError(`--account-id must be 12 digits, got '${accountId}'`);
  const fraction = number('--throttle-fraction', str('throttle-fraction'), (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  const rate = number('--throttle-rate', str('throttle-rate'), (n) => n > 0, 'a positive number');
  const burst = number('--throttle-burst', str('throttle-burst'), (n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1');
  const seed = number('--seed', str('seed'), Number.isInteger, 'a whole number');
  if (burst !== undefined && rate === undefined) throw new UsageError('--throttle-burst needs --throttle-rate');
  const throttled = fraction !== undefined || rate !== undefined;
  return {
    options: {
      port: number('--port', str('port'), (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number from 0 to 65535') ?? DEFAULT_PORT,
      host: str('host') ?? '127.0.0.1',
      stateFile: str('state'),
      propagationDelayMs: number('--propagation-delay', str('propagation-delay'), (n) => Number.isInteger(n) && n >= 0, 'a whole number of milliseconds >= 0'),
      region,
      accountId,
      throttle: throttled ? { fraction, rate, burst, seed } : undefined,
    },
    logCalls: values['log-calls'] === true,
  };
}

/**
 * Runs the endpoint until `signal` aborts, then saves state and stops; resolves to the exit
 * code. `onReady` hands the running endpoint over (tests use it to reach the server).
 */
export async function serveLocalAws(args: string[], io: CliIo, options: { signal: AbortSignal; onReady?: (aws: LocalAws) => void }): Promise<number> {
  const { options: endpointOptions, logCalls } = parseLocalAwsArgs(args);
  let aws: LocalAws;
  try {
    aws = await startLocalAws(endpointOptions);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      io.stderr.write(`keyrotate local-aws: port ${endpointOptions.port} is already in use (another local endpoint?); use --port 0 for a free port\n`);
      return 1;
    }
    throw error;
  }
  if (logCalls) {
    aws.calls.onCall((c) => {
      io.stderr.write(`${c.time.toISOString()} ${c.service} ${c.operation} ${c.outcome}${c.errorCode ? ` ${c.errorCode}` : ''}${c.injected ? ` (${c.injected})` : ''}\n`);
    });
  }
  const lines = [
    `Local AWS endpoint (IAM, STS, Secrets Manager, KMS, DynamoDB) listening on ${aws.endpoint}`,
    endpointOptions.stateFile === undefined
      ? 'State: in memory (lost on exit; use --state FILE to keep it).'
      : `State: ${endpointOptions.stateFile} (mode 0600: it holds secret keys and secret values).`,
    'Point AWS tools at it:',
    '',
    `export AWS_ENDPOINT_URL=${aws.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${aws.region} AWS_DEFAULT_REGION=${aws.region}`,
    '',
    'Stop with Ctrl-C.',
    '',
  ];
  io.stdout.write(lines.join('\n'));
  options.onReady?.(aws);
  if (!options.signal.aborted) {
    await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  await aws.stop();
  io.stderr.write('Local AWS endpoint stopped.\n');
  return 0;
}

export const localAwsCommand: CliCommand = {
  name: 'local-aws',
  summary: 'Run the local AWS endpoint (IAM, STS, Secrets Manager, KMS, DynamoDB) until Ctrl-C',
  help,
  async run(args, io) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      return await serveLocalAws(args, io, { signal: controller.signal });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

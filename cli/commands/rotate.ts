/**
 * `keyrotate rotate`: one rotation, on AWS (StartExecution of a deployed state machine, then
 * followed) or on the local engine (the synthesized state machine and the bundled Lambdas, run
 * against the embedded endpoint or AWS_ENDPOINT_URL). Progress goes to stderr, the result to
 * stdout as Terraform-style attributes (or JSON).
 */
import { parseArgs } from 'node:util';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ValidationError } from '../../lambdas/core/errors';
import { parseRotationInput } from '../../lambdas/core/rotation-input';
import type { RotationInput } from '../../lambdas/core/types';
import { causeMessage, type ExecutionEvent, type ExecutionResult } from '../../local/engine/events';
import { type CliCommand, type CliIo, UsageError } from '../io';
import { ProgressPrinter, renderAttributes, summaryLine } from '../progress';
import { glueArmoredPgpKey, readPgpKeyArg } from '../pgp-key-arg';
import { followExecution } from '../sfn-follower';

const DURATION = /^(\d+)([smhd]?)$/;
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `15m`, `2h`, `7d` or plain seconds; the error names the flag. */
export function parseDuration(flag: string, value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new UsageError(`${flag}: '${value}' is not a duration (use 90s, 15m, 2h, 7d or plain seconds)`);
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 1);
  if (!Number.isSafeInteger(seconds)) throw new UsageError(`${flag}: '${value}' is too long`);
  return seconds;
}

/** Input field (JSON path from the core's ValidationError) → the flag that sets it. */
const FLAG_OF_FIELD: Record<string, string> = {
  userName: '--user',
  accessKeyId: '--access-key-id',
  oldAccessKeyId: '--old-key-id',
  delivery: '--secret-id / --pgp-key',
  'delivery.secretId': '--secret-id',
  'delivery.pgpKey': '--pgp-key',
  sesSmtpRegions: '--smtp-region',
  newKeyStatus: '--new-key-status',
  oldKey: '--grace / --delete-after',
  'oldKey.action': '--keep-old-key',
  'oldKey.gracePeriodSeconds': '--grace',
  'oldKey.deletionDelaySeconds': '--delete-after',
  'oldKey.requireUnusedSeconds': '--require-unused',
};

function flagOf(field: string): string {
  return FLAG_OF_FIELD[field] ?? FLAG_OF_FIELD[field.replace(/\[\d+\]$/, '')] ?? field;
}

export type RotateTarget = { readonly kind: 'local'; readonly waitMs?: number } | { readonly kind: 'aws'; readonly stateMachineArn: string; readonly region?: string };

export interface RotateRequest {
  readonly target: RotateTarget;
  readonly input: RotationInput;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly executionName?: string;
}

const STATE_MACHINE_ARN = /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]{1,80}$/;
const EXECUTION_NAME = /^[\w-]{1,80}$/;

/** Parses and validates the flags into the execution input. Errors name the flag. */
export async function parseRotateArgs(args: string[]): Promise<RotateRequest> {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: glueArmoredPgpKey(args),
      options: {
        user: { type: 'string' },
        'access-key-id': { type: 'string' },
        'old-key-id': { type: 'string' },
        'secret-id': { type: 'string' },
        'pgp-key': { type: 'string' },
        'smtp-region': { type: 'string', multiple: true },
        'no-smtp': { type: 'boolean' },
        'allow-unlisted-smtp-region': { type: 'boolean' },
        'new-key-status': { type: 'string' },
        grace: { type: 'string' },
        'delete-after': { type: 'string' },
        'keep-old-key': { type: 'boolean' },
        'require-unused': { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        local: { type: 'boolean' },
        'state-machine-arn': { type: 'string' },
        region: { type: 'string' },
        name: { type: 'string' },
        'wait-ms': { type: 'string' },
        verbose: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  // Never echo a stray argument: it may be a secret pasted in the wrong place.
  if (positionals.length > 0) throw new UsageError('unexpected argument (not shown); every value goes with a flag, see --help');
  const str = (flag: string) => values[flag] as string | undefined;
  const bool = (flag: string) => values[flag] === true;

  if (bool('local') === (str('state-machine-arn') !== undefined)) {
    throw new UsageError('give exactly one of --local or --state-machine-arn ARN');
  }
  const stateMachineArn = str('state-machine-arn');
  if (stateMachineArn !== undefined && !STATE_MACHINE_ARN.test(stateMachineArn)) {
    throw new UsageError('--state-machine-arn: not a Step Functions state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)');
  }
  if (bool('local') && str('region') !== undefined) throw new UsageError('--region applies to --state-machine-arn only (locally: AWS_REGION)');
  if (!bool('local') && str('wait-ms') !== undefined) throw new UsageError('--wait-ms applies to --local only');
  if ((str('user') === undefined) === (str('access-key-id') === undefined)) {
    throw new UsageError('give exactly one of --user NAME or --access-key-id ID');
  }
  if ((str('secret-id') === undefined) === (str('pgp-key') === undefined)) {
    throw new UsageError('give exactly one of --secret-id ID or --pgp-key KEY');
  }
  const regions = (values['smtp-region'] as string[] | undefined) ?? [];
  if (bool('no-smtp') && regions.length > 0) throw new UsageError('--no-smtp and --smtp-region exclude each other');
  if (bool('keep-old-key') && str('delete-after') !== undefined) throw new UsageError('--delete-after has no effect with --keep-old-key (the old key is kept Inactive)');
  const name = str('name');
  if (name !== undefined && !EXECUTION_NAME.test(name)) throw new UsageError('--name: 1 to 80 of letters, digits, - and _');
  let waitMs: number | undefined;
  if (str('wait-ms') !== undefined) {
    const raw = str('wait-ms') ?? '';
    if (!/^\d{1,9}$/.test(raw)) throw new UsageError(`--wait-ms: '${raw}' is not a whole number of milliseconds`);
    waitMs = Number(raw);
  }

  const oldKey: Record<string, unknown> = {};
  if (bool('keep-old-key')) oldKey.action = 'deactivate';
  if (str('grace') !== undefined) oldKey.gracePeriodSeconds = parseDuration('--grace', str('grace') ?? '');
  if (str('delete-after') !== undefined) oldKey.deletionDelaySeconds = parseDuration('--delete-after', str('delete-after') ?? '');
  if (str('require-unused') !== undefined) oldKey.requireUnusedSeconds = parseDuration('--require-unused', str('require-unused') ?? '');

  const pgpKey = str('pgp-key');
  const input: Record<string, unknown> = {
    ...(str('user') !== undefined ? { userName: str('user') } : {}),
    ...(str('access-key-id') !== undefined ? { accessKeyId: str('access-key-id') } : {}),
    ...(str('old-key-id') !== undefined ? { oldAccessKeyId: str('old-key-id') } : {}),
    delivery: pgpKey !== undefined ? { type: 'pgp', pgpKey: await readPgpKeyArg(pgpKey) } : { type: 'secretsManager', secretId: str('secret-id') },
    ...(bool('no-smtp') ? { sesSmtpRegions: [] } : regions.length > 0 ? { sesSmtpRegions: regions } : {}),
    ...(bool('allow-unlisted-smtp-region') ? { allowUnlistedSesRegions: true } : {}),
    ...(str('new-key-status') !== undefined ? { newKeyStatus: str('new-key-status') } : {}),
    ...(Object.keys(oldKey).length > 0 ? { oldKey } : {}),
    ...(bool('dry-run') ? { dryRun: true } : {}),
  };
  // The same validation Plan runs, before anything starts: a bad flag fails here, naming it.
  try {
    parseRotationInput(input, { defaultSesSmtpRegions: [] });
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(`${flagOf(error.field)}: ${error.message}`);
    throw error;
  }

  const region = str('region');
  return {
    target: stateMachineArn !== undefined ? { kind: 'aws', stateMachineArn, ...(region !== undefined ? { region } : {}) } : { kind: 'local', ...(waitMs !== undefined ? { waitMs } : {}) },
    input: input as RotationInput,
    json: bool('json'),
    verbose: bool('verbose'),
    ...(name !== undefined ? { executionName: name } : {}),
  };
}

/** A running rotation the command can follow: local engine or AWS. */
export interface RotationRun {
  /** Execution ARN (AWS) or the local execution's ARN. */
  readonly executionArn: string;
  readonly stateNames?: readonly string[];
  readonly result: Promise<ExecutionResult>;
  /** Stops what was started (the local engine); a no-op on AWS. */
  close(): Promise<void>;
}

export interface RotateDependencies {
  /** Starts a rotation on the local engine. */
  startLocal(request: RotateRequest, io: CliIo, onEvent: (event: ExecutionEvent) => void): Promise<RotationRun>;
  sfnClient(region: string | undefined): SFNClient;
  /** Pause between GetExecutionHistory polls. */
  readonly pollMs: number;
}

async function startLocalDefault(request: RotateRequest, io: CliIo, onEvent: (event: ExecutionEvent) => void): Promise<RotationRun> {
  // Loaded on demand: `rotate --state-machine-arn` never pays for the engine and the CDK app.
  const { LocalRotationEngine } = await import('../../local/engine/rotation-engine');
  const { streamLogSink } = await import('../../local/engine/log-sink');
  if (request.target.kind !== 'local') throw new Error('not a local target');
  const engine = await LocalRotationEngine.start({
    env: io.env,
    ...(request.target.waitMs !== undefined ? { waits: { allMs: request.target.waitMs } } : {}),
    ...(request.verbose ? { forwardLogs: streamLogSink(io.stderr) } : {}),
  });
  io.stderr.write(
    `Local engine: ${engine.endpointDescription}; state machine synthesized ${engine.synth.cached ? 'from cache' : 'now'} ` +
      `(${engine.synth.durationMs} ms)\n`,
  );
  try {
    const execution = engine.start(request.input, { ...(request.executionName ? { name: request.executionName } : {}), onEvent });
    return { executionArn: execution.executionArn, stateNames: engine.stateNames, result: execution.result, close: () => engine.stop() };
  } catch (error) {
    await engine.stop();
    throw error;
  }
}

export const defaultRotateDependencies: RotateDependencies = {
  startLocal: startLocalDefault,
  sfnClient: (region) => new SFNClient(region !== undefined ? { region } : {}),
  pollMs: 1000,
};

async function startOnAws(request: RotateRequest, deps: RotateDependencies, io: CliIo, onEvent: (event: ExecutionEvent) => void): Promise<RotationRun> {
  if (request.target.kind !== 'aws') throw new Error('not an AWS target');
  const client = deps.sfnClient(request.target.region);
  const started = await client.send(
    new StartExecutionCommand({
      stateMachineArn: request.target.stateMachineArn,
      input: JSON.stringify(request.input),
      ...(request.executionName !== undefined ? { name: request.executionName } : {}),
    }),
  );
  const executionArn = started.executionArn ?? '';
  io.stderr.write(`Started ${executionArn}\n`);
  return {
    executionArn,
    result: followExecution(client, executionArn, { onEvent, pollMs: deps.pollMs }),
    close: async () => client.destroy(),
  };
}

/**
 * A PGP key that was delivered and verified by an execution that then failed (retiring the old
 * key failed): its ciphertext is only in the execution's history, so the CLI hands it over.
 * Ciphertext and identifiers only, as the execution output would have had them.
 */
export interface StrandedDelivery {
  readonly id: string;
  readonly encryptedSecret: string;
  readonly encryptedSesSmtpPasswordV4?: string | null;
  readonly keyFingerprint: string;
}

/** Watches the events for a verified PGP delivery that RollBack did not undo. */
export class StrandedDeliveryWatch {
  private verified: StrandedDelivery | null = null;
  private rolledBack = false;

  onEvent(event: ExecutionEvent): void {
    if (event.type === 'StateEntered' && event.stateName === 'RollBack') this.rolledBack = true;
    if (event.type !== 'StateExited' || event.stateName !== 'VerifyNewKey') return;
    const state = event.output as { newKey?: { accessKeyId?: unknown }; delivery?: Record<string, unknown> } | undefined;
    const delivery = state?.delivery;
    const id = state?.newKey?.accessKeyId;
    if (delivery?.type !== 'pgp' || typeof id !== 'string' || typeof delivery.encryptedSecret !== 'string') return;
    this.verified = {
      id,
      encryptedSecret: delivery.encryptedSecret,
      ...(typeof delivery.encryptedSesSmtpPasswordV4 === 'string' ? { encryptedSesSmtpPasswordV4: delivery.encryptedSesSmtpPasswordV4 } : {}),
      keyFingerprint: String(delivery.keyFingerprint),
    };
  }

  /** The delivery, when the execution failed after it and nothing rolled it back. */
  stranded(): StrandedDelivery | null {
    return this.rolledBack ? null : this.verified;
  }
}

/** Prints the result; returns the exit code. */
export function reportResult(
  result: ExecutionResult,
  request: Pick<RotateRequest, 'json'>,
  io: CliIo,
  label = 'rotate',
  stranded: StrandedDelivery | null = null,
): number {
  io.stderr.write(`${summaryLine(result)}\n`);
  if (result.status === 'SUCCEEDED') {
    const output = (result.output ?? {}) as Record<string, unknown>;
    io.stdout.write(request.json ? `${JSON.stringify(output, null, 2)}\n` : renderAttributes(output));
    return 0;
  }
  if (result.status === 'FAILED') io.stderr.write(`keyrotate ${label}: ${result.error}: ${causeMessage(result.cause)}\n`);
  if (stranded) {
    io.stderr.write(
      `keyrotate ${label}: the new key ${stranded.id} was delivered and verified before the failure; its encrypted secret ` +
        `follows (as in a successful output). Hand it to the consumers, then run the rotation again with ` +
        `--old-key-id ${stranded.id}: the old key is then retired first. If nobody will use ${stranded.id}, delete it instead.\n`,
    );
    io.stdout.write(request.json ? `${JSON.stringify(stranded, null, 2)}\n` : renderAttributes({ ...stranded }));
  }
  return 1;
}

const help = `Usage: keyrotate rotate (--user NAME | --access-key-id ID) (--secret-id ID | --pgp-key KEY)
                        (--local | --state-machine-arn ARN) [options]

Rotates one IAM user's access key: creates a new key, derives the SES SMTP password(s),
delivers them (Secrets Manager, or encrypted to a PGP key), verifies the new key with a signed
STS call, then retires the old key. Progress goes to standard error, one line per state as it
starts and ends; the result goes to standard output as Terraform-style attributes. No
plaintext secret is ever printed.

Where it runs (exactly one):
  --local                    The local engine: the state machine and Lambda bundles that
                             would be deployed, run on this machine against AWS_ENDPOINT_URL
                             when it is set (e.g. \`keyrotate local-aws\`, LocalStack), else an
                             embedded, empty local endpoint (useful for demos and tests only:
                             create users with \`keyrotate local-aws\` and the AWS CLI).
  --state-machine-arn ARN    AWS: StartExecution of a deployed keyrotate state machine, then
                             follows it until it ends (credentials and region as for the AWS
                             CLI; --region REGION to override).

Which key (exactly one):
  --user NAME                The IAM user.
  --access-key-id ID         Start from a key (as Terraform import): its user is rotated.
  --old-key-id ID            The key to retire, when the user has two Active keys and no
                             Secrets Manager AWSCURRENT says which one is current.

Delivery (exactly one):
  --secret-id ID             Store in this Secrets Manager secret (name or ARN): AWSPENDING,
                             then AWSCURRENT once the new key is verified.
  --pgp-key KEY              Encrypt to this PGP public key (base64, armored, keybase:NAME,
                             github:NAME, external:NAME|URL, or @FILE); the output then holds
                             encrypted_secret and key_fingerprint.

SES SMTP:
  --smtp-region REGION       Derive the SMTP password for REGION (repeatable). Default: the
                             stack's default regions.
  --no-smtp                  Derive no SMTP password.
  --allow-unlisted-smtp-region  Accept a region missing from keyrotate's list.

New and old key:
  --new-key-status STATUS    Active (default) or Inactive (pgp delivery only).
  --grace DURATION           Keep the old key Active this long after delivery (default 0).
  --delete-after DURATION    Delete the old key this long after deactivating it (default 0).
  --keep-old-key             Leave the old key Inactive instead of deleting it.
  --require-unused DURATION  Deactivate the old key only once unused for DURATION.
  DURATION is 90s, 15m, 2h, 7d, or plain seconds.

Other:
  --dry-run                  Plan only: print what would happen, change nothing.
  --json                     Print only the execution output as JSON on standard output.
  --name NAME                Execution name (default: a UUID).
  --wait-ms MS               --local only: every Wait state lasts MS milliseconds.
  --verbose                  --local only: also print the Lambdas' logs on standard error.
  -h, --help                 Show this help.

Exit status: 0 when the rotation succeeded, 1 when it failed (the typed error name and its
cause are printed), 2 for a usage error.

Examples:
  keyrotate rotate --user mailer --secret-id mailer/smtp --state-machine-arn arn:aws:states:eu-west-1:123456789012:stateMachine:KeyRotation
  keyrotate rotate --access-key-id AKIA... --pgp-key keybase:alice --no-smtp --state-machine-arn ARN --json
  AWS_ENDPOINT_URL=http://127.0.0.1:4566 keyrotate rotate --local --user mailer --secret-id mailer/smtp --grace 15m --wait-ms 100
`;

export function createRotateCommand(deps: RotateDependencies = defaultRotateDependencies): CliCommand {
  return {
    name: 'rotate',
    summary: 'Rotate one IAM user access key (on AWS, or on the local engine with --local)',
    help,
    async run(args, io) {
      const request = await parseRotateArgs(args);
      let printer: ProgressPrinter | null = null;
      const pending: ExecutionEvent[] = [];
      // Events can arrive before the state names are known (the printer aligns on them).
      const watch = new StrandedDeliveryWatch();
      const onEvent = (event: ExecutionEvent) => {
        watch.onEvent(event);
        if (printer) printer.onEvent(event);
        else pending.push(event);
      };
      const run = request.target.kind === 'local' ? await deps.startLocal(request, io, onEvent) : await startOnAws(request, deps, io, onEvent);
      printer = new ProgressPrinter(io.stderr, { ...(run.stateNames ? { stateNames: run.stateNames } : {}) });
      for (const event of pending.splice(0)) printer.onEvent(event);
      try {
        const result = await run.result;
        return reportResult(result, request, io, 'rotate', result.status === 'SUCCEEDED' ? null : watch.stranded());
      } finally {
        await run.close();
      }
    },
  };
}

export const rotateCommand = createRotateCommand();

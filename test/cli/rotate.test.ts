import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { UsageError } from '../../cli/io';
import { createRotateCommand, defaultRotateDependencies, parseDuration, parseRotateArgs } from '../../cli/commands/rotate';
import { main } from '../../cli/main';
import { ProgressPrinter, renderAttributes, summaryLine } from '../../cli/progress';
import type { ExecutionEvent } from '../../local/engine/events';
import { memoryIo } from '../helpers/memory-io';
import { EXAMPLE_PGP_PUBLIC_KEY } from '../../infra/example-pgp-key';

const SM_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:KeyRotation';
const EXEC_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:KeyRotation:run-1';
const AWS = ['--state-machine-arn', SM_ARN];

async function usageError(args: string[]): Promise<string> {
  const error = await parseRotateArgs(args).catch((e: unknown) => e);
  if (!(error instanceof UsageError)) throw new Error(`expected a UsageError, got ${String(error)}`);
  return error.message;
}

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['7d', 604_800],
    ['120', 120],
    ['0', 0],
  ])('reads %s as %i seconds', (text, seconds) => {
    // Prepare / Act
    const parsed = parseDuration('--grace', text);

    // Assess
    expect(parsed).toBe(seconds);
  });

  it.each(['1w', '-5', '1.5h', 'soon', ''])('fails for %j, naming the flag', (text) => {
    // Prepare / Act
    const act = () => parseDuration('--delete-after', text);

    // Assess
    expect(act).toThrow(UsageError);
    expect(act).toThrow(/^--delete-after: '.*' is not a duration/);
  });
});

describe('parseRotateArgs', () => {
  it('builds the execution input from the flags', async () => {
    // Prepare
    const args = [
      '--user', 'mailer', '--secret-id', 'mailer/smtp', '--smtp-region', 'eu-west-1', '--smtp-region', 'us-east-1',
      '--grace', '2h', '--delete-after', '7d', '--require-unused', '15m', '--old-key-id', 'AKIAOLDOLDOLDOLD1234', '--dry-run',
      ...AWS, '--region', 'eu-west-1', '--name', 'manual-1',
    ];

    // Act
    const request = await parseRotateArgs(args);

    // Assess
    expect(request).toEqual({
      target: { kind: 'aws', stateMachineArn: SM_ARN, region: 'eu-west-1' },
      input: {
        userName: 'mailer',
        oldAccessKeyId: 'AKIAOLDOLDOLDOLD1234',
        delivery: { type: 'secretsManager', secretId: 'mailer/smtp' },
        sesSmtpRegions: ['eu-west-1', 'us-east-1'],
        oldKey: { gracePeriodSeconds: 7200, deletionDelaySeconds: 604_800, requireUnusedSeconds: 900 },
        dryRun: true,
      },
      json: false,
      verbose: false,
      executionName: 'manual-1',
    });
  });

  it('starts from a key, with PGP delivery, no SMTP and the old key kept', async () => {
    // Prepare
    const args = ['--access-key-id', 'AKIAEXAMPLEEXAMPLE12', '--pgp-key', 'keybase:alice', '--no-smtp', '--keep-old-key', '--local', '--wait-ms', '50', '--json'];

    // Act
    const request = await parseRotateArgs(args);

    // Assess
    expect(request).toEqual({
      target: { kind: 'local', waitMs: 50 },
      input: { accessKeyId: 'AKIAEXAMPLEEXAMPLE12', delivery: { type: 'pgp', pgpKey: 'keybase:alice' }, sesSmtpRegions: [], oldKey: { action: 'deactivate' } },
      json: true,
      verbose: false,
    });
  });

  it('takes an armored key given as the separate argument after --pgp-key (it starts with dashes)', async () => {
    // Prepare
    const { readKey } = await import('openpgp');
    const armored = (await readKey({ binaryKey: Buffer.from(EXAMPLE_PGP_PUBLIC_KEY, 'base64') })).armor();

    // Act
    const request = await parseRotateArgs(['--user', 'u', '--pgp-key', armored, ...AWS]);

    // Assess
    expect(request.input.delivery).toEqual({ type: 'pgp', pgpKey: armored });
  });

  it('reads --pgp-key @FILE, a binary export becoming base64', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'keyrotate-cli-'));
    const file = path.join(dir, 'key.gpg');
    // A real public key as `gpg --export` writes it (binary), so Plan's structural check passes.
    const binary = Buffer.from(EXAMPLE_PGP_PUBLIC_KEY, 'base64');
    writeFileSync(file, binary);

    // Act
    const request = await parseRotateArgs(['--user', 'u', '--pgp-key', `@${file}`, ...AWS]);
    const missing = await usageError(['--user', 'u', '--pgp-key', `@${path.join(dir, 'nope.gpg')}`, ...AWS]);

    // Assess
    expect(request.input.delivery).toEqual({ type: 'pgp', pgpKey: binary.toString('base64') });
    expect(missing).toMatch(/^--pgp-key: cannot read key file '.*nope.gpg' \(ENOENT\)$/);
  });

  it.each([
    [['--user', 'u', '--secret-id', 's'], 'give exactly one of --local or --state-machine-arn ARN'],
    [['--user', 'u', '--secret-id', 's', '--local', ...AWS], 'give exactly one of --local or --state-machine-arn ARN'],
    [['--secret-id', 's', ...AWS], 'give exactly one of --user NAME or --access-key-id ID'],
    [['--user', 'u', '--access-key-id', 'AKIAEXAMPLEEXAMPLE12', '--secret-id', 's', ...AWS], 'give exactly one of --user NAME or --access-key-id ID'],
    [['--user', 'u', ...AWS], 'give exactly one of --secret-id ID or --pgp-key KEY'],
    [['--user', 'u', '--secret-id', 's', '--no-smtp', '--smtp-region', 'eu-west-1', ...AWS], '--no-smtp and --smtp-region exclude each other'],
    [['--user', 'u', '--secret-id', 's', '--keep-old-key', '--delete-after', '1d', ...AWS], '--delete-after has no effect with --keep-old-key'],
    [['--user', 'u', '--secret-id', 's', '--state-machine-arn', 'arn:aws:lambda:eu-west-1:123456789012:function:x'], '--state-machine-arn: not a Step Functions state machine ARN'],
    [['--user', 'u', '--secret-id', 's', '--grace', '3 weeks', ...AWS], "--grace: '3 weeks' is not a duration"],
    [['--user', 'u', '--secret-id', 's', '--wait-ms', '10', ...AWS], '--wait-ms applies to --local only'],
  ])('refuses %j: %s', async (args, message) => {
    // Prepare / Act
    const text = await usageError(args);

    // Assess
    expect(text).toContain(message);
  });

  it.each([
    [['--user', 'not a user!', '--secret-id', 's'], '--user: invalid userName'],
    [['--access-key-id', 'ASIATEMPORARYKEY1234', '--secret-id', 's'], '--access-key-id: invalid accessKeyId'],
    [['--user', 'u', '--secret-id', 'bad secret name'], '--secret-id: invalid delivery.secretId'],
    [['--user', 'u', '--secret-id', 's', '--smtp-region', 'xx-nowhere-1'], '--smtp-region: invalid sesSmtpRegions'],
    [['--user', 'u', '--secret-id', 's', '--new-key-status', 'Inactive'], '--new-key-status: invalid newKeyStatus'],
    [['--user', 'u', '--secret-id', 's', '--grace', '400d'], '--grace: invalid oldKey.gracePeriodSeconds'],
  ])('validates %j as Plan would, naming the flag: %s', async (args, message) => {
    // Prepare / Act
    const text = await usageError([...args, ...AWS]);

    // Assess
    expect(text.startsWith(message)).toBe(true);
  });

  it('refuses a stray argument without echoing it', async () => {
    // Prepare
    const secretLooking = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

    // Act
    const text = await usageError(['--user', 'u', '--secret-id', 's', secretLooking, ...AWS]);

    // Assess
    expect(text).toContain('unexpected argument (not shown)');
    expect(text).not.toContain(secretLooking);
  });
});

describe('renderAttributes', () => {
  it('prints a Secrets Manager result as aligned Terraform-style attributes', () => {
    // Prepare
    const output = {
      id: 'AKIANEWNEWNEWNEW1234',
      userName: 'mailer',
      status: 'Active',
      createDate: '2025-01-02T03:04:05Z',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mailer-AbCdEf',
      secretVersionId: 'v-1',
      sesSmtpRegions: ['eu-west-1'],
      previousKey: { id: 'AKIAOLDOLDOLDOLD1234', action: 'deleted' },
      rotationId: 'run-1',
    };

    // Act
    const text = renderAttributes(output);

    // Assess
    expect(text).toBe(
      [
        'id                = "AKIANEWNEWNEWNEW1234"',
        'user              = "mailer"',
        'status            = "Active"',
        'create_date       = "2025-01-02T03:04:05Z"',
        'secret_arn        = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mailer-AbCdEf"',
        'secret_version_id = "v-1"',
        'ses_smtp_regions  = ["eu-west-1"]',
        'previous_key      = { id = "AKIAOLDOLDOLDOLD1234", action = "deleted" }',
        'rotation_id       = "run-1"',
        '',
      ].join('\n'),
    );
  });

  it('prints the PGP attributes under Terraform names', () => {
    // Prepare
    const output = { id: 'AKIA1', encryptedSecret: 'wcBMA…', encryptedSesSmtpPasswordV4: null, keyFingerprint: 'ab12', previousKey: null };

    // Act
    const text = renderAttributes(output);

    // Assess
    expect(text).toContain('encrypted_secret               = "wcBMA…"');
    expect(text).toContain('encrypted_ses_smtp_password_v4 = null');
    expect(text).toContain('key_fingerprint                = "ab12"');
    expect(text).toContain('previous_key                   = null');
  });

  it('never prints a field that would hold a plaintext secret', () => {
    // Prepare
    const output = { id: 'AKIA1', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', nested: { sesSmtpPasswordV4: 'BPlainSmtpPassword' } };

    // Act
    const text = renderAttributes(output);

    // Assess
    expect(text).not.toContain('wJalrXUtnFEMI');
    expect(text).not.toContain('BPlainSmtpPassword');
    expect(text).toContain('secret_access_key = (sensitive value)');
  });
});

describe('ProgressPrinter', () => {
  it('writes one line when a state starts and one when it ends, with its duration', () => {
    // Prepare
    const io = memoryIo();
    const printer = new ProgressPrinter(io.stderr, { stateNames: ['Plan', 'VerifyNewKey'] });
    const events: ExecutionEvent[] = [
      { type: 'ExecutionStarted', timestamp: 0 },
      { type: 'StateEntered', timestamp: 0, stateName: 'Plan', stateType: 'Task' },
      { type: 'StateExited', timestamp: 412, stateName: 'Plan', stateType: 'Task', durationMs: 412 },
      { type: 'StateEntered', timestamp: 412, stateName: 'VerifyNewKey', stateType: 'Task' },
      { type: 'StateFailed', timestamp: 500, stateName: 'VerifyNewKey', error: 'KeyNotPropagatedError', cause: '{}' },
      { type: 'StateRetried', timestamp: 600, stateName: 'VerifyNewKey', attempt: 1 },
      { type: 'StateExited', timestamp: 2900, stateName: 'VerifyNewKey', stateType: 'Task', durationMs: 2488 },
    ];

    // Act
    for (const event of events) printer.onEvent(event);

    // Assess
    expect(io.err()).toBe(
      [
        '  ▸ Plan          task',
        '  ✓ Plan          412 ms',
        '  ▸ VerifyNewKey  task',
        '  ✗ VerifyNewKey  KeyNotPropagatedError',
        '  ↻ VerifyNewKey  retry 1',
        '  ✓ VerifyNewKey  2.5 s',
        '',
      ].join('\n'),
    );
  });

  it('says a dry run changed nothing', () => {
    // Prepare
    const result = { status: 'SUCCEEDED' as const, output: { userName: 'u', dryRun: true }, stats: { statesEntered: 3, stateTransitions: 3, lambdaInvocations: 1, durationMs: 120 } };

    // Act
    const line = summaryLine(result);

    // Assess
    expect(line).toBe('Dry run succeeded in 120 ms (3 states, 3 state transitions, 1 Lambda invocations): nothing was changed');
  });

  it('summarises a failed execution with the error name and the Lambda error message', () => {
    // Prepare
    const result = {
      status: 'FAILED' as const,
      error: 'AmbiguousCurrentKeyError',
      cause: JSON.stringify({ errorType: 'AmbiguousCurrentKeyError', errorMessage: "cannot tell which key of IAM user 'u' is current" }),
      stats: { statesEntered: 2, stateTransitions: 2, lambdaInvocations: 1, durationMs: 1500 },
    };

    // Act
    const line = summaryLine(result);

    // Assess
    expect(line).toBe(
      "Rotation failed after 1.5 s (2 states, 2 state transitions, 1 Lambda invocations): AmbiguousCurrentKeyError: cannot tell which key of IAM user 'u' is current",
    );
  });
});

/** An AWS execution history, as GetExecutionHistory returns it (with execution data). */
function history(): HistoryEvent[] {
  const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
  let id = 0;
  const ev = (type: string, s: number, extra: Partial<HistoryEvent> = {}): HistoryEvent => ({ id: ++id, previousEventId: id - 1, type: type as HistoryEvent['type'], timestamp: at(s), ...extra });
  const entered = (name: string, kind: string, s: number) => ev(`${kind}StateEntered`, s, { stateEnteredEventDetails: { name, input: '{}' } });
  const exited = (name: string, kind: string, s: number) => ev(`${kind}StateExited`, s, { stateExitedEventDetails: { name, output: '{}' } });
  return [
    ev('ExecutionStarted', 0),
    entered('Plan', 'Task', 0),
    ev('LambdaFunctionScheduled', 0),
    ev('LambdaFunctionSucceeded', 1),
    exited('Plan', 'Task', 1),
    entered('VerifyNewKey', 'Task', 1),
    ev('LambdaFunctionScheduled', 1),
    ev('LambdaFunctionFailed', 2, { lambdaFunctionFailedEventDetails: { error: 'KeyNotPropagatedError', cause: '{"errorType":"KeyNotPropagatedError","errorMessage":"not yet"}' } }),
    ev('LambdaFunctionScheduled', 4),
    ev('LambdaFunctionSucceeded', 5),
    exited('VerifyNewKey', 'Task', 5),
    entered('Done', 'Succeed', 5),
    exited('Done', 'Succeed', 5),
    ev('ExecutionSucceeded', 5, { executionSucceededEventDetails: { output: '{"id":"AKIANEW"}' } }),
  ];
}

const OUTPUT = {
  id: 'AKIANEWNEWNEWNEW1234',
  userName: 'mailer',
  status: 'Active',
  createDate: '2025-01-01T00:00:01Z',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mailer-AbCdEf',
  secretVersionId: 'v-1',
  sesSmtpRegions: ['eu-west-1'],
  previousKey: { id: 'AKIAOLDOLDOLDOLD1234', action: 'deleted' },
  rotationId: 'run-1',
};

describe('keyrotate rotate --state-machine-arn (AWS follower)', () => {
  const sfn = mockClient(SFNClient);
  const command = createRotateCommand({ ...defaultRotateDependencies, pollMs: 1 });

  beforeEach(() => sfn.reset());

  it('starts the execution with the input, follows the paged history across polls, and prints the result', async () => {
    // Prepare
    const events = history();
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC_ARN, startDate: new Date() });
    sfn
      .on(GetExecutionHistoryCommand)
      // Poll 1: two pages, the execution still running.
      .resolvesOnce({ events: events.slice(0, 4), nextToken: 'page-2' })
      .resolvesOnce({ events: events.slice(4, 8) })
      // Poll 2: the whole history again (no token), now to its end.
      .resolvesOnce({ events: events.slice(0, 10), nextToken: 'page-2' })
      .resolvesOnce({ events: events.slice(10) });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXEC_ARN,
      status: 'SUCCEEDED',
      startDate: new Date(Date.UTC(2025, 0, 1, 0, 0, 0)),
      stopDate: new Date(Date.UTC(2025, 0, 1, 0, 0, 5)),
      output: JSON.stringify(OUTPUT),
    });
    const io = memoryIo();

    // Act
    const code = await command.run(['--user', 'mailer', '--secret-id', 'mailer/smtp', '--grace', '1h', ...AWS, '--name', 'run-1'], io);

    // Assess
    expect(code).toBe(0);
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start).toEqual({
      stateMachineArn: SM_ARN,
      name: 'run-1',
      input: JSON.stringify({ userName: 'mailer', delivery: { type: 'secretsManager', secretId: 'mailer/smtp' }, oldKey: { gracePeriodSeconds: 3600 } }),
    });
    const historyCalls = sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input);
    expect(historyCalls[1]).toMatchObject({ executionArn: EXEC_ARN, nextToken: 'page-2', includeExecutionData: true });
    expect(historyCalls).toHaveLength(4);
    const err = io.err();
    expect(err).toContain(`Started ${EXEC_ARN}`);
    // Each state once: events seen on the first poll are not printed again.
    expect(err.match(/▸ Plan/g)).toHaveLength(1);
    expect(err).toContain('✓ Plan          1.0 s');
    expect(err).toContain('✗ VerifyNewKey  KeyNotPropagatedError');
    expect(err).toContain('↻ VerifyNewKey  retry 1');
    expect(err).toContain('✓ VerifyNewKey  4.0 s');
    expect(err).toContain('Rotation succeeded in 5.0 s (3 states, 4 state transitions, 3 Lambda invocations)');
    expect(io.out()).toBe(renderAttributes(OUTPUT));
  });

  it('prints only the output JSON on stdout with --json', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC_ARN });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history() });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', startDate: new Date(), stopDate: new Date(), output: JSON.stringify(OUTPUT) });
    const io = memoryIo();

    // Act
    const code = await command.run(['--user', 'mailer', '--secret-id', 'mailer/smtp', ...AWS, '--json'], io);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(io.out())).toEqual(OUTPUT);
  });

  it('exits 1 with the typed error name and its cause when the execution fails', async () => {
    // Prepare
    const cause = JSON.stringify({ errorType: 'UserOutOfScopeError', errorMessage: "IAM user 'root-ish' is not in keyrotate's scope (path /service/)" });
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC_ARN });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, type: 'ExecutionStarted', timestamp: new Date() },
        { id: 2, type: 'ExecutionFailed', timestamp: new Date(), executionFailedEventDetails: { error: 'UserOutOfScopeError', cause } },
      ],
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', startDate: new Date(), stopDate: new Date(), error: 'UserOutOfScopeError', cause });
    const io = memoryIo();

    // Act
    const code = await command.run(['--user', 'root-ish', '--secret-id', 's', ...AWS], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toContain("keyrotate rotate: UserOutOfScopeError: IAM user 'root-ish' is not in keyrotate's scope (path /service/)");
  });

  describe('a PGP delivery stranded by a later failure', () => {
    const at = (sec: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, sec));
    const delivered = {
      newKey: { accessKeyId: 'AKIANEWNEWNEWNEW1234', status: 'Active', createDate: '2025-01-01T00:00:01Z', sealedSecret: 'sealed' },
      delivery: { type: 'pgp', encryptedSecret: 'wcBMA0ciphertext', encryptedSesSmtpPasswordV4: 'wcBMA0smtp', encryptedSesSmtpPasswords: {}, keyFingerprint: 'abcdef0123' },
    };
    const cause = JSON.stringify({ errorType: 'AccessDeniedError', errorMessage: 'UpdateAccessKey failed (AccessDenied)' });
    const failedAfter = (statesAfterVerify: string[]) => [
      { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
      { id: 2, type: 'TaskStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: 'VerifyNewKey', input: '{}' } },
      { id: 3, type: 'TaskStateExited', timestamp: at(2), stateExitedEventDetails: { name: 'VerifyNewKey', output: JSON.stringify(delivered) } },
      ...statesAfterVerify.map((name, i) => ({ id: 4 + i, type: 'TaskStateEntered', timestamp: at(3), stateEnteredEventDetails: { name, input: '{}' } })),
      { id: 20, type: 'ExecutionFailed', timestamp: at(4), executionFailedEventDetails: { error: 'AccessDeniedError', cause } },
    ] as HistoryEvent[];

    it('prints the verified key\'s ciphertext and the operator\'s next step when retiring the old key failed', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC_ARN });
      sfn.on(GetExecutionHistoryCommand).resolves({ events: failedAfter(['DeactivateOldKey', 'ReleaseLock']) });
      sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', startDate: at(0), stopDate: at(4), error: 'AccessDeniedError', cause });
      const io = memoryIo();

      // Act
      const code = await command.run(['--user', 'mailer', '--pgp-key', 'keybase:alice', ...AWS], io);

      // Assess
      expect(code).toBe(1);
      expect(io.err()).toContain('keyrotate rotate: AccessDeniedError: UpdateAccessKey failed (AccessDenied)');
      expect(io.err()).toContain('run the rotation again with --old-key-id AKIANEWNEWNEWNEW1234');
      expect(io.out()).toBe(
        renderAttributes({ id: 'AKIANEWNEWNEWNEW1234', encryptedSecret: 'wcBMA0ciphertext', encryptedSesSmtpPasswordV4: 'wcBMA0smtp', keyFingerprint: 'abcdef0123' }),
      );
    });

    it('prints nothing on stdout when RollBack undid the delivery', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC_ARN });
      sfn.on(GetExecutionHistoryCommand).resolves({ events: failedAfter(['PrepareRollBack', 'RollBack']) });
      sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', startDate: at(0), stopDate: at(4), error: 'AccessDeniedError', cause });
      const io = memoryIo();

      // Act
      const code = await command.run(['--user', 'mailer', '--pgp-key', 'keybase:alice', ...AWS], io);

      // Assess
      expect(code).toBe(1);
      expect(io.out()).toBe('');
      expect(io.err()).not.toContain('--old-key-id');
    });
  });

  it('is reachable through main, where a usage error exits 2 naming the flag', async () => {
    // Prepare
    const io = memoryIo();

    // Act
    const code = await main(['rotate', '--user', 'u', '--secret-id', 's', '--grace', 'forever', ...AWS], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain("keyrotate rotate: --grace: 'forever' is not a duration");
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

/**
 * `keyrotate demo` (what `npm start` runs): every trigger and delivery of keyrotate, end to end,
 * on this machine, in seconds, with no AWS account. It starts the embedded endpoint, creates
 * demo users whose old keys have been used, then runs the shipped state machine and Lambdas:
 *
 * 1. an on-demand rotation into Secrets Manager;
 * 2. a rotation to a PGP key generated on the fly, then decrypted (openpgp, and gpg if
 *    installed) to show it works, without ever printing the plaintext;
 * 3. a Secrets Manager rotation (RotateSecret, the four steps of the rotation Lambda);
 * 4. a scheduled run, with the exact input the stack's schedule sends.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { PutSecretValueCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ExecutionResult } from '../../local/engine/events';
import type { EngineStackConfig, LocalRotationEngine, RotationStepReport } from '../../local/engine/rotation-engine';
import { type CliCommand, type CliIo, UsageError } from '../io';
import { ProgressPrinter, formatDuration, renderAttributes, summaryLine } from '../progress';

const WAIT_MS = 250;

/** The demo's local stack: the construct as a user would configure it. */
export const DEMO_STACK: EngineStackConfig = {
  scope: { pathPrefix: '/demo/' },
  users: [{ userName: 'demo-mailer', delivery: { secretName: 'demo/mailer-smtp' }, schedule: 'rate(30 days)', sesSmtpRegions: ['eu-west-1'] }],
  secretNames: ['demo/app-credentials'],
  secretRotations: [{ secretName: 'demo/legacy-credentials', userName: 'demo-legacy', oldKeyAction: 'deactivate' }],
  defaultSesSmtpRegions: ['eu-west-1'],
};

interface SummaryRow {
  readonly trigger: string;
  readonly newKey: string;
  readonly oldKey: string;
  readonly durationMs: number;
  readonly transitions: string;
}

export interface DemoDependencies {
  /** Starts the engine (tests pass a cache directory). */
  startEngine(options: { onRotationStep: (step: RotationStepReport) => void; forwardLogs?: boolean; io: CliIo }): Promise<LocalRotationEngine>;
  /** Whether to try gpg (tests may turn it off). */
  readonly gpg: boolean;
}

export const defaultDemoDependencies: DemoDependencies = {
  async startEngine({ onRotationStep, forwardLogs, io }) {
    const { LocalRotationEngine } = await import('../../local/engine/rotation-engine');
    const { streamLogSink } = await import('../../local/engine/log-sink');
    return LocalRotationEngine.start({
      endpoint: 'embedded',
      stack: DEMO_STACK,
      waits: { allMs: WAIT_MS },
      onRotationStep,
      ...(forwardLogs ? { forwardLogs: streamLogSink(io.stderr) } : {}),
    });
  },
  gpg: true,
};

type GpgOutcome = { readonly status: 'missing' } | { readonly status: 'failed'; readonly step: string } | { readonly status: 'ok'; readonly plaintext: Buffer };

/** Decrypts with the installed gpg in a throw-away keyring. */
function gpgDecrypt(armoredPrivateKey: string, message: Buffer): GpgOutcome {
  if (spawnSync('gpg', ['--version'], { stdio: 'ignore' }).status !== 0) return { status: 'missing' };
  const home = mkdtempSync(path.join(tmpdir(), 'keyrotate-demo-gpg-'));
  const gpg = (args: string[], input?: Buffer | string) =>
    spawnSync('gpg', ['--homedir', home, '--batch', '--quiet', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { input, timeout: 30_000 });
  try {
    if (gpg(['--import'], armoredPrivateKey).status !== 0) return { status: 'failed', step: 'import' };
    const decrypted = gpg(['--decrypt'], message);
    return decrypted.status === 0 ? { status: 'ok', plaintext: decrypted.stdout } : { status: 'failed', step: 'decrypt' };
  } finally {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  }
}

function table(rows: readonly SummaryRow[]): string {
  const header = ['Trigger', 'New key', 'Old key', 'Duration', 'State transitions'];
  const cells = rows.map((r) => [r.trigger, r.newKey, r.oldKey, formatDuration(r.durationMs), r.transitions]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => `  ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n');
}

function oldKeyFate(output: Record<string, unknown>): string {
  const previous = output.previousKey as { id?: string; action?: string } | null | undefined;
  return previous?.id ? `${previous.id} ${previous.action ?? ''}`.trim() : 'none';
}

/** `--verbose` or nothing; a stray argument is refused without echoing it. */
function parseDemoArgs(args: string[]): boolean {
  let parsed: ReturnType<typeof parseArgs<{ options: { verbose: { type: 'boolean' } }; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options: { verbose: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (parsed.positionals.length > 0) throw new UsageError('unexpected argument (not shown)');
  return parsed.values.verbose === true;
}

export function createDemoCommand(deps: DemoDependencies = defaultDemoDependencies): CliCommand {
  return {
    name: 'demo',
    summary: 'Run every trigger and delivery end to end on this machine (no AWS account needed)',
    help: `Usage: keyrotate demo [--verbose]

Runs keyrotate end to end on this machine, with no AWS account: starts the embedded AWS
endpoint, creates demo IAM users whose old keys have been used, synthesizes the
AccessKeyRotation construct (cached after the first run) and runs its state machine and
bundled Lambdas locally:

  1. an on-demand rotation into Secrets Manager,
  2. a rotation to a PGP key generated on the fly, then decrypted (openpgp, and gpg when it
     is installed) to show it works (the plaintext is never printed),
  3. a Secrets Manager rotation (RotateSecret through the rotation Lambda's four steps),
  4. a scheduled run (the exact input the stack's EventBridge schedule sends),

and ends with a summary table. Wait states are shortened to ${WAIT_MS} ms. \`npm start\` runs it.

Options:
  --verbose   Also print the Lambdas' structured logs on standard error.
  -h, --help  Show this help.
`,
    async run(args, io) {
      const verbose = parseDemoArgs(args);
      const out = (text = '') => io.stdout.write(`${text}\n`);
      const started = Date.now();
      let stepListener: ((step: RotationStepReport) => void) | null = null;

      out('keyrotate demo: every trigger and delivery, end to end, on this machine.');
      out();
      const engine = await deps.startEngine({ onRotationStep: (s) => stepListener?.(s), forwardLogs: verbose, io });
      try {
        const aws = engine.localAws;
        if (!aws) throw new Error('the demo needs the embedded endpoint');
        out(`Local AWS endpoint: ${engine.endpoint} (account ${engine.accountId}, ${engine.region})`);
        out(
          `State machine: synthesized ${engine.synth.cached ? `from cache (built in ${formatDuration(engine.synth.synthMs)})` : `in ${formatDuration(engine.synth.synthMs)}`}; ` +
            `engine ready in ${formatDuration(engine.startupMs)}; Wait states shortened to ${WAIT_MS} ms.`,
        );
        const sts = (credentials: { accessKeyId: string; secretAccessKey: string }) => new STSClient({ ...engine.sdkConfig, credentials, maxAttempts: 1 });
        const callerArn = async (credentials: { accessKeyId: string; secretAccessKey: string }) => {
          const client = sts(credentials);
          try {
            return (await client.send(new GetCallerIdentityCommand({}))).Arn ?? '';
          } finally {
            client.destroy();
          }
        };
        const sm = new SecretsManagerClient(engine.sdkConfig);

        // Users with a key that has been used (a signed STS call sets its last-used date).
        const users = ['demo-app', 'demo-ci', 'demo-legacy', 'demo-mailer'];
        const oldKeys: Record<string, string> = {};
        for (const userName of users) {
          aws.iam.createUser(userName, { path: '/demo/' });
          const key = aws.iam.createAccessKey(userName);
          await callerArn(key);
          oldKeys[userName] = key.accessKeyId;
        }
        const usersReadyAt = Date.now();
        out(`Demo users (path /demo/), each with one used key: ${users.map((u) => `${u} ${oldKeys[u]}`).join(', ')}`);

        const rows: SummaryRow[] = [];
        const runRotation = async (title: string, input: unknown): Promise<{ result: ExecutionResult; output: Record<string, unknown> }> => {
          out();
          out(title);
          const printer = new ProgressPrinter(io.stdout, { stateNames: engine.stateNames, indent: '    ' });
          const result = await engine.run(input, { onEvent: printer.onEvent });
          out(`    ${summaryLine(result)}`);
          if (result.status !== 'SUCCEEDED') throw new Error(`demo rotation failed: ${summaryLine(result)}`);
          const output = result.output as Record<string, unknown>;
          out(
            renderAttributes(output)
              .trimEnd()
              .split('\n')
              .map((l) => `    ${l}`)
              .join('\n'),
          );
          return { result, output };
        };

        // 1. On demand, into Secrets Manager.
        const one = await runRotation('1/4  On-demand rotation into Secrets Manager (keyrotate rotate --local --user demo-app --secret-id demo/app-credentials --grace 15m --delete-after 1h)', {
          userName: 'demo-app',
          delivery: { type: 'secretsManager', secretId: 'demo/app-credentials' },
          oldKey: { gracePeriodSeconds: 900, deletionDelaySeconds: 3600 },
        });
        const stored = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'demo/app-credentials' }))).SecretString ?? '{}') as {
          accessKeyId: string;
          secretAccessKey: string;
        };
        out(`    ✓ the secret's AWSCURRENT holds ${stored.accessKeyId}; signed with it, STS answers ${await callerArn(stored)}`);
        rows.push({ trigger: 'on demand → Secrets Manager', newKey: String(one.output.id), oldKey: oldKeyFate(one.output), durationMs: one.result.stats.durationMs, transitions: String(one.result.stats.stateTransitions) });

        // 2. On demand, to a PGP key made on the fly (Terraform's pgp_key form: base64 of the binary key).
        const openpgp = await import('openpgp');
        // Curve25519 as GnuPG 2.2+ reads it (v4 EdDSA/ECDH): openpgp 6's `type: 'curve25519'`
        // makes RFC 9580 X25519 keys, which GnuPG before 2.5 cannot import.
        const generated = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'keyrotate demo', email: 'demo@example.invalid' }], format: 'armored' });
        const publicKey = await openpgp.readKey({ armoredKey: generated.publicKey });
        const two = await runRotation('2/4  On-demand rotation to a PGP key generated just now (Curve25519), old key kept Inactive', {
          userName: 'demo-ci',
          delivery: { type: 'pgp', pgpKey: Buffer.from(publicKey.write()).toString('base64') },
          oldKey: { action: 'deactivate' },
        });
        const message = Buffer.from(String(two.output.encryptedSecret), 'base64');
        const privateKey = await openpgp.readPrivateKey({ armoredKey: generated.privateKey });
        const { data } = await openpgp.decrypt({ message: await openpgp.readMessage({ binaryMessage: message }), decryptionKeys: privateKey, format: 'utf8' });
        const decrypted = String(data);
        const newKeyId = String(two.output.id);
        out(`    ✓ encrypted_secret decrypts with openpgp (key ${String(two.output.keyFingerprint)})`);
        out(`    ✓ the decrypted secret belongs to ${newKeyId}: signed with it, STS answers ${await callerArn({ accessKeyId: newKeyId, secretAccessKey: decrypted })}`);
        if (deps.gpg) {
          const viaGpg = gpgDecrypt(generated.privateKey, message);
          if (viaGpg.status === 'missing') out('    - gpg is not installed: GnuPG check skipped');
          else if (viaGpg.status === 'failed') out(`    ✗ gpg could not ${viaGpg.step} (GnuPG check failed)`);
          else out(`    ${viaGpg.plaintext.toString('utf8') === decrypted ? '✓ gpg --decrypt gives the same secret' : '✗ gpg --decrypt gives a different result'}`);
        }
        rows.push({ trigger: 'on demand → PGP', newKey: newKeyId, oldKey: oldKeyFate(two.output), durationMs: two.result.stats.durationMs, transitions: String(two.result.stats.stateTransitions) });

        // 3. Secrets Manager rotation: the secret names its user; RotateSecret runs the four steps.
        out();
        out('3/4  Secrets Manager rotation (RotateSecret on demo/legacy-credentials → the rotation Lambda)');
        await sm.send(new PutSecretValueCommand({ SecretId: 'demo/legacy-credentials', SecretString: JSON.stringify({ userName: 'demo-legacy' }) }));
        // IAM dates have one-second precision, and the rotation Lambda takes a key created in
        // the second its rotation started for an orphan of an earlier attempt.
        const settle = 1100 - (Date.now() - usersReadyAt);
        if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));
        stepListener = (s) => out(`    ${s.ok ? '✓' : '✗'} ${s.step.padEnd(13)} ${formatDuration(s.durationMs)}${s.ok ? '' : `  ${s.errorType ?? ''}`}`);
        const smStarted = Date.now();
        await engine.rotateSecret('demo/legacy-credentials');
        stepListener = null;
        const smDuration = Date.now() - smStarted;
        const legacy = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'demo/legacy-credentials' }))).SecretString ?? '{}') as {
          accessKeyId: string;
          secretAccessKey: string;
        };
        const legacyOld = aws.iam.getAccessKey(oldKeys['demo-legacy'] ?? '');
        out(`    Rotation finished in ${formatDuration(smDuration)}; AWSCURRENT now holds ${legacy.accessKeyId}; old key ${oldKeys['demo-legacy']} is ${legacyOld?.status ?? 'deleted'}`);
        out(`    ✓ signed with the new key, STS answers ${await callerArn(legacy)}`);
        rows.push({ trigger: 'Secrets Manager rotation', newKey: legacy.accessKeyId, oldKey: `${oldKeys['demo-legacy']} ${legacyOld ? 'deactivated' : 'deleted'}`, durationMs: smDuration, transitions: '4 rotation steps' });

        // 4. The schedule: the exact input its EventBridge Scheduler target sends.
        const schedule = engine.schedules().find((s) => (s.input as { userName?: string }).userName === 'demo-mailer');
        if (!schedule) throw new Error('the demo stack has no schedule for demo-mailer');
        out();
        out(`4/4  Scheduled run (${schedule.scheduleExpression}); the schedule's target input, from the synthesized template:`);
        out(`     ${JSON.stringify(schedule.input)}`);
        const four = await runRotation('     Running it:', schedule.input);
        rows.push({ trigger: `schedule ${schedule.scheduleExpression}`, newKey: String(four.output.id), oldKey: oldKeyFate(four.output), durationMs: four.result.stats.durationMs, transitions: String(four.result.stats.stateTransitions) });
        sm.destroy();

        out();
        out('Summary');
        out(table(rows));
        out();
        const invocations = engine.runtime.reports;
        const peak = Math.max(...invocations.map((r) => r.maxRssBytes));
        out(
          `Done in ${formatDuration(Date.now() - started)}: ${invocations.length} Lambda invocations in ${engine.runtime.functionNames.length} local functions ` +
            `(peak memory ${Math.round(peak / 1048576)} MB); no plaintext secret was printed.`,
        );
        return 0;
      } finally {
        await engine.stop();
      }
    },
  };
}

export const demoCommand = createDemoCommand();

/**
 * Proof of the guarantee "no plaintext secrets": no plaintext secret access key or SMTP password in logs, state input or
 * output, execution outputs or errors, CLI output or the synthesized template.
 *
 * Rotations of every kind run (each trigger, each delivery, failing ones included, through the
 * engine, the `keyrotate rotate --local` command and `keyrotate demo`), and EVERYTHING the product
 * emits is kept: every Lambda log line, every Lambda invocation's event and answer (what Step
 * Functions shows as state input and output), execution histories, outputs and errors, Secrets
 * Manager rotation errors, CLI standard output and error, the templates. Every secret the run
 * produced is read from the endpoints' own state (their state files, read after every call that
 * can create one), and none may appear in the corpus in any encoding the scanner knows.
 *
 * The scanner is checked first: planted secrets must be found in every encoding, at every
 * alignment, in a copy of the real corpus.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DemoDependencies, DEMO_STACK, createDemoCommand } from '../../cli/commands/demo';
import { main } from '../../cli/main';
import { SES_SMTP_REGIONS } from '../../lambdas/core/ses-regions';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import type { ExecutionResult } from '../../local/engine/events';
import type { LocalExecution } from '../../local/engine/state-machine';
import { LocalRotationEngine } from '../../local/engine/rotation-engine';
import { streamLogSink } from '../../local/engine/log-sink';
import { memoryIo } from '../helpers/memory-io';
import { type CorpusEntry, ENCODINGS, findLeaks, needlesOf, plant } from './leak-scanner';
import {
  KEYBASE_USER,
  KEYBASE_USER_WITHOUT_KEY,
  type Proof,
  createSecret,
  createUsedUser,
  outputOf,
  putSecretValue,
  since,
  startProof,
} from './support';

jest.setTimeout(240_000);

/** A secret with every character class the encodings treat differently. */
const PLANTED = 'Pl4nted/Secret+Value=With"Quotes\\And\u00e9Unicode';

describe('the leak scanner (self-check)', () => {
  const contexts = [
    { before: '', after: '' },
    { before: '{"a":1,"log":"', after: '"}' },
    { before: 'xx', after: ' trailing text' },
    { before: 'x', after: '=' },
  ];

  it.each(ENCODINGS)('finds a secret planted in %s form, at every alignment', (encoding) => {
    // Prepare
    const corpora = contexts.map((context, i) => [{ source: `planted-${i}`, text: plant(PLANTED, encoding, context) }]);

    // Act
    const found = corpora.map((corpus) => findLeaks(corpus, new Map([['planted', PLANTED]])));

    // Assess: a base64url text without `-` or `_` is also plain base64, and is reported so
    const accepted = encoding.startsWith('base64url') ? [encoding, encoding.replace('base64url', 'base64')] : [encoding];
    for (const leaks of found) {
      expect(leaks).toEqual([{ source: expect.stringMatching(/^planted-/), encoding: expect.any(String), secret: 'planted' }]);
      expect(accepted).toContain(leaks[0]?.encoding);
    }
  });

  it('finds nothing where the secret is absent, or differs in one character', () => {
    // Prepare: base64 needles skip up to two bytes at either end (alignment), so the change is
    // in the middle, where every needle covers it
    const corpus = ENCODINGS.map((encoding) => ({ source: encoding, text: plant(PLANTED, encoding, contexts[1] ?? { before: '', after: '' }) }));
    const middle = Math.floor(PLANTED.length / 2);
    const almost = `${PLANTED.slice(0, middle)}${PLANTED[middle] === 'X' ? 'Y' : 'X'}${PLANTED.slice(middle + 1)}`;

    // Act
    const leaks = findLeaks(corpus, new Map([['almost', almost], ['unrelated', 'AnotherSecretValueNeverWritten0123456789']]));

    // Assess
    expect(leaks).toEqual([]);
    expect(needlesOf(almost).length).toBeGreaterThanOrEqual(ENCODINGS.length);
  });
});

interface StateFileSecrets {
  readonly keys: Map<string, string>;
  readonly stored: Map<string, string>;
}

/** Every secret access key and stored secret field an endpoint's state file holds. */
function secretsInStateFile(file: string): StateFileSecrets {
  const keys = new Map<string, string>();
  const stored = new Map<string, string>();
  let state: { iam?: { keys?: { accessKeyId: string; secretAccessKey: string }[] }; secretsManager?: { secrets?: { name: string; versions: { versionId: string; secretString?: string }[] }[] } };
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as typeof state;
  } catch {
    return { keys, stored };
  }
  for (const key of state.iam?.keys ?? []) keys.set(key.accessKeyId, key.secretAccessKey);
  for (const secret of state.secretsManager?.secrets ?? []) {
    for (const version of secret.versions) {
      if (version.secretString === undefined) continue;
      let value: unknown;
      try {
        value = JSON.parse(version.secretString);
      } catch {
        continue;
      }
      const record = (value ?? {}) as { accessKeyId?: unknown; secretAccessKey?: unknown; sesSmtpPasswords?: unknown };
      if (typeof record.secretAccessKey === 'string') stored.set(`${secret.name}@${version.versionId}:secretAccessKey`, record.secretAccessKey);
      for (const [region, password] of Object.entries((record.sesSmtpPasswords ?? {}) as Record<string, unknown>)) {
        if (typeof password === 'string') stored.set(`${secret.name}@${version.versionId}:smtp:${region}`, password);
      }
    }
  }
  return { keys, stored };
}

/** Gathers secrets from state files and everything the product wrote. */
class LeakHarness {
  /** label → value; labels name a key id or a secret version, never the value. */
  readonly secrets = new Map<string, string>();
  readonly corpus: CorpusEntry[] = [];
  events = 0;

  collectFrom(stateFile: string): void {
    const { keys, stored } = secretsInStateFile(stateFile);
    for (const [keyId, secret] of keys) {
      this.secrets.set(`secret access key of ${keyId}`, secret);
      // Every SMTP password any rotation could have derived from it.
      for (const region of SES_SMTP_REGIONS) this.secrets.set(`SMTP password (${region}) of ${keyId}`, deriveSmtpPasswordV4(secret, region));
    }
    for (const [label, value] of stored) this.secrets.set(label, value);
  }

  add(source: string, text: string, events = 1): void {
    this.corpus.push({ source, text });
    this.events += events;
  }

  addExecution(label: string, execution: LocalExecution, result: ExecutionResult): void {
    this.add(`${label}: execution history`, JSON.stringify(execution.history), execution.history.length);
    this.add(`${label}: execution result`, JSON.stringify(result));
  }

  get bytes(): number {
    return this.corpus.reduce((n, e) => n + Buffer.byteLength(e.text), 0);
  }
}

/** Records every invocation's event and answer (state input and output) of an engine's functions. */
function captureInvocations(engine: LocalRotationEngine, harness: LeakHarness, label: string): void {
  for (const name of engine.runtime.functionNames) {
    const fn = engine.runtime.get(name);
    if (!fn) continue;
    const invoke = fn.invoke.bind(fn);
    fn.invoke = async (event: unknown) => {
      const result = await invoke(event);
      harness.add(`${label} ${name}: event`, JSON.stringify(event));
      harness.add(`${label} ${name}: ${result.ok ? 'payload' : 'error'}`, JSON.stringify(result.ok ? result.payload : result.error));
      return result;
    };
  }
}

function addLogs(harness: LeakHarness, engine: LocalRotationEngine, label: string): void {
  for (const entry of engine.logs.entries) harness.add(`${label} log ${entry.functionName}`, entry.text);
}

describe('secret-leak scan of every kind of rotation', () => {
  const harness = new LeakHarness();
  const directory = mkdtempSync(path.join(tmpdir(), 'keyrotate-leak-scan-'));
  const stateFile = path.join(directory, 'proof-endpoint.json');
  const demoStateFile = path.join(directory, 'demo-endpoint.json');
  let proof: Proof;
  let stopCollecting: () => void = () => undefined;
  const started = Date.now();

  beforeAll(async () => {
    proof = await startProof({ embedded: { stateFile } });
    // Keys are created and deleted within a rotation: read the state right after each call
    // that can make a secret, so deleted keys are known too.
    stopCollecting = proof.aws.calls.onCall((call) => {
      if (call.operation === 'CreateAccessKey' || call.operation === 'PutSecretValue') harness.collectFrom(stateFile);
    });
    captureInvocations(proof.engine, harness, 'engine');
    harness.add('engine template', JSON.stringify(proof.engine.synth.template));
  });

  afterAll(async () => {
    stopCollecting();
    await proof?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function run(label: string, input: unknown): Promise<ExecutionResult> {
    const execution = proof.engine.start(input);
    const result = await execution.result;
    harness.addExecution(label, execution, result);
    return result;
  }

  it('runs every trigger and delivery, and failures, through the engine', async () => {
    // Prepare
    for (const user of ['leak-sm', 'leak-pgp', 'leak-inactive', 'leak-fail-store', 'leak-fail-pgp', 'leak-fail-retire', 'leak-fail-verify', 'leak-dry', 'leak-race', 'sched-sm', 'sched-pgp', 'rot-a']) {
      await createUsedUser(proof, user);
    }
    for (const name of ['leak-sm', 'leak-fail-store', 'leak-fail-retire', 'leak-fail-verify', 'leak-dry', 'leak-race']) await createSecret(proof, `leak/${name}`);
    await putSecretValue(proof, 'proof/rotation-a', JSON.stringify({ userName: 'rot-a', sesSmtpRegions: ['eu-west-1', 'us-east-1'] }));
    // IAM dates have one-second precision (see the Secrets Manager rotation below).
    proof.aws.clock.advance(2000);
    const sm = (user: string, extra: Record<string, unknown> = {}) => ({ userName: user, delivery: { type: 'secretsManager', secretId: `leak/${user}` }, ...extra });
    const schedules = proof.engine.schedules();
    const results: Record<string, ExecutionResult['status']> = {};

    // Act: successful rotations of every kind
    results.onDemandSm = (await run('on demand, secret', sm('leak-sm', { sesSmtpRegions: ['eu-west-1', 'us-east-1'] }))).status;
    results.onDemandPgp = (await run('on demand, keybase', { userName: 'leak-pgp', delivery: { type: 'pgp', pgpKey: `keybase:${KEYBASE_USER}` } })).status;
    results.inactivePgp = (await run('on demand, armored, Inactive', { userName: 'leak-inactive', delivery: { type: 'pgp', pgpKey: proof.pgp.publicKey }, newKeyStatus: 'Inactive' })).status;
    for (const schedule of schedules) results[`schedule ${String((schedule.input as { userName?: string }).userName)}`] = (await run(`schedule ${schedule.logicalId}`, schedule.input)).status;
    const rotated = await proof.engine.rotateSecret('proof/rotation-a').then(() => 'SUCCEEDED', (e: unknown) => String(e));
    const tested = await proof.engine.rotateSecret('proof/rotation-a', { rotateImmediately: false }).then(() => 'SUCCEEDED', (e: unknown) => String(e));
    results.dryRun = (await run('dry run', sm('leak-dry', { dryRun: true }))).status;

    // Act: failing rotations
    const denied = proof.aws.faults.fail({ service: 'secretsmanager', operation: 'PutSecretValue', code: 'AccessDeniedException', status: 400 });
    results.failStore = (await run('failing store', sm('leak-fail-store'))).status;
    denied.remove();
    results.failPgp = (await run('failing keybase', { userName: 'leak-fail-pgp', delivery: { type: 'pgp', pgpKey: `keybase:${KEYBASE_USER_WITHOUT_KEY}` } })).status;
    const retire = proof.aws.faults.fail({ service: 'iam', operation: 'UpdateAccessKey', code: 'AccessDenied', status: 403 });
    results.failRetire = (await run('failing retire', sm('leak-fail-retire'))).status;
    retire.remove();
    const sts = proof.aws.faults.fail({ service: 'sts', operation: 'GetCallerIdentity', code: 'AccessDenied', status: 403, times: 1000 });
    results.failVerify = (await run('failing verify', sm('leak-fail-verify'))).status;
    sts.remove();
    const rotationFault = proof.aws.faults.fail({ service: 'secretsmanager', operation: 'PutSecretValue', code: 'AccessDeniedException', status: 400 });
    const failedRotation = await proof.engine.rotateSecret('proof/rotation-a').then(() => 'SUCCEEDED', (e: unknown) => (e instanceof Error ? e.message : String(e)));
    rotationFault.remove();
    harness.add('RotateSecret error', failedRotation);
    const retryToken = proof.aws.secretsManager.rotations().at(-1)?.clientRequestToken;
    const retried = await proof.engine.rotateSecret('proof/rotation-a', { ...(retryToken ? { clientRequestToken: retryToken } : {}) }).then(() => 'SUCCEEDED', (e: unknown) => String(e));
    proof.aws.setPropagationDelay(400);
    const first = proof.engine.start(sm('leak-race'));
    const second = proof.engine.start(sm('leak-race'));
    const [firstResult, secondResult] = await Promise.all([first.result, second.result]);
    proof.aws.setPropagationDelay(0);
    harness.addExecution('race 1', first, firstResult);
    harness.addExecution('race 2', second, secondResult);
    harness.add('Secrets Manager rotations', JSON.stringify(proof.aws.secretsManager.rotations()));

    // Assess: the run did what it says (each kind really ran and ended as intended)
    expect(results).toEqual({
      onDemandSm: 'SUCCEEDED',
      onDemandPgp: 'SUCCEEDED',
      inactivePgp: 'SUCCEEDED',
      'schedule sched-sm': 'SUCCEEDED',
      'schedule sched-pgp': 'SUCCEEDED',
      dryRun: 'SUCCEEDED',
      failStore: 'FAILED',
      failPgp: 'FAILED',
      failRetire: 'FAILED',
      failVerify: 'FAILED',
    });
    expect([rotated, tested, retried]).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(failedRotation).toContain('AccessDeniedError');
    expect([firstResult.status, secondResult.status].sort()).toEqual(['FAILED', 'SUCCEEDED']);
    const decrypted = await proof.pgp.decrypt(String(outputOf(await run('on demand, keybase again', { userName: 'leak-pgp', delivery: { type: 'pgp', pgpKey: `keybase:${KEYBASE_USER}` } })).encryptedSecret));
    expect([...harness.secrets.values()]).toContain(decrypted);
  });

  it('runs `keyrotate rotate --local` (progress, attributes, JSON, verbose logs, a failure)', async () => {
    // Prepare: the command starts its own engine against this endpoint (AWS_ENDPOINT_URL)
    await createUsedUser(proof, 'leak-cli');
    await createUsedUser(proof, 'leak-cli-pgp');
    await createSecret(proof, 'leak/cli');
    // An armored key as an argument would start with `-----` and read as a flag: pass a file.
    const keyFile = path.join(directory, 'recipient.asc');
    writeFileSync(keyFile, proof.pgp.publicKey);
    const env = { AWS_ENDPOINT_URL: proof.engine.endpoint, AWS_REGION: proof.engine.region };
    const runs = [
      ['--user', 'leak-cli', '--secret-id', 'leak/cli', '--local', '--verbose', '--smtp-region', 'eu-west-1'],
      ['--user', 'leak-cli', '--secret-id', 'leak/cli', '--local', '--json'],
      ['--user', 'leak-cli-pgp', '--pgp-key', `@${keyFile}`, '--local', '--json', '--verbose'],
      ['--user', 'leak-cli', '--secret-id', 'leak/cli', '--local', '--verbose', '--name', 'leak-cli-failing'],
      ['--user', 'leak-cli', '--secret-id', 'leak/cli', '--local', '--dry-run'],
    ];
    const codes: { code: number; stderrEnd: string }[] = [];

    // Act
    for (const args of runs) {
      const io = memoryIo('', env);
      // The failing run: AWSPENDING is refused, so the command's rotation rolls back.
      const fault = args.includes('leak-cli-failing')
        ? proof.aws.faults.fail({ service: 'secretsmanager', operation: 'PutSecretValue', code: 'AccessDeniedException', status: 400 })
        : undefined;
      const code = await main(['rotate', ...args], io);
      fault?.remove();
      codes.push({ code, stderrEnd: io.err().slice(-400) });
      harness.add(`rotate ${args.slice(0, 5).join(' ')}: stdout`, io.out());
      harness.add(`rotate ${args.slice(0, 5).join(' ')}: stderr`, io.err(), io.err().split('\n').length);
    }

    // Assess
    expect(codes).toEqual([0, 0, 0, 1, 0].map((code) => ({ code, stderrEnd: expect.any(String) })));
    expect(harness.corpus.filter((e) => e.source.endsWith('stderr')).some((e) => e.text.includes('"level":"INFO"'))).toBe(true);
  });

  it('runs `keyrotate demo`', async () => {
    // Prepare: the demo's own engine, with its endpoint's state in a file the scan reads
    let demoEngine: LocalRotationEngine | undefined;
    const deps: DemoDependencies = {
      startEngine: async ({ onRotationStep, forwardLogs, io }) => {
        demoEngine = await LocalRotationEngine.start({
          endpoint: 'embedded',
          stack: DEMO_STACK,
          waits: { allMs: 0 },
          embedded: { stateFile: demoStateFile },
          onRotationStep,
          ...(forwardLogs ? { forwardLogs: streamLogSink(io.stderr) } : {}),
        });
        const engine = demoEngine;
        const localAws = engine.localAws;
        localAws?.calls.onCall((call) => {
          if (call.operation === 'CreateAccessKey' || call.operation === 'PutSecretValue') harness.collectFrom(demoStateFile);
        });
        captureInvocations(engine, harness, 'demo');
        harness.add('demo template', JSON.stringify(engine.synth.template));
        // The demo stops its engine itself; keep its logs before that.
        const stop = engine.stop.bind(engine);
        engine.stop = async () => {
          addLogs(harness, engine, 'demo');
          harness.collectFrom(demoStateFile);
          await stop();
        };
        return engine;
      },
      gpg: true,
    };
    const io = memoryIo();

    // Act
    const code = await createDemoCommand(deps).run(['--verbose'], io);

    // Assess
    harness.add('demo stdout', io.out(), io.out().split('\n').length);
    harness.add('demo stderr', io.err(), io.err().split('\n').length);
    expect(code).toBe(0);
    expect(demoEngine).toBeDefined();
  });

  it('finds no secret anywhere, in any encoding', () => {
    // Prepare: everything the runs above emitted, and every secret the endpoints hold or held
    harness.collectFrom(stateFile);
    addLogs(harness, proof.engine, 'engine');
    const t0 = Date.now();

    // Act
    const leaks = findLeaks(harness.corpus, harness.secrets);

    // Assess
    const keyCount = [...harness.secrets.keys()].filter((k) => k.startsWith('secret access key')).length;
    console.log(
      `leak-scan: ${harness.bytes} bytes in ${harness.corpus.length} texts (${harness.events} events) scanned for ` +
        `${harness.secrets.size} secrets (${keyCount} secret access keys) in ${ENCODINGS.length} encodings: ${leaks.length} leaks; ` +
        `scan ${since(t0)} ms, suite ${since(started)} ms`,
    );
    expect(leaks).toEqual([]);
    expect(keyCount).toBeGreaterThanOrEqual(20);
    expect(harness.corpus.some((e) => e.source.includes(' log ') && e.text.includes('"level"'))).toBe(true);
  });

  it('would have found each real secret, planted in a copy of the real corpus, in every encoding', () => {
    // Prepare: one real secret access key and one real SMTP password, planted into copies of a
    // real log line and a real state output
    const key = [...harness.secrets].find(([label]) => label.startsWith('secret access key'));
    const smtp = [...harness.secrets].find(([label]) => label.startsWith('SMTP password'));
    const logLine = harness.corpus.find((e) => e.source.includes(' log ') && e.text.length > 40);
    const payload = harness.corpus.find((e) => e.source.endsWith(': payload') && e.text.length > 40);
    if (!key || !smtp || !logLine || !payload) throw new Error('the corpus or the secrets are empty');
    const cut = (text: string) => ({ before: text.slice(0, Math.floor(text.length / 2)), after: text.slice(Math.floor(text.length / 2)) });

    for (const [label, value] of [key, smtp]) {
      for (const base of [logLine, payload]) {
        for (const encoding of ENCODINGS) {
          // Act
          const copy = [...harness.corpus, { source: `planted ${encoding}`, text: plant(value, encoding, cut(base.text)) }];
          const leaks = findLeaks(copy, new Map([[label, value]]));

          // Assess
          expect(leaks).toEqual([{ source: `planted ${encoding}`, encoding: expect.any(String), secret: label }]);
        }
      }
    }
  });
});

/**
 * What the proof suites share: one local stack (synthesized once, then cached), a Keybase
 * stand-in serving a PGP key generated per suite, snapshots of everything the endpoint holds
 * (to prove "nothing changed"), checks that a stored or delivered key really works, and a way to
 * crash a Lambda container the way a real crash does (SIGKILL while it runs).
 *
 * The integration helpers (test/integration/helpers.ts) are reused, not copied.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as openpgp from 'openpgp';
import type { StoredSecretValue } from '../../lambdas/core/types';
import type { CallRecord, LocalAws, LocalAwsOptions } from '../../local/aws';
import type { ExecutionResult } from '../../local/engine/events';
import { type EngineStackConfig, LocalRotationEngine } from '../../local/engine/rotation-engine';
import { type KeyServer, keybaseAnswer, startKeyServer } from '../helpers/pgp-keys';
import { type Credentials, callerArn, keysOf, localAwsOf } from '../integration/helpers';

export { callerArn, keysOf, localAwsOf };
export type { Credentials };

/** Every user the proof suites rotate lives under this IAM path (the stack's scope). */
export const PROOF_PATH = '/proof/';
/** The Keybase user whose key the stand-in serves (the PGP schedule delivers to it). */
export const KEYBASE_USER = 'proofpgp';
/** A Keybase user the stand-in knows, with no public key. */
export const KEYBASE_USER_WITHOUT_KEY = 'nokeyuser';

/**
 * The proof suites' local stack: both deliveries on a schedule, two secrets rotated by Secrets
 * Manager. Identical in every proof file, so the synthesis is shared through the cache.
 */
export const PROOF_STACK: EngineStackConfig = {
  scope: { pathPrefix: PROOF_PATH },
  users: [
    { userName: 'sched-sm', delivery: { secretName: 'proof/sched-sm' }, schedule: 'rate(30 days)', sesSmtpRegions: ['eu-west-1'] },
    { userName: 'sched-pgp', delivery: { pgpKey: `keybase:${KEYBASE_USER}` }, schedule: 'rate(30 days)', sesSmtpRegions: ['eu-west-1'] },
  ],
  secretRotations: [
    { secretName: 'proof/rotation-a', userName: 'rot-a' },
    { secretName: 'proof/rotation-b', userName: 'rot-b' },
  ],
  defaultSesSmtpRegions: ['eu-west-1'],
  // One VerifyNewKey invocation retries STS for 1 s; the state machine retries it after that.
  verifyWindowSeconds: 1,
};

/** The secrets the stack itself holds (the endpoint has no ListSecrets: the suites keep count). */
const STACK_SECRETS = ['proof/sched-sm', 'proof/rotation-a', 'proof/rotation-b'];

export interface PgpRecipient {
  readonly publicKey: string;
  readonly fingerprint: string;
  /** Decrypts Terraform's `encrypted_secret` form (base64 of a binary OpenPGP message). */
  decrypt(base64: string): Promise<string>;
}

export async function createPgpRecipient(): Promise<PgpRecipient> {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'keyrotate proof' }], format: 'armored' });
  const decryptionKey = await openpgp.readPrivateKey({ armoredKey: privateKey });
  const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint();
  return {
    publicKey,
    fingerprint,
    decrypt: async (base64) => {
      const message = await openpgp.readMessage({ binaryMessage: Buffer.from(base64, 'base64') });
      const { data } = await openpgp.decrypt({ message, decryptionKeys: decryptionKey, format: 'utf8' });
      return String(data);
    },
  };
}

/** A Keybase stand-in: `KEYBASE_USER` has `publicKey`, `KEYBASE_USER_WITHOUT_KEY` has none, others do not exist. */
export async function startKeybase(publicKey: string): Promise<KeyServer> {
  return startKeyServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://keybase.invalid').searchParams.get('usernames');
    res.setHeader('content-type', 'application/json');
    if (name === KEYBASE_USER) {
      res.end(keybaseAnswer(publicKey));
    } else if (name === KEYBASE_USER_WITHOUT_KEY) {
      res.end(JSON.stringify({ status: { code: 0, name: 'OK' }, them: [{ id: '0123456789abcdef0123456789abcd20', public_keys: {} }] }));
    } else {
      res.end(JSON.stringify({ status: { code: 0, name: 'OK' }, them: [null] }));
    }
  });
}

export interface Proof {
  readonly engine: LocalRotationEngine;
  readonly aws: LocalAws;
  readonly keybase: KeyServer;
  readonly pgp: PgpRecipient;
  /** Every secret name the suite created or the stack holds (for snapshots). */
  readonly secretNames: Set<string>;
  close(): Promise<void>;
}

export interface ProofOptions {
  readonly retryIntervalMs?: number;
  readonly embedded?: Partial<LocalAwsOptions>;
  readonly functionEnvironment?: Readonly<Record<string, string>>;
}

/** Starts the Keybase stand-in, then the engine on an embedded endpoint with the proof stack. */
export async function startProof(options: ProofOptions = {}): Promise<Proof> {
  const pgp = await createPgpRecipient();
  const keybase = await startKeybase(pgp.publicKey);
  let engine: LocalRotationEngine;
  try {
    engine = await LocalRotationEngine.start({
      endpoint: 'embedded',
      stack: PROOF_STACK,
      waits: { allMs: 0 },
      retryIntervalMs: options.retryIntervalMs ?? 20,
      ...(options.embedded ? { embedded: options.embedded } : {}),
      functionEnvironment: { KEYROTATE_KEYBASE_URL: keybase.url, ...options.functionEnvironment },
    });
  } catch (error) {
    await keybase.close();
    throw error;
  }
  return {
    engine,
    aws: localAwsOf(engine),
    keybase,
    pgp,
    secretNames: new Set(STACK_SECRETS),
    close: async () => {
      await engine.stop();
      await keybase.close();
    },
  };
}

/** A user under PROOF_PATH with one Active key that has signed a call (so it has a last use). */
export async function createUsedUser(proof: Proof, userName: string, path = PROOF_PATH): Promise<Credentials> {
  proof.aws.iam.createUser(userName, { path });
  const key = proof.aws.iam.createAccessKey(userName);
  await callerArn(proof.engine, key);
  return key;
}

function secretsClient(proof: Proof): SecretsManagerClient {
  return new SecretsManagerClient({ ...proof.engine.sdkConfig, maxAttempts: 1 });
}

/** Creates a secret (optionally with a value) and remembers it for snapshots. */
export async function createSecret(proof: Proof, name: string, value?: string): Promise<string> {
  const sm = secretsClient(proof);
  try {
    const arn = (await sm.send(new CreateSecretCommand({ Name: name, ...(value !== undefined ? { SecretString: value } : {}) }))).ARN ?? '';
    proof.secretNames.add(name);
    return arn;
  } finally {
    sm.destroy();
  }
}

/** Stores a new AWSCURRENT value, as an operator seeding a secret does. */
export async function putSecretValue(proof: Proof, secretId: string, value: string): Promise<void> {
  const sm = secretsClient(proof);
  try {
    await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
  } finally {
    sm.destroy();
  }
}

/** The AWSCURRENT value of a keyrotate secret, read from the endpoint's state. */
export function storedValue(proof: Proof, secretId: string): StoredSecretValue | undefined {
  const text = proof.aws.secretsManager.getSecretString(secretId);
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as Partial<StoredSecretValue>;
  return typeof parsed.secretAccessKey === 'string' ? (parsed as StoredSecretValue) : undefined;
}

export interface WorldSnapshot {
  readonly keys: Record<string, { id: string; status: string }[]>;
  /** Per secret: versions with their stages and a hash of the value (never the value itself). */
  readonly secrets: Record<string, { versionId: string; stages: string[]; value: string }[]>;
  /** Lock table items: user → owner. */
  readonly locks: Record<string, string>;
}

function digest(text: string | undefined): string {
  return text === undefined ? '(none)' : createHash('sha256').update(text).digest('hex').slice(0, 16);
}

async function lockTables(proof: Proof): Promise<string[]> {
  const ddb = new DynamoDBClient({ ...proof.engine.sdkConfig, maxAttempts: 1 });
  try {
    return (await ddb.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    ddb.destroy();
  }
}

/** Everything a rotation could change: every user's keys, every secret version, every lock. */
export async function snapshotWorld(proof: Proof): Promise<WorldSnapshot> {
  const keys: WorldSnapshot['keys'] = {};
  for (const user of proof.aws.iam.listUsers()) keys[user.userName] = keysOf(proof.engine, user.userName);
  const secrets: WorldSnapshot['secrets'] = {};
  for (const name of [...proof.secretNames].sort()) {
    const described = proof.aws.secretsManager.describe(name);
    secrets[name] = (described?.versions ?? [])
      .map((v) => ({
        versionId: v.versionId,
        stages: [...v.stages].sort(),
        value: digest(proof.aws.secretsManager.getSecretString(name, { versionId: v.versionId })),
      }))
      .sort((a, b) => a.versionId.localeCompare(b.versionId));
  }
  const locks: WorldSnapshot['locks'] = {};
  for (const table of await lockTables(proof)) {
    for (const item of proof.aws.dynamodb.items(table)) {
      const user = item.userName as { S?: string } | undefined;
      const owner = item.owner as { S?: string } | undefined;
      locks[`${table}/${user?.S ?? '?'}`] = owner?.S ?? '?';
    }
  }
  return { keys, secrets, locks };
}

/** The output of a succeeded execution; otherwise a readable error. */
export function outputOf(result: ExecutionResult): Record<string, unknown> {
  if (result.status !== 'SUCCEEDED') {
    throw new Error(`expected SUCCEEDED, got ${result.status}${result.status === 'FAILED' ? ` ${result.error}: ${result.cause}` : ''}`);
  }
  return result.output as Record<string, unknown>;
}

/**
 * Watches every IAM call and records the most keys any user had right after it: IAM's limit
 * is two, and a rotation must never even try to go beyond (a LimitExceeded answer the test did
 * not inject counts as trying).
 */
export function watchKeyCounts(proof: Proof): { readonly maxKeys: () => number; readonly limitHits: () => number; stop(): void } {
  let max = 0;
  let limitHits = 0;
  const stop = proof.aws.calls.onCall((call: CallRecord) => {
    if (call.service !== 'iam') return;
    if (call.errorCode === 'LimitExceeded' && call.injected === undefined) limitHits += 1;
    for (const user of proof.aws.iam.listUsers()) max = Math.max(max, proof.aws.iam.listAccessKeys(user.userName).length);
  });
  return { maxKeys: () => max, limitHits: () => limitHits, stop };
}

/** This process's child process ids (Linux: /proc/self/task/<tid>/children, else a /proc scan). */
function childProcessIds(): number[] {
  const ids = new Set<number>();
  try {
    for (const task of readdirSync('/proc/self/task')) {
      for (const id of readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (id) ids.add(Number(id));
    }
    return [...ids];
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: look at every process's parent.
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state, ppid, …
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) ids.add(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return [...ids];
}

/**
 * SIGKILLs every Lambda container (runner process) of `functionName`: the process dies the way
 * a crashed or timed-out Lambda does, whatever it was doing. Synchronous, so a call listener of
 * the endpoint can kill the caller before the endpoint serves anything else. Linux only (reads
 * /proc); returns how many were killed.
 */
export function killContainers(functionName: string): number {
  let killed = 0;
  const wanted = `AWS_LAMBDA_FUNCTION_NAME=${functionName}`;
  for (const id of childProcessIds()) {
    try {
      if (!readFileSync(`/proc/${id}/environ`, 'utf8').split('\0').includes(wanted)) continue;
      process.kill(id, 'SIGKILL');
      killed += 1;
    } catch {
      // The process ended meanwhile.
    }
  }
  return killed;
}

/** True where killContainers works. */
export const canKillContainers = existsSync('/proc/self/environ');

/** The function a Task state invokes. */
export function functionOfState(proof: Proof, stateName: string): string {
  const name = proof.engine.stateMachine.taskFunctions[stateName];
  if (!name) throw new Error(`no Task state named ${stateName}`);
  return name;
}

/** The Secrets Manager rotation function's name. */
export function rotationFunctionName(proof: Proof): string {
  const name = proof.engine.runtime.functionNames.find((n) => n.includes('SecretsManagerRotation'));
  if (!name) throw new Error('the proof stack has no Secrets Manager rotation function');
  return name;
}

/** Milliseconds since `start`, for the timings the suites print. */
export function since(start: number): number {
  return Date.now() - start;
}

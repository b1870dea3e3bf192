/**
 * In-memory implementations of every port in lambdas/core/ports.ts, with the AWS semantics the
 * core relies on (IAM's two-key limit, Secrets Manager staging labels, KMS encryption context,
 * STS rejecting Inactive and not-yet-propagated keys, the DynamoDB lock's lease), a clock the
 * tests move by hand, a log of every change, and fault injection (fail before or after a call
 * takes effect, to simulate throttling and Lambda crashes).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  AccessKeyNotFoundError,
  AwsRequestError,
  KeyNotPropagatedError,
  KeyStateConflictError,
  PgpKeyFetchError,
  RotationInProgressError,
  RotationLockLostError,
  SecretNotFoundError,
  UserNotFoundError,
  VerificationFailedError,
} from '../../lambdas/core/errors';
import type {
  AccessKeyDirectory,
  Clock,
  CreatedAccessKey,
  CredentialVerifier,
  DeliveryRecord,
  IamUser,
  KeySnapshot,
  LockHolder,
  PgpKeyFetcher,
  RotationLock,
  SecretSealer,
  SecretStore,
  SecretVersion,
} from '../../lambdas/core/ports';
import type { RotationDeps } from '../../lambdas/core/rotation';
import type { AccessKeyInfo, KeyStatus } from '../../lambdas/core/types';

export const ACCOUNT_ID = '123456789012';
export const REGION = 'eu-west-1';
export const START_TIME = new Date('2026-03-02T09:00:00Z');

/** A clock that only moves when told; `sleep` advances it instead of waiting. */
export class FixedClock implements Clock {
  private time: number;
  readonly sleeps: number[] = [];

  constructor(start: Date = START_TIME) {
    this.time = start.getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  advance(ms: number): void {
    this.time += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }

  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.advance(ms);
  };
}

/** Stands for a Lambda that died mid-call (timeout, out of memory): not a keyrotate error. */
export class SimulatedCrash extends Error {
  constructor(readonly operation: string) {
    super(`simulated crash around ${operation}`);
    this.name = 'SimulatedCrash';
  }
}

interface FaultRule {
  readonly operation: string;
  readonly when: 'before' | 'after';
  readonly error: () => Error;
  remaining: number;
}

/**
 * Fault injection by operation name (`iam:CreateAccessKey`, `secrets:PutSecretValue`, …).
 * `before`: the call fails and changes nothing (throttling). `after`: the change is made, then
 * the call fails (a Lambda crash between the AWS call and returning its result).
 */
export class Faults {
  private readonly rules: FaultRule[] = [];

  inject(operation: string, options: { when?: 'before' | 'after'; error?: () => Error; times?: number } = {}): void {
    this.rules.push({
      operation,
      when: options.when ?? 'before',
      error: options.error ?? (() => new SimulatedCrash(operation)),
      remaining: options.times ?? 1,
    });
  }

  clear(): void {
    this.rules.length = 0;
  }

  async run<T>(operation: string, action: () => T | Promise<T>): Promise<T> {
    this.trip(operation, 'before');
    const result = await action();
    this.trip(operation, 'after');
    return result;
  }

  private trip(operation: string, when: 'before' | 'after'): void {
    const rule = this.rules.find((r) => r.operation === operation && r.when === when && r.remaining > 0);
    if (!rule) return;
    rule.remaining -= 1;
    throw rule.error();
  }
}

/** Every change made through the memory adapters, in order (`iam:CreateAccessKey alice AKIA…`). */
export class ChangeLog {
  readonly entries: string[] = [];

  record(entry: string): void {
    this.entries.push(entry);
  }

  /** Changes to AWS resources only (IAM, Secrets Manager), without lock bookkeeping. */
  awsChanges(): string[] {
    return this.entries.filter((e) => e.startsWith('iam:') || e.startsWith('secrets:'));
  }
}

interface StoredKey {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  status: KeyStatus;
  readonly createDate: Date;
  lastUsedDate?: Date;
}

/** IAM createDate has whole seconds. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** IAM with the fixed quota of two access keys per user. */
export class MemoryAccessKeyDirectory implements AccessKeyDirectory {
  static readonly MAX_KEYS = 2;
  private readonly users = new Map<string, IamUser>();
  private readonly keys = new Map<string, StoredKey>();
  private readonly issuedSecrets: string[] = [];
  private counter = 0;

  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults = new Faults(),
    private readonly log: ChangeLog = new ChangeLog(),
  ) {}

  addUser(userName: string, options: { path?: string; tags?: Record<string, string> } = {}): IamUser {
    const path = options.path ?? '/';
    const user: IamUser = {
      userName,
      path,
      arn: `arn:aws:iam::${ACCOUNT_ID}:user${path}${userName}`,
      tags: { ...(options.tags ?? {}) },
    };
    this.users.set(userName, user);
    return user;
  }

  /** A key that existed before the test (bypasses the change log, not the quota). */
  addKey(
    userName: string,
    options: { status?: KeyStatus; createDate?: Date; lastUsedDate?: Date } = {},
  ): { accessKeyId: string; secretAccessKey: string } {
    const key = this.newKey(userName, options.createDate ?? new Date(this.clock.now().getTime() - 86_400_000));
    key.status = options.status ?? 'Active';
    if (options.lastUsedDate) key.lastUsedDate = options.lastUsedDate;
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  }

  /** Test view of a user's keys (ids and statuses, oldest first). */
  keysOf(userName: string): Array<{ accessKeyId: string; status: KeyStatus }> {
    return [...this.keys.values()]
      .filter((k) => k.userName === userName)
      .map((k) => ({ accessKeyId: k.accessKeyId, status: k.status }));
  }

  /** What STS would know about a key (for the verifier). */
  lookup(accessKeyId: string): (StoredKey & { readonly arn: string }) | undefined {
    const key = this.keys.get(accessKeyId);
    const user = key && this.users.get(key.userName);
    return key && user ? { ...key, arn: user.arn } : undefined;
  }

  /** Every secret access key ever issued (for the sentinel test). */
  allSecrets(): string[] {
    return [...this.issuedSecrets];
  }

  setLastUsed(accessKeyId: string, date: Date | undefined): void {
    const key = this.keys.get(accessKeyId);
    if (!key) throw new Error(`no key ${accessKeyId}`);
    key.lastUsedDate = date;
  }

  /** Out-of-band change (an operator in the console). */
  forceStatus(accessKeyId: string, status: KeyStatus): void {
    const key = this.keys.get(accessKeyId);
    if (!key) throw new Error(`no key ${accessKeyId}`);
    key.status = status;
  }

  private newKey(userName: string, createDate: Date): StoredKey {
    if (!this.users.has(userName)) throw new UserNotFoundError(userName);
    if (this.keysOfUser(userName).length >= MemoryAccessKeyDirectory.MAX_KEYS) {
      // As the IAM adapter maps LimitExceeded.
      throw new KeyStateConflictError(`IAM user '${userName}' already has 2 access keys (LimitExceeded)`);
    }
    this.counter += 1;
    const accessKeyId = `AKIAMEMORY${String(this.counter).padStart(10, '0')}`;
    // 40 characters, like a real secret access key, random so the sentinel test means something.
    const secretAccessKey = randomBytes(30).toString('base64');
    this.issuedSecrets.push(secretAccessKey);
    const key: StoredKey = { userName, accessKeyId, secretAccessKey, status: 'Active', createDate: wholeSeconds(createDate) };
    this.keys.set(accessKeyId, key);
    return key;
  }

  private keysOfUser(userName: string): StoredKey[] {
    return [...this.keys.values()].filter((k) => k.userName === userName);
  }

  private userKey(userName: string, accessKeyId: string): StoredKey {
    if (!this.users.has(userName)) throw new UserNotFoundError(userName);
    const key = this.keys.get(accessKeyId);
    if (!key || key.userName !== userName) throw new AccessKeyNotFoundError(accessKeyId);
    return key;
  }

  getUser(userName: string): Promise<IamUser> {
    return this.faults.run('iam:GetUser', () => {
      const user = this.users.get(userName);
      if (!user) throw new UserNotFoundError(userName);
      return user;
    });
  }

  findUserNameByAccessKey(accessKeyId: string): Promise<string> {
    return this.faults.run('iam:GetAccessKeyLastUsed', () => {
      const key = this.keys.get(accessKeyId);
      if (!key) throw new AccessKeyNotFoundError(accessKeyId);
      return key.userName;
    });
  }

  listAccessKeys(userName: string): Promise<AccessKeyInfo[]> {
    return this.faults.run('iam:ListAccessKeys', () => {
      if (!this.users.has(userName)) throw new UserNotFoundError(userName);
      return this.keysOfUser(userName).map((k) => ({
        accessKeyId: k.accessKeyId,
        status: k.status,
        createDate: k.createDate,
        ...(k.lastUsedDate ? { lastUsedDate: k.lastUsedDate } : {}),
      }));
    });
  }

  createAccessKey(userName: string): Promise<CreatedAccessKey> {
    return this.faults.run('iam:CreateAccessKey', () => {
      const key = this.newKey(userName, this.clock.now());
      this.log.record(`iam:CreateAccessKey ${userName} ${key.accessKeyId}`);
      return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, status: key.status, createDate: key.createDate };
    });
  }

  setAccessKeyStatus(userName: string, accessKeyId: string, status: KeyStatus): Promise<void> {
    return this.faults.run('iam:UpdateAccessKey', () => {
      this.userKey(userName, accessKeyId).status = status;
      this.log.record(`iam:UpdateAccessKey ${userName} ${accessKeyId} ${status}`);
    });
  }

  deleteAccessKey(userName: string, accessKeyId: string): Promise<'deleted' | 'absent'> {
    return this.faults.run('iam:DeleteAccessKey', () => {
      if (!this.users.has(userName)) throw new UserNotFoundError(userName);
      const key = this.keys.get(accessKeyId);
      if (!key || key.userName !== userName) return 'absent' as const;
      this.keys.delete(accessKeyId);
      this.log.record(`iam:DeleteAccessKey ${userName} ${accessKeyId}`);
      return 'deleted' as const;
    });
  }

  getAccessKeyLastUsed(accessKeyId: string): Promise<Date | undefined> {
    return this.faults.run('iam:GetAccessKeyLastUsed', () => {
      const key = this.keys.get(accessKeyId);
      if (!key) throw new AccessKeyNotFoundError(accessKeyId);
      return key.lastUsedDate;
    });
  }
}

interface MemoryVersion {
  readonly versionId: string;
  value: string | null;
  stages: string[];
  readonly createdDate: Date;
}

interface MemorySecret {
  readonly arn: string;
  readonly name: string;
  readonly versions: Map<string, MemoryVersion>;
}

/**
 * Secrets Manager with staging-label semantics: one version per label; moving AWSCURRENT puts
 * AWSPREVIOUS on the version that lost it; a version is never rewritten; a rotation starts with
 * an AWSPENDING placeholder that has no value.
 */
export class MemorySecretStore implements SecretStore {
  private readonly secrets = new Map<string, MemorySecret>();
  private versionCounter = 0;

  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults = new Faults(),
    private readonly log: ChangeLog = new ChangeLog(),
  ) {}

  /** CreateSecret; with a value, it becomes the AWSCURRENT version. Returns the ARN. */
  createSecret(name: string, value?: string): string {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name}-AbCdEf`;
    this.secrets.set(name, { arn, name, versions: new Map() });
    if (value !== undefined) this.putVersion(name, value, ['AWSCURRENT']);
    return arn;
  }

  /** PutSecretValue with the default stage (an operator writing the secret). Returns the version id. */
  putVersion(secretId: string, value: string, stages: string[] = ['AWSCURRENT']): string {
    const secret = this.find(secretId);
    this.versionCounter += 1;
    const versionId = `00000000-0000-4000-8000-${String(this.versionCounter).padStart(12, '0')}`;
    secret.versions.set(versionId, { versionId, value, stages: [], createdDate: this.clock.now() });
    for (const stage of stages) this.attach(secret, stage, versionId);
    return versionId;
  }

  /** What RotateSecret does before calling the rotation function: an AWSPENDING placeholder. */
  startRotation(secretId: string, token: string): void {
    const secret = this.find(secretId);
    if (!secret.versions.has(token)) {
      secret.versions.set(token, { versionId: token, value: null, stages: [], createdDate: this.clock.now() });
    }
    this.attach(secret, 'AWSPENDING', token);
  }

  /** Test view: version id → stages, for labelled versions. */
  stagesOf(secretId: string): Record<string, string[]> {
    const result: Record<string, string[]> = {};
    for (const v of this.find(secretId).versions.values()) if (v.stages.length > 0) result[v.versionId] = [...v.stages];
    return result;
  }

  /** Test view: the value under a stage. */
  valueAt(secretId: string, stage: string): string | null {
    return [...this.find(secretId).versions.values()].find((v) => v.stages.includes(stage))?.value ?? null;
  }

  private find(secretId: string): MemorySecret {
    const secret = [...this.secrets.values()].find((s) => s.name === secretId || s.arn === secretId);
    if (!secret) throw new SecretNotFoundError(secretId);
    return secret;
  }

  private holder(secret: MemorySecret, stage: string): MemoryVersion | undefined {
    return [...secret.versions.values()].find((v) => v.stages.includes(stage));
  }

  /** Attaches `stage` to `versionId`, taking it from any other version (as AWS does). */
  private attach(secret: MemorySecret, stage: string, versionId: string): void {
    const previous = this.holder(secret, stage);
    if (previous?.versionId === versionId) return;
    if (previous) previous.stages = previous.stages.filter((s) => s !== stage);
    secret.versions.get(versionId)?.stages.push(stage);
    if (stage === 'AWSCURRENT' && previous) this.attach(secret, 'AWSPREVIOUS', previous.versionId);
  }

  describe(secretId: string): Promise<{ arn: string; name: string; versions: SecretVersion[] }> {
    return this.faults.run('secrets:DescribeSecret', () => {
      const secret = this.find(secretId);
      const versions = [...secret.versions.values()]
        .filter((v) => v.stages.length > 0)
        .map((v) => ({ versionId: v.versionId, stages: [...v.stages], createdDate: v.createdDate }));
      return { arn: secret.arn, name: secret.name, versions };
    });
  }

  getValue(secretId: string, selector: { versionId?: string; stage?: string }): Promise<{ versionId: string; value: string } | null> {
    return this.faults.run('secrets:GetSecretValue', () => {
      const secret = this.find(secretId);
      const version =
        selector.versionId !== undefined
          ? secret.versions.get(selector.versionId)
          : this.holder(secret, selector.stage ?? 'AWSCURRENT');
      if (!version || version.value === null) return null;
      if (selector.versionId !== undefined && selector.stage !== undefined && !version.stages.includes(selector.stage)) return null;
      return { versionId: version.versionId, value: version.value };
    });
  }

  putPending(secretId: string, versionId: string, value: string): Promise<{ arn: string; versionId: string }> {
    return this.faults.run('secrets:PutSecretValue', () => {
      const secret = this.find(secretId);
      const existing = secret.versions.get(versionId);
      if (existing?.value !== null && existing !== undefined) {
        // Same token, same value: AWS ignores the repeat. A different value is refused.
        if (existing.value !== value) {
          throw new KeyStateConflictError(`version ${versionId} of secret '${secretId}' already holds a different value`);
        }
        return { arn: secret.arn, versionId };
      }
      // As in AWS: the first version of a secret gets AWSCURRENT too, whatever VersionStages says.
      const first = secret.versions.size === 0;
      if (existing) existing.value = value;
      else secret.versions.set(versionId, { versionId, value, stages: [], createdDate: this.clock.now() });
      if (first) this.attach(secret, 'AWSCURRENT', versionId);
      this.attach(secret, 'AWSPENDING', versionId);
      this.log.record(`secrets:PutSecretValue ${secret.name} ${versionId} AWSPENDING`);
      return { arn: secret.arn, versionId };
    });
  }

  moveStage(secretId: string, stage: string, toVersionId: string, fromVersionId?: string): Promise<void> {
    return this.faults.run('secrets:UpdateSecretVersionStage', () => {
      const secret = this.find(secretId);
      const holder = this.holder(secret, stage);
      if (holder?.versionId === toVersionId) return;
      if (holder && fromVersionId !== undefined && holder.versionId !== fromVersionId) {
        throw new KeyStateConflictError(`stage ${stage} of secret '${secretId}' is on ${holder.versionId}, not ${fromVersionId}`);
      }
      if (!secret.versions.has(toVersionId)) throw new AwsRequestError('SecretsManager UpdateSecretVersionStage', 'ResourceNotFoundException');
      this.attach(secret, stage, toVersionId);
      this.log.record(`secrets:UpdateSecretVersionStage ${secret.name} ${stage} -> ${toVersionId}`);
    });
  }

  removeStage(secretId: string, stage: string, fromVersionId: string): Promise<void> {
    return this.faults.run('secrets:UpdateSecretVersionStage', () => {
      const secret = this.find(secretId);
      const version = secret.versions.get(fromVersionId);
      if (!version?.stages.includes(stage)) return;
      // Secrets Manager never lets a secret lose AWSCURRENT without moving it.
      if (stage === 'AWSCURRENT') throw new AwsRequestError('SecretsManager UpdateSecretVersionStage', 'InvalidParameterException');
      version.stages = version.stages.filter((s) => s !== stage);
      this.log.record(`secrets:UpdateSecretVersionStage ${secret.name} ${stage} removed from ${fromVersionId}`);
    });
  }
}

/** KMS stand-in that really encrypts: AES-256-GCM, the encryption context as additional data. */
export class MemorySealer implements SecretSealer {
  private readonly key = randomBytes(32);
  /** Every plaintext ever sealed (for the sentinel test). */
  readonly sealedPlaintexts: string[] = [];

  constructor(private readonly faults: Faults = new Faults()) {}

  private static aad(context: Readonly<Record<string, string>>): Buffer {
    const sorted = Object.keys(context)
      .sort()
      .map((k) => [k, context[k]]);
    return Buffer.from(JSON.stringify(sorted), 'utf8');
  }

  seal(plaintext: string, context: Readonly<Record<string, string>>): Promise<string> {
    return this.faults.run('kms:Encrypt', () => {
      this.sealedPlaintexts.push(plaintext);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      cipher.setAAD(MemorySealer.aad(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    });
  }

  open(ciphertext: string, context: Readonly<Record<string, string>>): Promise<string> {
    return this.faults.run('kms:Decrypt', () => {
      const raw = Buffer.from(ciphertext, 'base64');
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
        decipher.setAAD(MemorySealer.aad(context));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        // What KMS answers for a wrong key or encryption context.
        throw new AwsRequestError('KMS Decrypt', 'InvalidCiphertextException');
      }
    });
  }
}

/**
 * STS GetCallerIdentity: accepts only Active keys of the directory, and only `propagationDelayMs`
 * after their creation (IAM is eventually consistent); a wrong secret is SignatureDoesNotMatch.
 */
export class MemoryVerifier implements CredentialVerifier {
  propagationDelayMs: number;
  readonly calls: string[] = [];

  constructor(
    private readonly directory: MemoryAccessKeyDirectory,
    private readonly clock: Clock,
    private readonly faults: Faults = new Faults(),
    options: { propagationDelayMs?: number } = {},
  ) {
    this.propagationDelayMs = options.propagationDelayMs ?? 0;
  }

  callerArn(accessKeyId: string, secretAccessKey: string): Promise<string> {
    return this.faults.run('sts:GetCallerIdentity', () => {
      this.calls.push(accessKeyId);
      const key = this.directory.lookup(accessKeyId);
      const visible = key && this.clock.now().getTime() >= key.createDate.getTime() + this.propagationDelayMs;
      if (!key || !visible || key.status !== 'Active') throw new KeyNotPropagatedError(accessKeyId);
      if (key.secretAccessKey !== secretAccessKey) {
        throw new VerificationFailedError(`STS rejected the signature of access key ${accessKeyId} (SignatureDoesNotMatch)`);
      }
      return key.arn;
    });
  }
}

/**
 * The DynamoDB lock's semantics: a lease past `expiresAt` is free; same owner may re-take; a take
 * replaces the whole item (PutItem), so a key snapshot survives only if the take carries it.
 */
export class MemoryLock implements RotationLock {
  private readonly items = new Map<string, LockHolder>();

  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults = new Faults(),
    private readonly log: ChangeLog = new ChangeLog(),
  ) {}

  private live(userName: string): LockHolder | null {
    const item = this.items.get(userName);
    if (!item || item.expiresAt.getTime() < this.clock.now().getTime()) return null;
    return item;
  }

  acquire(userName: string, owner: string, expiresAt: Date, snapshot?: KeySnapshot): Promise<void> {
    return this.faults.run('lock:acquire', () => {
      const current = this.live(userName);
      if (current && current.owner !== owner) {
        throw new RotationInProgressError(userName, `rotation ${current.owner}, lease until ${current.expiresAt.toISOString()}`);
      }
      const recorded = snapshot ? { snapshot: { accessKeyIds: [...snapshot.accessKeyIds], takenAt: snapshot.takenAt } } : {};
      this.items.set(userName, { owner, expiresAt, ...recorded });
      this.log.record(`lock:acquire ${userName} ${owner}`);
    });
  }

  assertHeld(userName: string, owner: string): Promise<void> {
    return this.faults.run('lock:assertHeld', () => {
      if (this.live(userName)?.owner !== owner) throw new RotationLockLostError(userName, owner);
    });
  }

  release(userName: string, owner: string): Promise<void> {
    return this.faults.run('lock:release', () => {
      if (this.items.get(userName)?.owner !== owner) return;
      this.items.delete(userName);
      this.log.record(`lock:release ${userName} ${owner}`);
    });
  }

  holder(userName: string): Promise<LockHolder | null> {
    return this.faults.run('lock:holder', () => this.live(userName));
  }

  /** Delivery records live beside the lock items: acquire and release never touch them. */
  private readonly records = new Map<string, DeliveryRecord>();

  recordDelivery(userName: string, record: DeliveryRecord): Promise<void> {
    return this.faults.run('lock:recordDelivery', () => {
      this.records.set(userName, { ...record });
      this.log.record(`lock:recordDelivery ${userName} ${record.accessKeyId} ${record.replacedAccessKeyId}`);
    });
  }

  deliveryRecord(userName: string): Promise<DeliveryRecord | null> {
    return this.faults.run('lock:deliveryRecord', () => this.records.get(userName) ?? null);
  }
}

/** Serves PGP keys by URL; an unknown URL is a fetch error, like a 404. */
export class MemoryPgpFetcher implements PgpKeyFetcher {
  readonly pages = new Map<string, string>();
  readonly fetched: string[] = [];

  fetchText(url: string): Promise<string> {
    this.fetched.push(url);
    const page = this.pages.get(url);
    if (page === undefined) return Promise.reject(new PgpKeyFetchError(url, 'HTTP 404'));
    return Promise.resolve(page);
  }
}

/** A whole in-memory AWS account with every port wired to the same clock, faults and log. */
export function memoryWorld(options: { start?: Date; propagationDelayMs?: number } = {}) {
  const clock = new FixedClock(options.start);
  const faults = new Faults();
  const log = new ChangeLog();
  const directory = new MemoryAccessKeyDirectory(clock, faults, log);
  const secrets = new MemorySecretStore(clock, faults, log);
  const sealer = new MemorySealer(faults);
  const verifier = new MemoryVerifier(directory, clock, faults, { propagationDelayMs: options.propagationDelayMs ?? 0 });
  const lock = new MemoryLock(clock, faults, log);
  const pgpFetcher = new MemoryPgpFetcher();
  let seed = 0x2545f491;
  // Deterministic "random" for jitter: a small LCG, so retry schedules are reproducible.
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x1_0000_0000;
  };
  const deps: RotationDeps = { directory, secrets, sealer, verifier, lock, clock, pgpFetcher, sleep: clock.sleep, random };
  return { clock, faults, log, directory, secrets, sealer, verifier, lock, pgpFetcher, deps };
}

export type MemoryWorld = ReturnType<typeof memoryWorld>;

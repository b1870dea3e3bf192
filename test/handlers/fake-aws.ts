/**
 * A small stateful AWS behind aws-sdk-client-mock, for handler tests: IAM users and keys, STS
 * that checks the signing key, Secrets Manager versions and staging labels, KMS that really
 * encrypts (AES-256-GCM, encryption context as AAD), and the DynamoDB lock table. The mocks sit
 * on the client classes, so the handlers' module-scope clients and the per-call STS client all
 * land here. It keeps AWS's documented semantics for what keyrotate relies on: two keys per
 * user, unique staging labels (AWSCURRENT → AWSPREVIOUS), ClientRequestToken idempotency,
 * conditional writes.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreateAccessKeyCommand,
  type CreateAccessKeyCommandInput,
  DeleteAccessKeyCommand,
  type DeleteAccessKeyCommandInput,
  GetAccessKeyLastUsedCommand,
  type GetAccessKeyLastUsedCommandInput,
  GetUserCommand,
  type GetUserCommandInput,
  IAMClient,
  LimitExceededException,
  ListAccessKeysCommand,
  type ListAccessKeysCommandInput,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
  type UpdateAccessKeyCommandInput,
} from '@aws-sdk/client-iam';
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  DescribeSecretCommand,
  type DescribeSecretCommandInput,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  InvalidParameterException,
  ListSecretVersionIdsCommand,
  type ListSecretVersionIdsCommandInput,
  PutSecretValueCommand,
  type PutSecretValueCommandInput,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError } from '../adapters/sdk-errors';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

export interface FakeKey {
  accessKeyId: string;
  secretAccessKey: string;
  status: 'Active' | 'Inactive';
  createDate: Date;
  lastUsedDate?: Date;
  /** STS rejects the key (InvalidClientTokenId) this many more times: IAM propagation. */
  invisibleForCalls: number;
}

export interface FakeUser {
  userName: string;
  arn: string;
  path: string;
  tags: Record<string, string>;
  keys: FakeKey[];
}

export interface FakeVersion {
  versionId: string;
  value?: string;
  stages: string[];
  createdDate: Date;
}

export interface FakeSecret {
  arn: string;
  name: string;
  versions: FakeVersion[];
}

interface LockItem {
  userName: string;
  owner: string;
  expiresAt: number;
  ttl?: number;
  /** Whatever else the adapter stored with the lease (the key snapshot), returned as stored. */
  extra?: Record<string, AttributeValue>;
}

const mocks = {
  iam: mockClient(IAMClient),
  sts: mockClient(STSClient),
  secretsManager: mockClient(SecretsManagerClient),
  kms: mockClient(KMSClient),
  dynamodb: mockClient(DynamoDBClient),
};

const noSuchEntity = (what: string) => new NoSuchEntityException({ message: `The ${what} cannot be found.`, $metadata: { httpStatusCode: 404 } });
const secretNotFound = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } });

function randomId(prefix: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = prefix;
  for (const byte of randomBytes(length)) id += alphabet[byte % alphabet.length];
  return id;
}

export class FakeAws {
  readonly users = new Map<string, FakeUser>();
  readonly secrets = new Map<string, FakeSecret>();
  readonly locks = new Map<string, LockItem>();
  /** Delivery records (`<user>#delivered` items of the lock table), by key. */
  readonly deliveryRecords = new Map<string, Record<string, AttributeValue>>();
  /** Secrets handed out by the next CreateAccessKey calls (e.g. a sentinel), then random ones. */
  readonly nextSecrets: string[] = [];
  /** Errors thrown by the next calls of an operation (`'CreateAccessKey'`, `'Encrypt'`, …). */
  readonly faults = new Map<string, Error[]>();
  /** How many STS calls a new key is refused for (IAM propagation). */
  propagationCalls = 0;
  /** Replaces what KMS Decrypt returns for a context (a corrupted sealed value), when it returns a string. */
  decryptOverride: ((context: Record<string, string>) => string | undefined) | undefined;
  /** ListAccessKeys page size: 1 makes every listing paginate. */
  pageSize = 1;
  private readonly kmsKeys = new Map<string, Buffer>();
  readonly calls: string[] = [];

  /** Replaces whatever an earlier FakeAws installed on the (shared) client mocks. */
  constructor() {
    for (const mock of Object.values(mocks)) mock.reset();
    this.install();
  }

  // ---------- set-up helpers ----------

  addUser(userName: string, options: { path?: string; tags?: Record<string, string> } = {}): FakeUser {
    const path = options.path ?? '/';
    const user: FakeUser = { userName, path, tags: options.tags ?? {}, arn: `arn:aws:iam::${ACCOUNT}:user${path}${userName}`, keys: [] };
    this.users.set(userName, user);
    return user;
  }

  addKey(userName: string, key: Partial<FakeKey> = {}): FakeKey {
    const user = this.user(userName);
    const created: FakeKey = {
      accessKeyId: key.accessKeyId ?? randomId('AKIA', 16),
      secretAccessKey: key.secretAccessKey ?? randomBytes(30).toString('base64'),
      status: key.status ?? 'Active',
      createDate: key.createDate ?? new Date(Date.now() - 100 * 86_400_000),
      invisibleForCalls: 0,
      ...(key.lastUsedDate ? { lastUsedDate: key.lastUsedDate } : {}),
    };
    user.keys.push(created);
    return created;
  }

  addSecret(name: string, currentValue?: string): FakeSecret {
    const secret: FakeSecret = { arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`, name, versions: [] };
    if (currentValue !== undefined) {
      secret.versions.push({ versionId: randomId('v', 8), value: currentValue, stages: ['AWSCURRENT'], createdDate: new Date(Date.now() - 1000) });
    }
    this.secrets.set(name, secret);
    return secret;
  }

  /** What RotateSecret does before invoking the function: a value-less AWSPENDING version. */
  startSecretRotation(name: string, token: string): void {
    const secret = this.secret(name);
    if (secret.versions.some((v) => v.versionId === token)) return;
    for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSPENDING');
    secret.versions.push({ versionId: token, stages: ['AWSPENDING'], createdDate: new Date() });
  }

  fail(operation: string, ...errors: Error[]): void {
    this.faults.set(operation, [...(this.faults.get(operation) ?? []), ...errors]);
  }

  user(userName: string): FakeUser {
    const user = this.users.get(userName);
    if (!user) throw new Error(`fake: no user ${userName}`);
    return user;
  }

  secret(name: string): FakeSecret {
    const secret = this.secrets.get(name);
    if (!secret) throw new Error(`fake: no secret ${name}`);
    return secret;
  }

  keyIds(userName: string): string[] {
    return this.user(userName).keys.map((k) => k.accessKeyId);
  }

  stageOf(name: string, stage: string): FakeVersion | undefined {
    return this.secret(name).versions.find((v) => v.stages.includes(stage));
  }

  count(operation: string): number {
    return this.calls.filter((c) => c === operation).length;
  }

  // ---------- the services ----------

  private enter(operation: string): void {
    this.calls.push(operation);
    const queued = this.faults.get(operation);
    const fault = queued?.shift();
    if (fault) throw fault;
  }

  private findSecret(secretId: string | undefined): FakeSecret {
    const secret = [...this.secrets.values()].find((s) => s.name === secretId || s.arn === secretId);
    if (!secret) throw secretNotFound();
    return secret;
  }

  private findKey(accessKeyId: string | undefined): { user: FakeUser; key: FakeKey } | undefined {
    for (const user of this.users.values()) {
      const key = user.keys.find((k) => k.accessKeyId === accessKeyId);
      if (key) return { user, key };
    }
    return undefined;
  }

  private userOrThrow(userName: string | undefined): FakeUser {
    const user = userName === undefined ? undefined : this.users.get(userName);
    if (!user) throw noSuchEntity(`user with name ${userName}`);
    return user;
  }

  private attachStage(secret: FakeSecret, stage: string, target: FakeVersion): void {
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (holder === target) return;
    if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    target.stages.push(stage);
    if (stage === 'AWSCURRENT' && holder) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      holder.stages.push('AWSPREVIOUS');
    }
  }

  private kmsKey(keyId: string): Buffer {
    let key = this.kmsKeys.get(keyId);
    if (!key) {
      key = randomBytes(32);
      this.kmsKeys.set(keyId, key);
    }
    return key;
  }

  private static aad(context: Record<string, string> | undefined): Buffer {
    const sorted = Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b));
    return Buffer.from(JSON.stringify(sorted), 'utf8');
  }

  private install(): void {
    const { iam, sts, secretsManager, kms, dynamodb } = mocks;

    iam.on(GetUserCommand).callsFake((input: GetUserCommandInput) => {
      this.enter('GetUser');
      const user = this.userOrThrow(input.UserName);
      return {
        User: {
          UserName: user.userName,
          Arn: user.arn,
          Path: user.path,
          UserId: 'AIDA' + createHash('sha256').update(user.userName).digest('hex').slice(0, 16).toUpperCase(),
          CreateDate: new Date(0),
          Tags: Object.entries(user.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      };
    });
    iam.on(ListAccessKeysCommand).callsFake((input: ListAccessKeysCommandInput) => {
      this.enter('ListAccessKeys');
      const user = this.userOrThrow(input.UserName);
      const start = input.Marker ? Number(input.Marker) : 0;
      const page = user.keys.slice(start, start + this.pageSize);
      const more = start + this.pageSize < user.keys.length;
      return {
        AccessKeyMetadata: page.map((k) => ({ UserName: user.userName, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: k.createDate })),
        IsTruncated: more,
        ...(more ? { Marker: String(start + this.pageSize) } : {}),
      };
    });
    iam.on(GetAccessKeyLastUsedCommand).callsFake((input: GetAccessKeyLastUsedCommandInput) => {
      this.enter('GetAccessKeyLastUsed');
      const found = this.findKey(input.AccessKeyId);
      if (!found) throw noSuchEntity(`access key ${input.AccessKeyId}`);
      return {
        UserName: found.user.userName,
        AccessKeyLastUsed: found.key.lastUsedDate
          ? { LastUsedDate: found.key.lastUsedDate, ServiceName: 'ses', Region: REGION }
          : { ServiceName: 'N/A', Region: 'N/A' },
      };
    });
    iam.on(CreateAccessKeyCommand).callsFake((input: CreateAccessKeyCommandInput) => {
      this.enter('CreateAccessKey');
      const user = this.userOrThrow(input.UserName);
      if (user.keys.length >= 2) {
        throw new LimitExceededException({ message: 'Cannot exceed quota for AccessKeysPerUser: 2', $metadata: { httpStatusCode: 409 } });
      }
      const key = this.addKey(user.userName, { secretAccessKey: this.nextSecrets.shift(), createDate: new Date(), status: 'Active' });
      key.invisibleForCalls = this.propagationCalls;
      return {
        AccessKey: { UserName: user.userName, AccessKeyId: key.accessKeyId, SecretAccessKey: key.secretAccessKey, Status: 'Active', CreateDate: key.createDate },
      };
    });
    iam.on(UpdateAccessKeyCommand).callsFake((input: UpdateAccessKeyCommandInput) => {
      this.enter('UpdateAccessKey');
      const user = this.userOrThrow(input.UserName);
      const key = user.keys.find((k) => k.accessKeyId === input.AccessKeyId);
      if (!key) throw noSuchEntity(`access key ${input.AccessKeyId}`);
      key.status = input.Status === 'Inactive' ? 'Inactive' : 'Active';
      return {};
    });
    iam.on(DeleteAccessKeyCommand).callsFake((input: DeleteAccessKeyCommandInput) => {
      this.enter('DeleteAccessKey');
      const user = this.userOrThrow(input.UserName);
      const index = user.keys.findIndex((k) => k.accessKeyId === input.AccessKeyId);
      if (index < 0) throw noSuchEntity(`access key ${input.AccessKeyId}`);
      user.keys.splice(index, 1);
      return {};
    });

    sts.on(GetCallerIdentityCommand).callsFake(async (_input: unknown, getClient: () => unknown) => {
      this.enter('GetCallerIdentity');
      const provider = (getClient() as STSClient).config.credentials as () => Promise<{ accessKeyId: string; secretAccessKey: string }>;
      const credentials = await provider();
      const found = this.findKey(credentials.accessKeyId);
      if (!found || found.key.status !== 'Active') throw awsError('InvalidClientTokenId', 403);
      if (found.key.invisibleForCalls > 0) {
        found.key.invisibleForCalls -= 1;
        throw awsError('InvalidClientTokenId', 403);
      }
      if (found.key.secretAccessKey !== credentials.secretAccessKey) throw awsError('SignatureDoesNotMatch', 403);
      return { Arn: found.user.arn, Account: ACCOUNT, UserId: 'AIDA' };
    });

    secretsManager.on(DescribeSecretCommand).callsFake((input: DescribeSecretCommandInput) => {
      this.enter('DescribeSecret');
      const secret = this.findSecret(input.SecretId);
      const map: Record<string, string[]> = {};
      for (const v of secret.versions) if (v.stages.length > 0) map[v.versionId] = [...v.stages];
      return { ARN: secret.arn, Name: secret.name, VersionIdsToStages: map, RotationEnabled: true };
    });
    secretsManager.on(ListSecretVersionIdsCommand).callsFake((input: ListSecretVersionIdsCommandInput) => {
      this.enter('ListSecretVersionIds');
      const secret = this.findSecret(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        Versions: secret.versions
          .filter((v) => input.IncludeDeprecated || v.stages.length > 0)
          .map((v) => ({ VersionId: v.versionId, VersionStages: [...v.stages], CreatedDate: v.createdDate })),
      };
    });
    secretsManager.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => {
      this.enter('GetSecretValue');
      const secret = this.findSecret(input.SecretId);
      const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
      const version = secret.versions.find(
        (v) => (input.VersionId === undefined || v.versionId === input.VersionId) && (stage === undefined || v.stages.includes(stage)),
      );
      if (!version || version.value === undefined) {
        throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value.", $metadata: {} });
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, SecretString: version.value, VersionStages: [...version.stages] };
    });
    secretsManager.on(PutSecretValueCommand).callsFake((input: PutSecretValueCommandInput) => {
      this.enter('PutSecretValue');
      const secret = this.findSecret(input.SecretId);
      const token = input.ClientRequestToken ?? randomId('v', 8);
      let version = secret.versions.find((v) => v.versionId === token);
      if (version?.value !== undefined) {
        if (version.value !== input.SecretString) {
          throw new ResourceExistsException({ message: 'You can’t modify an existing version.', $metadata: {} });
        }
        return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
      }
      if (!version) {
        version = { versionId: token, stages: [], createdDate: new Date() };
        secret.versions.push(version);
      }
      version.value = input.SecretString;
      for (const stage of input.VersionStages ?? ['AWSCURRENT']) this.attachStage(secret, stage, version);
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
    });
    secretsManager.on(UpdateSecretVersionStageCommand).callsFake((input: UpdateSecretVersionStageCommandInput) => {
      this.enter('UpdateSecretVersionStage');
      const secret = this.findSecret(input.SecretId);
      const stage = input.VersionStage ?? '';
      const holder = secret.versions.find((v) => v.stages.includes(stage));
      if (input.MoveToVersionId !== undefined) {
        const target = secret.versions.find((v) => v.versionId === input.MoveToVersionId);
        if (!target) throw secretNotFound();
        if (holder && holder !== target && holder.versionId !== input.RemoveFromVersionId) {
          throw new InvalidParameterException({ message: 'The staging label is attached to another version.', $metadata: {} });
        }
        this.attachStage(secret, stage, target);
      } else {
        if (!holder || holder.versionId !== input.RemoveFromVersionId) {
          throw new InvalidParameterException({ message: 'The staging label is not attached to that version.', $metadata: {} });
        }
        holder.stages = holder.stages.filter((s) => s !== stage);
      }
      return { ARN: secret.arn, Name: secret.name };
    });

    kms.on(EncryptCommand).callsFake((input: EncryptCommandInput) => {
      this.enter('Encrypt');
      const keyId = input.KeyId ?? '';
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.kmsKey(keyId), iv);
      cipher.setAAD(FakeAws.aad(input.EncryptionContext));
      const body = Buffer.concat([cipher.update(Buffer.from(input.Plaintext ?? new Uint8Array())), cipher.final()]);
      const keyTag = createHash('sha256').update(keyId).digest().subarray(0, 4);
      return { CiphertextBlob: new Uint8Array(Buffer.concat([keyTag, iv, cipher.getAuthTag(), body])), KeyId: keyId };
    });
    kms.on(DecryptCommand).callsFake((input: DecryptCommandInput) => {
      this.enter('Decrypt');
      const keyId = input.KeyId ?? '';
      const override = this.decryptOverride?.(input.EncryptionContext ?? {});
      if (override !== undefined) return { Plaintext: new Uint8Array(Buffer.from(override, 'utf8')), KeyId: keyId };
      const blob = Buffer.from(input.CiphertextBlob ?? new Uint8Array());
      if (!blob.subarray(0, 4).equals(createHash('sha256').update(keyId).digest().subarray(0, 4))) {
        throw new IncorrectKeyException({ message: 'wrong key', $metadata: {} });
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.kmsKey(keyId), blob.subarray(4, 16));
        decipher.setAuthTag(blob.subarray(16, 32));
        decipher.setAAD(FakeAws.aad(input.EncryptionContext));
        return { Plaintext: new Uint8Array(Buffer.concat([decipher.update(blob.subarray(32)), decipher.final()])), KeyId: keyId };
      } catch {
        throw new InvalidCiphertextException({ message: 'invalid ciphertext', $metadata: {} });
      }
    });

    dynamodb.on(PutItemCommand).callsFake((input: PutItemCommandInput) => {
      this.enter('PutItem');
      const item = input.Item ?? {};
      const userName = item.userName?.S ?? '';
      // The delivery record: its own item (`<user>#delivered`), written unconditionally.
      if (input.ConditionExpression === undefined && userName.endsWith('#delivered')) {
        this.deliveryRecords.set(userName, item);
        return {};
      }
      const existing = this.locks.get(userName);
      if (input.ConditionExpression !== 'attribute_not_exists(userName) OR #owner = :owner OR expiresAt < :now') {
        throw new Error(`fake: unsupported condition ${input.ConditionExpression}`);
      }
      const owner = input.ExpressionAttributeValues?.[':owner']?.S;
      const now = Number(input.ExpressionAttributeValues?.[':now']?.N);
      if (existing && existing.owner !== owner && !(existing.expiresAt < now)) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      const { userName: _key, owner: _owner, expiresAt: _expires, ttl: _ttl, ...extra } = item;
      this.locks.set(userName, { userName, owner: item.owner?.S ?? '', expiresAt: Number(item.expiresAt?.N), ttl: Number(item.ttl?.N), extra });
      return {};
    });
    dynamodb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
      this.enter('GetItem');
      const record = this.deliveryRecords.get(input.Key?.userName?.S ?? '');
      if (record) return { Item: record };
      const item = this.locks.get(input.Key?.userName?.S ?? '');
      return item
        ? { Item: { ...item.extra, userName: { S: item.userName }, owner: { S: item.owner }, expiresAt: { N: String(item.expiresAt) } } }
        : {};
    });
    dynamodb.on(DeleteItemCommand).callsFake((input: DeleteItemCommandInput) => {
      this.enter('DeleteItem');
      const userName = input.Key?.userName?.S ?? '';
      const item = this.locks.get(userName);
      if (input.ConditionExpression !== '#owner = :owner') throw new Error('fake: unsupported condition');
      if (!item || item.owner !== input.ExpressionAttributeValues?.[':owner']?.S) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      this.locks.delete(userName);
      return {};
    });
  }
}

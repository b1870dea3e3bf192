/**
 * The local AWS endpoint: one HTTP server on 127.0.0.1 that speaks the real wire protocols of
 * the part of AWS keyrotate uses (IAM and STS query/XML, Secrets Manager and KMS JSON 1.1,
 * DynamoDB JSON 1.0), so unmodified AWS SDK clients and the AWS CLI reach it through
 * `AWS_ENDPOINT_URL`. It is a test double with AWS's semantics, not a security boundary.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CallListener, type CallRecord, CallLog } from './control/call-log';
import { type FailSpec, type FaultHandle, type FaultTarget, Faults } from './control/faults';
import { StateFile } from './control/state-file';
import { type ThrottleOptions, Throttle } from './control/throttle';
import { AwsError } from './errors';
import type { ServiceName } from './protocol/context';
import type { Tag } from './protocol/input';
import { createRequestHandler } from './server';
import { type DynamoSnapshot, type Item, DynamoModel } from './services/dynamodb';
import { dynamodbApi } from './services/dynamodb-api';
import type { AttributeValue } from './services/dynamodb-expressions';
import { type AccessKeyMetadata, type IamSnapshot, type IamUser, IamModel, keyMetadata } from './services/iam';
import { iamApi, iamInvalid, stsApi } from './services/iam-api';
import { type KmsSnapshot, KmsModel, kmsInvalid } from './services/kms';
import { kmsApi } from './services/kms-api';
import { type SecretsSnapshot, SecretsModel, hasValue, smInvalid } from './services/secrets-manager';
import { type RotationFailureMode, type RotationFunction, type RotationRecord, RotationFunctions, secretsManagerApi } from './services/secrets-manager-api';
import { type EndpointClock, createClock } from './util';

export type { CallListener, CallRecord, FailSpec, FaultHandle, FaultTarget, ThrottleOptions, ServiceName, Tag, RotationFailureMode, RotationRecord, AttributeValue, Item };
export type { RotationEvent, RotationFunction } from './services/secrets-manager-api';
export type { AccessKeyMetadata, EndpointClock };

export interface LocalAwsOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** The emulated account. @default '000000000000' */
  accountId?: string;
  /** The region in ARNs the endpoint makes (Secrets Manager, KMS, DynamoDB). @default 'us-east-1' */
  region?: string;
  /** A new access key is rejected (InvalidClientTokenId) until it is this old. @default 0 */
  propagationDelayMs?: number;
  /** Load state from this file at start and save it (mode 0600) after every change. @default in memory only */
  stateFile?: string;
  /** Throttle calls with each service's own throttling error. @default no throttling */
  throttle?: ThrottleOptions;
  /** The time source for every date the endpoint records and for key ages. @default the system clock */
  clock?: () => Date;
  /** What RotateSecret answers when a rotation step fails. @default 'error' (see RotationFailureMode) */
  rotationFailure?: RotationFailureMode;
}

/** A user as the test accessors show it. */
export interface LocalIamUser {
  readonly userName: string;
  readonly userId: string;
  readonly path: string;
  readonly arn: string;
  readonly createDate: Date;
  readonly tags: readonly Tag[];
}

/** A secret as the test accessors show it: structure only, values through `getSecretString`. */
export interface LocalSecret {
  readonly arn: string;
  readonly name: string;
  readonly rotationEnabled: boolean;
  readonly rotationLambdaArn?: string;
  readonly deleted: boolean;
  readonly versions: readonly { readonly versionId: string; readonly stages: readonly string[]; readonly hasValue: boolean; readonly createdDate: Date }[];
}

export interface LocalAws {
  /** `http://127.0.0.1:PORT`: the value for `AWS_ENDPOINT_URL` or a client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly accountId: string;
  readonly region: string;
  /** Saves the state (if a state file is set) and closes the server and its connections. */
  stop(): Promise<void>;
  /** Fault injection: `fail` (error before the side effect) or `drop` (no answer after it). */
  readonly faults: Pick<Faults, 'fail' | 'drop' | 'clear'>;
  /** The call log, and listeners called after every call. */
  readonly calls: Pick<CallLog, 'all' | 'of' | 'clear' | 'onCall'>;
  /** The endpoint's clock; `advance(ms)` moves it (key ages, last-used and rotation dates). */
  readonly clock: EndpointClock;
  /** Wires a rotation Lambda (ARN or function name) to a local function RotateSecret calls. */
  registerRotationFunction(arnOrName: string, fn: RotationFunction): void;
  setPropagationDelay(ms: number): void;
  /** Replaces the throttling settings (`undefined` turns throttling off). */
  setThrottle(options: ThrottleOptions | undefined): void;
  setRotationFailureMode(mode: RotationFailureMode): void;
  /** Direct state access for tests and demos (same rules as the API; changes are saved). */
  readonly iam: {
    createUser(userName: string, options?: { path?: string; tags?: Tag[] }): LocalIamUser;
    getUser(userName: string): LocalIamUser | undefined;
    listUsers(): LocalIamUser[];
    /** Creates a key and returns its secret, as CreateAccessKey does. */
    createAccessKey(userName: string): { accessKeyId: string; secretAccessKey: string };
    listAccessKeys(userName: string): AccessKeyMetadata[];
    getAccessKey(accessKeyId: string): AccessKeyMetadata | undefined;
  };
  readonly secretsManager: {
    describe(secretId: string): LocalSecret | undefined;
    /** The value of a version (AWSCURRENT by default); `undefined` when there is none. */
    getSecretString(secretId: string, options?: { versionId?: string; versionStage?: string }): string | undefined;
    /** Every RotateSecret run so far, oldest first. */
    rotations(): readonly RotationRecord[];
  };
  readonly kms: {
    /** Creates a symmetric key; returns its key id. */
    createKey(description?: string): string;
    createAlias(aliasName: string, keyId: string): void;
  };
  readonly dynamodb: {
    createTable(name: string, partitionKey: string, type?: 'S' | 'N' | 'B'): void;
    getItem(table: string, key: Record<string, AttributeValue>): Item | undefined;
    items(table: string): Item[];
  };
}

const STATE_FORMAT = 'keyrotate-local-aws';

interface Snapshot {
  format: typeof STATE_FORMAT;
  version: 1;
  accountId: string;
  region: string;
  iam: IamSnapshot;
  secretsManager: SecretsSnapshot;
  kms: KmsSnapshot;
  dynamodb: DynamoSnapshot;
}

function isSnapshot(value: unknown): value is Snapshot {
  return typeof value === 'object' && value !== null && (value as { format?: unknown }).format === STATE_FORMAT && (value as { version?: unknown }).version === 1;
}

function orUndefined<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof AwsError) return undefined;
    throw error;
  }
}

/** Starts the endpoint; resolves once it listens. */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const accountId = options.accountId ?? '000000000000';
  const region = options.region ?? 'us-east-1';
  if (!/^\d{12}$/.test(accountId)) throw new RangeError(`accountId must be 12 digits, got '${accountId}'`);
  const clock = createClock(options.clock);
  let propagationDelayMs = options.propagationDelayMs ?? 0;
  let rotationFailure: RotationFailureMode = options.rotationFailure ?? 'error';
  let dirty = false;
  const changed = () => {
    dirty = true;
  };
  const now = () => clock.now();

  const iam = new IamModel({ accountId, now, changed });
  const secrets = new SecretsModel({ accountId, region, now, changed });
  const kms = new KmsModel({ accountId, region, now, changed });
  const dynamo = new DynamoModel({ now, changed });
  const rotations = new RotationFunctions();

  const snapshot = (): Snapshot => ({
    format: STATE_FORMAT,
    version: 1,
    accountId,
    region,
    iam: iam.snapshot(),
    secretsManager: secrets.snapshot(),
    kms: kms.snapshot(),
    dynamodb: dynamo.snapshot(),
  });

  const stateFile = options.stateFile === undefined ? undefined : new StateFile(options.stateFile);
  const saved = stateFile?.load();
  if (saved !== undefined) {
    if (!isSnapshot(saved)) throw new Error(`${options.stateFile} is not a keyrotate local AWS state file`);
    if (saved.accountId !== accountId || saved.region !== region) {
      throw new Error(`${options.stateFile} holds account ${saved.accountId} in ${saved.region}; start with those (or another state file)`);
    }
    iam.restore(saved.iam);
    secrets.restoreSnapshot(saved.secretsManager);
    kms.restore(saved.kms);
    dynamo.restore(saved.dynamodb);
  }
  const flush = () => {
    if (dirty && stateFile) stateFile.save(snapshot());
    dirty = false;
  };
  /** Direct accessors change state outside a request: save right away, like a call would. */
  const mutate = <T>(fn: () => T): T => {
    try {
      return fn();
    } finally {
      flush();
    }
  };

  const throttle = new Throttle(options.throttle, () => clock.now().getTime());
  const faults = new Faults();
  const calls = new CallLog();
  const handler = createRequestHandler({
    accountId,
    clock,
    iam,
    propagationDelayMs: () => propagationDelayMs,
    throttle,
    faults,
    calls,
    queryApis: { iam: iamApi(iam, accountId, clock.now()), sts: stsApi(iam, accountId) },
    jsonApis: {
      secretsmanager: secretsManagerApi(secrets, rotations, () => rotationFailure),
      kms: kmsApi(kms, accountId),
      dynamodb: dynamodbApi(dynamo, region, accountId),
    },
    invalid: {
      iam: iamInvalid,
      sts: iamInvalid,
      secretsmanager: smInvalid,
      kms: kmsInvalid,
      dynamodb: (message) => new AwsError('ValidationException', message, 400),
    },
    flush,
  });

  const server = createServer({ keepAlive: true }, handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;

  const userView = (u: IamUser): LocalIamUser => ({ userName: u.userName, userId: u.userId, path: u.path, arn: iam.userArn(u), createDate: u.createDate, tags: [...u.tags] });

  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    accountId,
    region,
    faults,
    calls,
    clock,
    stop: () => {
      stopped ??= new Promise<void>((resolve, reject) => {
        try {
          flush();
        } catch (error) {
          reject(error as Error);
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
    registerRotationFunction: (arnOrName, fn) => rotations.register(arnOrName, fn),
    setPropagationDelay: (ms) => {
      if (!(ms >= 0)) throw new RangeError(`propagation delay must be >= 0 ms, got ${ms}`);
      propagationDelayMs = ms;
    },
    setThrottle: (throttleOptions) => throttle.configure(throttleOptions),
    setRotationFailureMode: (mode) => {
      rotationFailure = mode;
    },
    iam: {
      createUser: (userName, userOptions) => mutate(() => userView(iam.createUser({ userName, path: userOptions?.path, tags: userOptions?.tags }))),
      getUser: (userName) => {
        const user = iam.findUser(userName);
        return user ? userView(user) : undefined;
      },
      listUsers: () => iam.listUsers().map(userView),
      createAccessKey: (userName) =>
        mutate(() => {
          const key = iam.createAccessKey(userName);
          return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
        }),
      listAccessKeys: (userName) => iam.listAccessKeys(userName).map(keyMetadata),
      getAccessKey: (accessKeyId) => {
        const key = iam.findAccessKey(accessKeyId);
        return key ? keyMetadata(key) : undefined;
      },
    },
    secretsManager: {
      describe: (secretId) => {
        const secret = orUndefined(() => secrets.resolve(secretId, { allowDeleted: true }));
        if (!secret) return undefined;
        return {
          arn: secret.arn,
          name: secret.name,
          rotationEnabled: secret.rotation.enabled,
          rotationLambdaArn: secret.rotation.lambdaArn,
          deleted: secret.deletedDate !== undefined,
          versions: secret.versions.map((v) => ({ versionId: v.versionId, stages: [...v.stages], hasValue: hasValue(v), createdDate: v.createdDate })),
        };
      },
      getSecretString: (secretId, read) =>
        orUndefined(() => secrets.getVersion(secrets.resolve(secretId, { allowDeleted: true }), read?.versionId, read?.versionStage).secretString),
      rotations: () => [...rotations.records],
    },
    kms: {
      createKey: (description) => mutate(() => kms.createKey(description).keyId),
      createAlias: (aliasName, keyId) => mutate(() => kms.createAlias(aliasName, keyId)),
    },
    dynamodb: {
      createTable: (name, partitionKey, type = 'S') =>
        mutate(() => {
          dynamo.createTable({ name, keyName: partitionKey, keyType: type, billingMode: 'PAY_PER_REQUEST' });
        }),
      getItem: (table, key) => dynamo.getItem(table, key),
      items: (table) => [...dynamo.table(table).items.values()],
    },
  };
}

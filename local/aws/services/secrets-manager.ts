import { randomUUID } from 'node:crypto';
import { AwsError } from '../errors';
import type { Tag } from '../protocol/input';
import { newArnSuffix } from '../util';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

const DAY_MS = 86_400_000;

export interface SecretVersion {
  readonly versionId: string;
  secretString?: string;
  secretBinary?: Buffer;
  stages: string[];
  readonly createdDate: Date;
  lastAccessedDate?: Date;
}

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

export interface Secret {
  readonly arn: string;
  readonly name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  readonly createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  lastRotatedDate?: Date;
  /** Set while the secret is scheduled for deletion. */
  deletedDate?: Date;
  /** When a scheduled deletion becomes final. */
  deletionDate?: Date;
  rotation: { enabled: boolean; lambdaArn?: string; rules?: RotationRules };
  versions: SecretVersion[];
}

export interface SecretsSnapshot {
  secrets: {
    arn: string;
    name: string;
    description?: string;
    kmsKeyId?: string;
    tags: Tag[];
    createdDate: string;
    lastChangedDate: string;
    lastAccessedDate?: string;
    lastRotatedDate?: string;
    deletedDate?: string;
    deletionDate?: string;
    rotation: { enabled: boolean; lambdaArn?: string; rules?: RotationRules };
    versions: { versionId: string; secretString?: string; secretBinary?: string; stages: string[]; createdDate: string; lastAccessedDate?: string }[];
  }[];
}

export interface SecretsDeps {
  readonly accountId: string;
  readonly region: string;
  readonly now: () => Date;
  readonly changed: () => void;
}

/** Secrets Manager's parameter error: `InvalidParameterException`, HTTP 400. */
export const smInvalid = (message: string): AwsError => new AwsError('InvalidParameterException', message, 400);
const notFound = (): AwsError => new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.", 400);
const markedDeleted = (): AwsError =>
  new AwsError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.", 400);

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

function sameValue(version: SecretVersion, secretString: string | undefined, secretBinary: Buffer | undefined): boolean {
  const binaryEqual =
    version.secretBinary === undefined || secretBinary === undefined ? version.secretBinary === secretBinary : version.secretBinary.equals(secretBinary);
  return version.secretString === secretString && binaryEqual;
}

export const hasValue = (version: SecretVersion): boolean => version.secretString !== undefined || version.secretBinary !== undefined;

/**
 * Secrets and their versions with Secrets Manager's staging-label rules: a label is on at most
 * one version, moving AWSCURRENT moves AWSPREVIOUS to the version it left, a version without
 * labels is deprecated, a ClientRequestToken names a version and makes writes idempotent.
 */
export class SecretsModel {
  private readonly secrets = new Map<string, Secret>();

  constructor(private readonly deps: SecretsDeps) {}

  create(input: {
    name: string;
    description?: string;
    kmsKeyId?: string;
    tags?: Tag[];
    secretString?: string;
    secretBinary?: Buffer;
    clientRequestToken?: string;
  }): { secret: Secret; version?: SecretVersion } {
    if (!SECRET_NAME.test(input.name)) {
      throw smInvalid('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    if (input.secretString !== undefined && input.secretBinary !== undefined) {
      throw smInvalid("You can't specify both a binary secret value and a string secret value in the same secret.");
    }
    const existing = this.byName(input.name);
    if (existing?.deletedDate) {
      throw new AwsError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.", 400);
    }
    if (existing) throw new AwsError('ResourceExistsException', `The operation failed because the secret ${input.name} already exists.`, 400);
    const now = this.deps.now();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.deps.region}:${this.deps.accountId}:secret:${input.name}-${newArnSuffix()}`,
      name: input.name,
      description: input.description,
      kmsKeyId: input.kmsKeyId,
      tags: input.tags ?? [],
      createdDate: now,
      lastChangedDate: now,
      rotation: { enabled: false },
      versions: [],
    };
    this.secrets.set(secret.arn, secret);
    let version: SecretVersion | undefined;
    if (input.secretString !== undefined || input.secretBinary !== undefined) {
      version = {
        versionId: input.clientRequestToken ?? randomUUID(),
        secretString: input.secretString,
        secretBinary: input.secretBinary,
        stages: [AWSCURRENT],
        createdDate: now,
      };
      secret.versions.push(version);
    }
    this.deps.changed();
    return { secret, version };
  }

  /**
   * Finds a secret by name, full ARN, or partial ARN (the ARN without its random suffix).
   * Secrets in their recovery window are found only with `allowDeleted`.
   */
  resolve(secretId: string, options: { allowDeleted?: boolean } = {}): Secret {
    this.purgeExpired();
    const secret =
      this.secrets.get(secretId) ??
      this.byName(secretId) ??
      [...this.secrets.values()].find((s) => secretId.startsWith('arn:') && s.arn.slice(0, -7) === secretId);
    if (!secret) throw notFound();
    if (secret.deletedDate && !options.allowDeleted) throw markedDeleted();
    return secret;
  }

  /** The version a read addresses: VersionId, VersionStage, or AWSCURRENT by default. */
  getVersion(secret: Secret, versionId?: string, versionStage?: string): SecretVersion {
    if (versionId !== undefined) {
      const version = secret.versions.find((v) => v.versionId === versionId);
      if (!version || !hasValue(version)) {
        throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`, 400);
      }
      if (versionStage !== undefined && !version.stages.includes(versionStage)) {
        throw new AwsError('ResourceNotFoundException', 'You provided a VersionStage that is not associated to the provided VersionId.', 400);
      }
      return version;
    }
    const stage = versionStage ?? AWSCURRENT;
    const version = secret.versions.find((v) => v.stages.includes(stage));
    // The AWSPENDING placeholder RotateSecret creates has no value: reading it is "not found".
    if (!version || !hasValue(version)) {
      throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${stage}`, 400);
    }
    return version;
  }

  /** GetSecretValue; records the access date (day granularity, as Secrets Manager does). */
  readValue(secretId: string, versionId?: string, versionStage?: string): { secret: Secret; version: SecretVersion } {
    const secret = this.resolve(secretId);
    const version = this.getVersion(secret, versionId, versionStage);
    const today = new Date(Math.floor(this.deps.now().getTime() / DAY_MS) * DAY_MS);
    if (secret.lastAccessedDate?.getTime() !== today.getTime()) {
      secret.lastAccessedDate = today;
      version.lastAccessedDate = today;
      this.deps.changed();
    }
    return { secret, version };
  }

  putValue(input: {
    secretId: string;
    clientRequestToken?: string;
    secretString?: string;
    secretBinary?: Buffer;
    versionStages?: string[];
  }): { secret: Secret; version: SecretVersion } {
    if (input.secretString === undefined && input.secretBinary === undefined) {
      throw smInvalid('You must provide either SecretString or SecretBinary.');
    }
    if (input.secretString !== undefined && input.secretBinary !== undefined) {
      throw smInvalid("You can't specify both a binary secret value and a string secret value in the same secret.");
    }
    const secret = this.resolve(input.secretId);
    const token = input.clientRequestToken ?? randomUUID();
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing && hasValue(existing)) {
      // Same token, same value: the retry of a write that already happened.
      if (sameValue(existing, input.secretString, input.secretBinary)) return { secret, version: existing };
      throw new AwsError(
        'ResourceExistsException',
        `A version with ClientRequestToken ${token} already exists for secret ${secret.name} with a different value; versions cannot be changed.`,
        400,
      );
    }
    const first = secret.versions.every((v) => !hasValue(v));
    const version: SecretVersion = existing ?? { versionId: token, stages: [], createdDate: this.deps.now() };
    // A placeholder (RotateSecret's AWSPENDING version) gets its value here.
    version.secretString = input.secretString;
    version.secretBinary = input.secretBinary;
    if (!existing) secret.versions.push(version);
    const stages = new Set(input.versionStages ?? [AWSCURRENT]);
    if (first) stages.add(AWSCURRENT);
    for (const stage of stages) this.attach(secret, stage, version);
    secret.lastChangedDate = this.deps.now();
    this.deps.changed();
    return { secret, version };
  }

  updateVersionStage(input: { secretId: string; versionStage: string; moveToVersionId?: string; removeFromVersionId?: string }): Secret {
    const secret = this.resolve(input.secretId);
    const { versionStage: stage, moveToVersionId: moveTo, removeFromVersionId: removeFrom } = input;
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (removeFrom !== undefined && holder?.versionId !== removeFrom) {
      throw smInvalid(
        holder
          ? `When you move staging label ${stage}, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label ${stage}.`
          : `The staging label ${stage} is not attached to version ${removeFrom}.`,
      );
    }
    if (moveTo !== undefined) {
      const target = secret.versions.find((v) => v.versionId === moveTo);
      if (!target) throw smInvalid(`Not a valid version: ${moveTo}`);
      if (holder && holder !== target && removeFrom === undefined) {
        throw smInvalid(
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      this.attach(secret, stage, target);
    } else {
      if (removeFrom === undefined) throw smInvalid('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
      if (stage === AWSCURRENT) {
        throw smInvalid("You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.");
      }
      if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    }
    secret.lastChangedDate = this.deps.now();
    this.deps.changed();
    return secret;
  }

  /** Versions oldest first; deprecated ones (no label) only when asked for. */
  listVersions(secretId: string, includeDeprecated: boolean): { secret: Secret; versions: SecretVersion[] } {
    const secret = this.resolve(secretId, { allowDeleted: true });
    return { secret, versions: secret.versions.filter((v) => includeDeprecated || v.stages.length > 0) };
  }

  delete(secretId: string, options: { recoveryWindowInDays?: number; force?: boolean }): { secret: Secret; deletionDate: Date } {
    if (options.force && options.recoveryWindowInDays !== undefined) {
      throw smInvalid("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const window = options.recoveryWindowInDays ?? 30;
    if (!options.force && (window < 7 || window > 30)) {
      throw smInvalid('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const secret = this.resolve(secretId, { allowDeleted: true });
    const now = this.deps.now();
    if (options.force) {
      this.secrets.delete(secret.arn);
      this.deps.changed();
      return { secret, deletionDate: now };
    }
    if (secret.deletedDate) throw markedDeleted();
    secret.deletedDate = now;
    secret.deletionDate = new Date(now.getTime() + window * DAY_MS);
    this.deps.changed();
    return { secret, deletionDate: secret.deletionDate };
  }

  restore(secretId: string): Secret {
    const secret = this.resolve(secretId, { allowDeleted: true });
    secret.deletedDate = undefined;
    secret.deletionDate = undefined;
    this.deps.changed();
    return secret;
  }

  /** The AWSPENDING version, unless it is also AWSCURRENT (a finished rotation leaves it so). */
  pendingRotation(secret: Secret): SecretVersion | undefined {
    const pending = secret.versions.find((v) => v.stages.includes(AWSPENDING));
    return pending && !pending.stages.includes(AWSCURRENT) ? pending : undefined;
  }

  /**
   * Stores the rotation configuration and creates the AWSPENDING placeholder version (no
   * value) named by the rotation's token, as Secrets Manager does before it calls the
   * rotation function's createSecret step.
   */
  beginRotation(secret: Secret, input: { token: string; lambdaArn: string; rules?: RotationRules }): SecretVersion {
    if (input.rules?.AutomaticallyAfterDays !== undefined && (input.rules.AutomaticallyAfterDays < 1 || input.rules.AutomaticallyAfterDays > 1000)) {
      throw smInvalid('RotationRules.AutomaticallyAfterDays must be within 1-1000.');
    }
    secret.rotation = { enabled: true, lambdaArn: input.lambdaArn, rules: input.rules ?? secret.rotation.rules };
    let placeholder = secret.versions.find((v) => v.versionId === input.token);
    if (!placeholder) {
      placeholder = { versionId: input.token, stages: [], createdDate: this.deps.now() };
      secret.versions.push(placeholder);
    }
    this.attach(secret, AWSPENDING, placeholder);
    secret.lastChangedDate = this.deps.now();
    this.deps.changed();
    return placeholder;
  }

  /** Ends the test rotation (RotateImmediately=false): its placeholder is removed again. */
  discardPlaceholder(secret: Secret, token: string): void {
    const placeholder = secret.versions.find((v) => v.versionId === token);
    if (placeholder && !hasValue(placeholder)) {
      secret.versions = secret.versions.filter((v) => v !== placeholder);
      this.deps.changed();
    }
  }

  markRotated(secret: Secret): void {
    secret.lastRotatedDate = this.deps.now();
    this.deps.changed();
  }

  nextRotationDate(secret: Secret): Date | undefined {
    const days = secret.rotation.rules?.AutomaticallyAfterDays;
    if (!secret.rotation.enabled || days === undefined) return undefined;
    return new Date((secret.lastRotatedDate ?? secret.createdDate).getTime() + days * DAY_MS);
  }

  all(): Secret[] {
    this.purgeExpired();
    return [...this.secrets.values()];
  }

  snapshot(): SecretsSnapshot {
    const iso = (d: Date | undefined) => d?.toISOString();
    return {
      secrets: [...this.secrets.values()].map((s) => ({
        arn: s.arn,
        name: s.name,
        description: s.description,
        kmsKeyId: s.kmsKeyId,
        tags: s.tags,
        createdDate: s.createdDate.toISOString(),
        lastChangedDate: s.lastChangedDate.toISOString(),
        lastAccessedDate: iso(s.lastAccessedDate),
        lastRotatedDate: iso(s.lastRotatedDate),
        deletedDate: iso(s.deletedDate),
        deletionDate: iso(s.deletionDate),
        rotation: s.rotation,
        versions: s.versions.map((v) => ({
          versionId: v.versionId,
          secretString: v.secretString,
          secretBinary: v.secretBinary?.toString('base64'),
          stages: v.stages,
          createdDate: v.createdDate.toISOString(),
          lastAccessedDate: iso(v.lastAccessedDate),
        })),
      })),
    };
  }

  restoreSnapshot(snapshot: SecretsSnapshot): void {
    const date = (s: string | undefined) => (s === undefined ? undefined : new Date(s));
    this.secrets.clear();
    for (const s of snapshot.secrets) {
      this.secrets.set(s.arn, {
        arn: s.arn,
        name: s.name,
        description: s.description,
        kmsKeyId: s.kmsKeyId,
        tags: s.tags,
        createdDate: new Date(s.createdDate),
        lastChangedDate: new Date(s.lastChangedDate),
        lastAccessedDate: date(s.lastAccessedDate),
        lastRotatedDate: date(s.lastRotatedDate),
        deletedDate: date(s.deletedDate),
        deletionDate: date(s.deletionDate),
        rotation: s.rotation,
        versions: s.versions.map((v) => ({
          versionId: v.versionId,
          secretString: v.secretString,
          secretBinary: v.secretBinary === undefined ? undefined : Buffer.from(v.secretBinary, 'base64'),
          stages: v.stages,
          createdDate: new Date(v.createdDate),
          lastAccessedDate: date(v.lastAccessedDate),
        })),
      });
    }
  }

  private byName(name: string): Secret | undefined {
    return [...this.secrets.values()].find((s) => s.name === name);
  }

  /** A scheduled deletion whose recovery window has passed (on the endpoint's clock) is final. */
  private purgeExpired(): void {
    const now = this.deps.now().getTime();
    for (const secret of this.secrets.values()) {
      if (secret.deletionDate && secret.deletionDate.getTime() <= now) {
        this.secrets.delete(secret.arn);
        this.deps.changed();
      }
    }
  }

  /**
   * Puts `stage` on `target`, taking it off whichever version had it. Moving AWSCURRENT puts
   * AWSPREVIOUS on the version it left, as Secrets Manager does automatically.
   */
  private attach(secret: Secret, stage: string, target: SecretVersion): void {
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (holder === target) return;
    if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    target.stages.push(stage);
    if (stage === AWSCURRENT && holder) this.attach(secret, AWSPREVIOUS, holder);
  }
}

/**
 * The small ports the pure core talks through. Adapters (lambdas/adapters) implement them
 * with AWS SDK v3 clients, openpgp and fetch; core tests use in-memory ones.
 */
import type { AccessKeyInfo, KeyStatus } from './types';

export interface Clock {
  now(): Date;
}

export interface IamUser {
  readonly userName: string;
  readonly arn: string;
  readonly path: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface CreatedAccessKey {
  readonly accessKeyId: string;
  /** Plaintext; never logged, never returned from a Lambda except sealed. */
  readonly secretAccessKey: string;
  readonly status: KeyStatus;
  readonly createDate: Date;
}

/** IAM, for one account. Not-found is a typed error; "already done" is success. */
export interface AccessKeyDirectory {
  getUser(userName: string): Promise<IamUser>;
  /** The user that owns an access key (GetAccessKeyLastUsed), as Terraform's import does. */
  findUserNameByAccessKey(accessKeyId: string): Promise<string>;
  /** The user's keys, with last-used dates. */
  listAccessKeys(userName: string): Promise<AccessKeyInfo[]>;
  createAccessKey(userName: string): Promise<CreatedAccessKey>;
  setAccessKeyStatus(userName: string, accessKeyId: string, status: KeyStatus): Promise<void>;
  /** Resolves 'absent' when the key was already gone (idempotent delete). */
  deleteAccessKey(userName: string, accessKeyId: string): Promise<'deleted' | 'absent'>;
  getAccessKeyLastUsed(accessKeyId: string): Promise<Date | undefined>;
}

/** Seals secrets for the trip between Lambdas (KMS with an encryption context). */
export interface SecretSealer {
  seal(plaintext: string, context: Readonly<Record<string, string>>): Promise<string>;
  open(ciphertext: string, context: Readonly<Record<string, string>>): Promise<string>;
}

/** Signs a call with a candidate key and says whose key it is (STS GetCallerIdentity). */
export interface CredentialVerifier {
  /** Resolves the caller ARN; throws KeyNotPropagatedError while IAM has not accepted the key. */
  callerArn(accessKeyId: string, secretAccessKey: string): Promise<string>;
}

/**
 * The user's access key ids a rotation listed while holding the lock, and when the listing began.
 * Kept with the lock by the Secrets Manager rotation, whose createSecret attempts share no state
 * but the lock: a key missing from it was made after `takenAt`, under this rotation's lock.
 */
export interface KeySnapshot {
  readonly accessKeyIds: readonly string[];
  readonly takenAt: Date;
}

export interface LockHolder {
  readonly owner: string;
  readonly expiresAt: Date;
  /** The snapshot recorded with the lock, if the holder recorded one. */
  readonly snapshot?: KeySnapshot;
}

/**
 * keyrotate's own record of the last key it delivered to a user and verified, and the key that
 * one replaces. Written before the replaced key is touched, and kept after the rotation ends, so
 * that a rotation which failed to retire the replaced key leaves evidence (not a guess) of which
 * of the user's two Active keys is the current one (planKeys: unfinished retirement).
 */
export interface DeliveryRecord {
  /** The key keyrotate delivered (stored in the secret or PGP-encrypted) and verified. */
  readonly accessKeyId: string;
  /** The key it replaces: the rotation's old key, to be retired. */
  readonly replacedAccessKeyId: string;
  readonly rotationId: string;
  readonly at: Date;
}

/** One rotation per user at a time, whichever trigger started it. */
export interface RotationLock {
  /**
   * Takes (or re-takes, for the same owner) the user's lock; throws RotationInProgressError.
   * `snapshot` is stored with the lock; a take without one drops any stored before.
   */
  acquire(userName: string, owner: string, expiresAt: Date, snapshot?: KeySnapshot): Promise<void>;
  /** Throws RotationLockLostError unless `owner` still holds the lock. */
  assertHeld(userName: string, owner: string): Promise<void>;
  /** Releases the lock if `owner` holds it; a no-op otherwise (idempotent). */
  release(userName: string, owner: string): Promise<void>;
  /** The live holder (an expired lease is free), for dry runs, messages and re-runs. */
  holder(userName: string): Promise<LockHolder | null>;
  /**
   * Stores the user's delivery record (replacing any earlier one). Kept apart from the lock, so
   * acquiring and releasing the lock never touch it.
   */
  recordDelivery(userName: string, record: DeliveryRecord): Promise<void>;
  /** The user's delivery record, or null when there is none (or it is malformed). */
  deliveryRecord(userName: string): Promise<DeliveryRecord | null>;
}

/** Fetches a remote PGP key (keybase:, external:, github:). */
export interface PgpKeyFetcher {
  fetchText(url: string): Promise<string>;
}

export interface SecretVersion {
  readonly versionId: string;
  readonly stages: readonly string[];
  readonly createdDate?: Date;
}

/** Secrets Manager, for one secret at a time. */
export interface SecretStore {
  /** ARN, name and every version with its staging labels (ListSecretVersionIds, incl. deprecated: false). */
  describe(secretId: string): Promise<{ arn: string; name: string; versions: SecretVersion[] }>;
  /** The value of a version or stage; null when that version/stage has no value (a pending placeholder). */
  getValue(secretId: string, selector: { versionId?: string; stage?: string }): Promise<{ versionId: string; value: string } | null>;
  /**
   * Stores `value` as version `versionId` (ClientRequestToken) labelled AWSPENDING. Idempotent for
   * the same token and value; a different value under the same token is an error.
   */
  putPending(secretId: string, versionId: string, value: string): Promise<{ arn: string; versionId: string }>;
  /** Moves `stage` to `toVersionId` (removing it from `fromVersionId` when given). */
  moveStage(secretId: string, stage: string, toVersionId: string, fromVersionId?: string): Promise<void>;
  /** Removes `stage` from `fromVersionId`; a no-op when it is not there. */
  removeStage(secretId: string, stage: string, fromVersionId: string): Promise<void>;
}

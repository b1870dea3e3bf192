/**
 * Which key is old, and which Inactive leftover must go first: the one decision keyrotate must
 * never guess (guarantee "never guess"). Pure: the table in docs/readme/rotation-rules.md
 * ("How keyrotate decides which key is old") is this function, case by case.
 */
import { AmbiguousCurrentKeyError, KeyStateConflictError } from './errors';
import type { AccessKeyInfo, CurrentKeySource, KeyPlan, StaleKeyReason } from './types';

/** IAM's fixed quota of access keys per user (it cannot be raised). */
export const MAX_ACCESS_KEYS_PER_USER = 2;

/** The key something outside IAM says is in use: the secret's AWSCURRENT value, or the input. */
export interface KnownCurrentKey {
  readonly accessKeyId: string;
  readonly source: Exclude<CurrentKeySource, 'onlyActiveKey' | 'none'>;
}

const SOURCE_WORDING: Record<KnownCurrentKey['source'], string> = {
  secretsManager: "the secret's AWSCURRENT value",
  oldAccessKeyId: 'oldAccessKeyId',
  accessKeyId: 'accessKeyId',
};

function byAge(a: AccessKeyInfo, b: AccessKeyInfo): number {
  return a.createDate.getTime() - b.createDate.getTime() || a.accessKeyId.localeCompare(b.accessKeyId);
}

/**
 * Evidence, beside the keys and the known current key, that planKeys may use. Each field is a
 * fact read from AWS, never an inference.
 */
export interface KeyEvidence {
  /**
   * The accessKeyId in the AWSPREVIOUS value of the same secret, for the same user, when the known
   * current key came from that secret's AWSCURRENT value: AWSCURRENT was moved off this key, so
   * consumers were told to stop using it. Set only by the Secrets Manager paths.
   */
  readonly previousAccessKeyId?: string;
  /**
   * keyrotate's own delivery record of the user (RotationLock.deliveryRecord): the key an earlier
   * rotation delivered and verified, and the key it was replacing. Written before that rotation
   * touched the replaced key, so when both are still Active the retirement is unfinished. The
   * caller passes it only where the delivery agrees (for Secrets Manager: the secret's AWSCURRENT
   * value names the delivered key).
   */
  readonly delivered?: { readonly accessKeyId: string; readonly replacedAccessKeyId: string; readonly rotationId?: string };
}

/** The delivery record names `current` as the key delivered and `other` as the key it replaced. */
function recordSays(evidence: KeyEvidence, current: string, other: string): boolean {
  return evidence.delivered?.accessKeyId === current && evidence.delivered.replacedAccessKeyId === other;
}

/** What the operator should do about two Active keys nothing names as current. */
function ambiguityHint(active: readonly AccessKeyInfo[], evidence: KeyEvidence): string {
  const record = evidence.delivered;
  const ids = active.map((k) => k.accessKeyId);
  if (record && ids.includes(record.accessKeyId) && ids.includes(record.replacedAccessKeyId)) {
    // Consumers may never have received the delivered key: retiring the replaced one could cut
    // them off, deleting the delivered one could break a hand-over already made. Their call.
    return (
      `rotation ${record.rotationId ?? '(unknown)'} delivered ${record.accessKeyId} (its encryptedSecret is in that execution's ` +
      `output or history) to replace ${record.replacedAccessKeyId}, but did not retire it: once the consumers use ` +
      `${record.accessKeyId}, deactivate ${record.replacedAccessKeyId} (the next rotation then deletes it); if nobody ` +
      `received ${record.accessKeyId}, delete it; then retry`
    );
  }
  return 'deactivate the one nothing uses any more (the next rotation then deletes it and retires the other), or delete it yourself, then retry';
}

/**
 * Decides the old key (retired once the new key is delivered and verified) and the stale key
 * (an Inactive key deleted first so CreateAccessKey has room). Changes nothing; throws instead
 * of guessing:
 * - KeyStateConflictError when the known current key is absent or Inactive, or when another
 *   Active key exists beside it (it may be in use: deactivating it is the owner's decision) —
 *   unless that key is an unfinished retirement: the secret's AWSCURRENT names the current key
 *   and its AWSPREVIOUS names the other Active one, or keyrotate's delivery record names the
 *   current key as delivered and the other Active one as replaced. Then the other key is the
 *   stale key (`staleKeyReason: 'unfinishedRetirement'`): PurgeStaleKey deactivates, then deletes
 *   it, after Plan has checked the request's `requireUnusedSeconds` against its last use;
 * - AmbiguousCurrentKeyError for two Active keys and no known current key; when the delivery
 *   record names them, the message says which rotation delivered which key and what to do (the
 *   record alone is no evidence: nobody may have received a PGP ciphertext).
 */
export function planKeys(
  keys: readonly AccessKeyInfo[],
  knownCurrent: KnownCurrentKey | null,
  request: { readonly userName: string },
  evidence: KeyEvidence = {},
): KeyPlan {
  const { userName } = request;
  const snapshot = keys.map((k) => k.accessKeyId);
  const active = keys.filter((k) => k.status === 'Active');

  let old: AccessKeyInfo | null;
  let currentKeySource: CurrentKeySource;
  /** An Active key keyrotate itself took out of service and failed to retire (see KeyEvidence). */
  let retiring: AccessKeyInfo | null = null;
  if (knownCurrent) {
    const said = SOURCE_WORDING[knownCurrent.source];
    const current = keys.find((k) => k.accessKeyId === knownCurrent.accessKeyId);
    if (!current) {
      throw new KeyStateConflictError(
        `${said} names access key ${knownCurrent.accessKeyId}, which IAM user '${userName}' does not have; nothing was changed`,
      );
    }
    // An Inactive key cannot be what consumers use: the record is stale, or someone is
    // mid-way through a manual rotation. Either way it is not keyrotate's call.
    if (current.status !== 'Active') {
      throw new KeyStateConflictError(
        `${said} names access key ${current.accessKeyId} of IAM user '${userName}', but it is Inactive; nothing was changed`,
      );
    }
    const others = active.filter((k) => k.accessKeyId !== current.accessKeyId);
    const [other] = others;
    // A previous rotation delivered and verified its new key (the secret's AWSCURRENT moved to it,
    // AWSPREVIOUS kept the key it replaced) but failed to retire the old one. Consumers were told
    // to switch, so that key is not a guess: finishing its retirement is the earlier rotation's
    // own decision. Of the outside statements only the secret can say so; the input alone cannot.
    // keyrotate's delivery record says the same when it names this key as delivered and the
    // other as the one it replaced (a secret's first value has no AWSPREVIOUS, so only the record
    // can tell); it may back the input too, being keyrotate's own fact, not the caller's claim.
    const unfinished =
      others.length === 1 &&
      other !== undefined &&
      ((knownCurrent.source === 'secretsManager' && evidence.previousAccessKeyId === other.accessKeyId) ||
        recordSays(evidence, current.accessKeyId, other.accessKeyId));
    if (unfinished) {
      retiring = other;
    } else if (others.length > 0) {
      // Making room would mean deactivating or deleting a second Active key that something may
      // still use, before the new key is delivered (guarantee "verified before retired"). The owner decides, not us.
      throw new KeyStateConflictError(
        `IAM user '${userName}' has another Active access key (${others.map((k) => k.accessKeyId).join(', ')}) ` +
          `beside the current one ${current.accessKeyId}; it may be in use: once nothing uses it, deactivate it ` +
          '(the next rotation then deletes it) or delete it yourself, then retry',
      );
    }
    old = current;
    currentKeySource = knownCurrent.source;
  } else {
    // Nothing names a key (PGP delivery). keyrotate's delivery record alone is no evidence: the
    // ciphertext may sit in a failed execution nobody read, so its consumers may still be on the
    // replaced key. The error tells the operator what happened instead.
    if (active.length > 1) {
      throw new AmbiguousCurrentKeyError(userName, active.map((k) => k.accessKeyId), ambiguityHint(active, evidence));
    }
    old = active[0] ?? null;
    currentKeySource = old ? 'onlyActiveKey' : 'none';
  }

  // Inactive keys are never current, so the oldest of them may go to make room for the new key.
  const inactive = keys.filter((k) => k.status !== 'Active').sort(byAge);
  const toFree = keys.length - (MAX_ACCESS_KEYS_PER_USER - 1);
  if (toFree > 1) {
    // Only possible if IAM's quota ever changes; one purge step frees one slot.
    throw new KeyStateConflictError(
      `IAM user '${userName}' has ${keys.length} access keys, more than keyrotate can make room among; nothing was changed`,
    );
  }
  let stale: AccessKeyInfo | null = null;
  let staleKeyReason: StaleKeyReason = 'inactive';
  if (retiring) {
    stale = retiring;
    staleKeyReason = 'unfinishedRetirement';
  } else if (toFree === 1) {
    stale = inactive[0] ?? null;
  }

  return {
    oldAccessKeyId: old?.accessKeyId ?? null,
    staleAccessKeyId: stale?.accessKeyId ?? null,
    ...(stale ? { staleKeyReason } : {}),
    currentKeySource,
    snapshot,
  };
}

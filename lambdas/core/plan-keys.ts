/**
 * Which key is old, and which Inactive leftover must go first: the one decision keyrotate must
 * never guess (DESIGN.md invariant 3). Pure: the table in docs/readme/rotation-rules.md
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
}

/**
 * Decides the old key (retired once the new key is delivered and verified) and the stale key
 * (an Inactive key deleted first so CreateAccessKey has room). Changes nothing; throws instead
 * of guessing:
 * - KeyStateConflictError when the known current key is absent or Inactive, or when another
 *   Active key exists beside it (it may be in use: deactivating it is the owner's decision) —
 *   unless that key is an unfinished retirement: the secret's AWSCURRENT names the current key
 *   and its AWSPREVIOUS names the other Active one. Then the other key is the stale key
 *   (`staleKeyReason: 'unfinishedRetirement'`): PurgeStaleKey deactivates, then deletes it,
 *   after Plan has checked the request's `requireUnusedSeconds` against its last use;
 * - AmbiguousCurrentKeyError for two Active keys and no known current key.
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
    // own decision. Only the secret can say so; the input cannot.
    const unfinished =
      knownCurrent.source === 'secretsManager' &&
      others.length === 1 &&
      other !== undefined &&
      evidence.previousAccessKeyId === other.accessKeyId;
    if (unfinished) {
      retiring = other;
    } else if (others.length > 0) {
      // Making room would mean deactivating or deleting a second Active key that something may
      // still use, before the new key is delivered (invariant 2). The owner decides, not us.
      throw new KeyStateConflictError(
        `IAM user '${userName}' has another Active access key (${others.map((k) => k.accessKeyId).join(', ')}) ` +
          `beside the current one ${current.accessKeyId}; it may be in use: once nothing uses it, deactivate it ` +
          '(the next rotation then deletes it) or delete it yourself, then retry',
      );
    }
    old = current;
    currentKeySource = knownCurrent.source;
  } else {
    if (active.length > 1) {
      throw new AmbiguousCurrentKeyError(
        userName,
        active.map((k) => k.accessKeyId),
        'deactivate the one nothing uses any more (the next rotation then deletes it and retires the other), ' +
          'or delete it yourself, then retry',
      );
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

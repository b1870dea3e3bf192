/**
 * The Secrets Manager rotation function (docs: "Rotating from Secrets Manager"): the four-step
 * protocol over the same ports and rules as the state machine. Secrets Manager cannot hand its
 * work to another function, so this one writes the secret itself, in one pass:
 *
 * - createSecret: CreateAccessKey, then the full value stored as the AWSPENDING version.
 * - setSecret: nothing. The "credential in the service" is the IAM key, created in createSecret
 *   so that the stored value names the real key id.
 * - testSecret: STS GetCallerIdentity signed with the pending key, with propagation retries.
 * - finishSecret: AWSCURRENT moves to the new version, keyrotate's delivery record is written
 *   (best effort), then the previous key is deactivated (or deleted, per configuration) and the
 *   lock released (best effort: see finishSecret).
 *
 * Secrets Manager never re-runs a rotation whose version became AWSCURRENT, even if its
 * finishSecret failed after that. So createSecret first completes such a predecessor's finish
 * (finishPredecessor) before it starts its own rotation.
 *
 * Every step is idempotent: Secrets Manager retries whole rotations with the same token.
 */
import {
  AmbiguousCurrentKeyError,
  KeyStateConflictError,
  SecretMismatchError,
  ValidationError,
} from './errors';
import { type KeyEvidence, type KnownCurrentKey, planKeys } from './plan-keys';
import type { IamUser, KeySnapshot, LockHolder, SecretVersion } from './ports';
import { assertUserInScope } from './scope';
import { checkSesSmtpRegions } from './ses-regions';
import { buildSecretValue, type ParsedSecretValue, parseSecretValue, secretValueRegions, serializeSecretValue } from './secret-value';
import { deriveSmtpPasswordV4 } from './smtp-password';
import { describeFailure, recordDeliveryAfterVerification, rfc3339 } from './steps/common';
import type { RotationDeps } from './steps/deps';
import { verifyCredentials } from './steps/verify';
import type { AccessKeyInfo, OldKeyAction, StoredSecretValue, UserScope } from './types';

export type SecretsManagerStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
const STEPS: readonly SecretsManagerStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

/** Secrets Manager ClientRequestTokens are 32-64 characters; no blanks or controls. */
const TOKEN = /^[^\s\p{Cc}]{1,64}$/u;

export interface SecretsManagerRotationConfig {
  readonly scope: UserScope;
  /** What finishSecret does to the previous key (KEYROTATE_ROTATION_OLD_KEY_ACTION). */
  readonly oldKeyAction: OldKeyAction;
  /** Lock lease in seconds (KEYROTATE_ROTATION_LOCK_SECONDS). */
  readonly lockSeconds: number;
  /** How long testSecret keeps retrying STS (KEYROTATE_VERIFY_SECONDS × 1000). */
  readonly verifyDeadlineMs: number;
  /** Regions for a secret that names none yet (KEYROTATE_DEFAULT_SES_REGIONS). */
  readonly defaultSesSmtpRegions: readonly string[];
}

export interface SecretsManagerStepResult {
  readonly step: SecretsManagerStep;
  /** What the step did, for the handler's log line. */
  readonly outcome:
    | 'created'
    | 'alreadyCreated'
    | 'alreadyCurrent'
    | 'nothingToSet'
    | 'verified'
    | 'testRotationVerified'
    | 'testRotationNothingToVerify'
    | 'finished';
  readonly userName?: string;
  /** The pending (new) key; for a test rotation, the current key that was verified. */
  readonly accessKeyId?: string;
  /** finishSecret: the key retired, and how. */
  readonly previousKey?: { readonly id: string; readonly action: 'deleted' | 'deactivated' } | null;
  /** createSecret: the token of an earlier rotation whose unfinished finishSecret it completed. */
  readonly predecessor?: string;
  /** Present only when the lock could not be released after the work was done. */
  readonly warnings?: readonly string[];
}

type Deps = Pick<RotationDeps, 'directory' | 'secrets' | 'lock' | 'clock' | 'verifier' | 'sleep' | 'random'>;

interface StepContext {
  readonly deps: Deps;
  readonly config: SecretsManagerRotationConfig;
  readonly secretId: string;
  readonly token: string;
  readonly versions: readonly SecretVersion[];
  /** This rotation's version (Secrets Manager's AWSPENDING placeholder, or the stored value). */
  readonly version: SecretVersion | undefined;
}

function ownerOf(parsed: ParsedSecretValue): string {
  return parsed.kind === 'full' ? parsed.value.userName : parsed.userName;
}

function stageHolder(versions: readonly SecretVersion[], stage: string): string | undefined {
  return versions.find((v) => v.stages.includes(stage))?.versionId;
}

async function readValue(ctx: StepContext, selector: { versionId?: string; stage?: string }): Promise<ParsedSecretValue | null> {
  const found = await ctx.deps.secrets.getValue(ctx.secretId, selector);
  return found ? parseSecretValue(found.value, ctx.secretId) : null;
}

async function pendingValue(ctx: StepContext): Promise<StoredSecretValue | null> {
  const pending = await readValue(ctx, { versionId: ctx.token });
  if (pending === null) return null;
  if (pending.kind !== 'full') {
    throw new SecretMismatchError(`secret '${ctx.secretId}' version ${ctx.token} holds no access key`);
  }
  return pending.value;
}

async function scopedUser(ctx: StepContext, userName: string): Promise<IamUser> {
  const user = await ctx.deps.directory.getUser(userName);
  assertUserInScope(user, ctx.config.scope);
  return user;
}

function regionsFor(ctx: StepContext, current: ParsedSecretValue): string[] {
  if (current.kind === 'full') return secretValueRegions(current.value);
  if (current.sesSmtpRegions === undefined) return [...ctx.config.defaultSesSmtpRegions];
  return checkSesSmtpRegions(current.sesSmtpRegions, 'secret.sesSmtpRegions', false);
}

/**
 * Holds the user's lock for this token: keeps a live lease of its own, else takes the lock
 * (a lease of ours that ran out counts as free unless another rotation took the user meanwhile:
 * then RotationInProgressError). Returns the lease, with the snapshot recorded with it, if any.
 */
async function holdLock(ctx: StepContext, userName: string): Promise<{ expiresAt: Date; snapshot?: KeySnapshot }> {
  const { lock, clock } = ctx.deps;
  const held = await lock.holder(userName);
  if (held?.owner === ctx.token) return held;
  const expiresAt = new Date(clock.now().getTime() + ctx.config.lockSeconds * 1000);
  await lock.acquire(userName, ctx.token, expiresAt);
  return { expiresAt };
}

/**
 * Holds the user's lock and returns the user's keys with the snapshot this rotation recorded
 * when it first held the lock. The first attempt lists the keys only once it holds the lock, and
 * records them with it before it creates anything, so every later attempt of this token can tell
 * the keys that were there from one it made itself.
 */
async function lockedKeys(ctx: StepContext, userName: string): Promise<{ keys: AccessKeyInfo[]; snapshot: KeySnapshot }> {
  const { lock, clock, directory } = ctx.deps;
  const lease = await holdLock(ctx, userName);
  const takenAt = clock.now();
  const keys = await directory.listAccessKeys(userName);
  if (lease.snapshot) return { keys, snapshot: lease.snapshot };
  const snapshot: KeySnapshot = { accessKeyIds: keys.map((k) => k.accessKeyId), takenAt };
  // A re-take by the same owner with the same lease, now carrying the snapshot.
  await lock.acquire(userName, ctx.token, lease.expiresAt, snapshot);
  return { keys, snapshot };
}

/**
 * Whether `key` is what an earlier attempt of this createSecret made and lost in a crash before
 * PutSecretValue (nobody has its secret), rather than a key that may be in use. It must be:
 * - missing from the snapshot recorded with the lock: it appeared after the first attempt listed
 *   the keys while holding the lock, so no other keyrotate rotation made it;
 * - not the key the secret's AWSCURRENT value names: that one is in use by definition;
 * - not provably older than the snapshot. IAM gives CreateDate in whole seconds, so a key of
 *   second S was made somewhere in [S, S+1s): it provably predates `takenAt` only when
 *   S + 1s <= takenAt. Such a key was merely not yet listed (ListAccessKeys is eventually
 *   consistent), so it is someone else's. A key of the snapshot's own second is not provably
 *   older, and the snapshot, not the clock, says it is new.
 * A snapshot lost with an expired lease means no orphan is recognised: an orphan left behind
 * stops the rotation with nothing deleted, which beats deleting a key someone uses.
 */
function isOrphan(key: AccessKeyInfo, snapshot: KeySnapshot, known: KnownCurrentKey | null): boolean {
  if (snapshot.accessKeyIds.includes(key.accessKeyId) || key.accessKeyId === known?.accessKeyId) return false;
  const latestPossibleCreation = Math.floor(key.createDate.getTime() / 1000) * 1000 + 999;
  return latestPossibleCreation >= snapshot.takenAt.getTime();
}

async function createSecret(ctx: StepContext): Promise<SecretsManagerStepResult> {
  const { deps, secretId, token } = ctx;
  const step = 'createSecret';
  const existing = await pendingValue(ctx);
  if (existing) return { step, outcome: 'alreadyCreated', userName: existing.userName, accessKeyId: existing.accessKeyId };

  const current = await readValue(ctx, { stage: 'AWSCURRENT' });
  if (!current) {
    throw new SecretMismatchError(
      `secret '${secretId}' has no AWSCURRENT value naming the IAM user; store {"userName": "…"} in it first`,
    );
  }
  const userName = ownerOf(current);
  const known: KnownCurrentKey | null =
    current.kind === 'full' ? { accessKeyId: current.value.accessKeyId, source: 'secretsManager' } : null;
  const regions = regionsFor(ctx, current);
  await scopedUser(ctx, userName);
  const predecessor = await finishPredecessor(ctx, userName, current);

  // The lock before the keys: another rotation in flight (old and new key) stops this one with
  // RotationInProgressError, not with a key-state error about its new key.
  const { keys, snapshot } = await lockedKeys(ctx, userName);
  const orphans = keys.filter((k) => isOrphan(k, snapshot, known));
  const twoActive = keys.filter((k) => k.status === 'Active' && !orphans.includes(k)).length > 1;
  const evidence: KeyEvidence = known && twoActive ? await unfinishedRetirementEvidence(ctx, userName, known) : {};
  let plan;
  try {
    plan = planKeys(keys.filter((k) => !orphans.includes(k)), known, { userName }, evidence);
  } catch (error) {
    // Nothing was changed: do not keep the user locked for a rotation that cannot proceed. With
    // orphans, keep the lock (and its snapshot) so that a retry can still tell them apart.
    if (orphans.length === 0) await deps.lock.release(userName, token);
    throw error;
  }
  for (const orphan of orphans) await deps.directory.deleteAccessKey(userName, orphan.accessKeyId);
  if (plan.staleAccessKeyId !== null) {
    const stale = keys.find((k) => k.accessKeyId === plan.staleAccessKeyId);
    // An unfinished retirement (an Active key the secret was moved off) is deactivated first.
    if (stale?.status === 'Active' && plan.staleKeyReason === 'unfinishedRetirement') {
      await deps.directory.setAccessKeyStatus(userName, stale.accessKeyId, 'Inactive');
    }
    await deps.directory.deleteAccessKey(userName, plan.staleAccessKeyId);
  }

  await deps.lock.assertHeld(userName, token);
  const created = await deps.directory.createAccessKey(userName);
  const smtpPasswords: Record<string, string> = {};
  for (const region of regions) smtpPasswords[region] = deriveSmtpPasswordV4(created.secretAccessKey, region);
  const value = buildSecretValue({
    userName,
    accessKeyId: created.accessKeyId,
    secretAccessKey: created.secretAccessKey,
    createDate: rfc3339(created.createDate),
    smtpPasswords,
  });
  await deps.secrets.putPending(secretId, token, serializeSecretValue(value));
  return { step, outcome: 'created', userName, accessKeyId: created.accessKeyId, ...(predecessor ? { predecessor } : {}) };
}

async function testSecret(ctx: StepContext): Promise<SecretsManagerStepResult> {
  const step = 'testSecret';
  const options = { deadlineMs: ctx.config.verifyDeadlineMs };
  const pending = await pendingValue(ctx);
  if (pending) {
    const user = await scopedUser(ctx, pending.userName);
    await verifyCredentials(ctx.deps, { ...pending, expectedArn: user.arn }, options);
    return { step, outcome: 'verified', userName: pending.userName, accessKeyId: pending.accessKeyId };
  }
  // No pending value: the test rotation Secrets Manager runs when rotation is enabled without
  // rotating at once. It must not create a key; proving the current one works is all it can do.
  const current = await readValue(ctx, { stage: 'AWSCURRENT' });
  if (current?.kind !== 'full') {
    return { step, outcome: 'testRotationNothingToVerify', ...(current ? { userName: current.userName } : {}) };
  }
  const user = await scopedUser(ctx, current.value.userName);
  await verifyCredentials(ctx.deps, { ...current.value, expectedArn: user.arn }, options);
  return { step, outcome: 'testRotationVerified', userName: current.value.userName, accessKeyId: current.value.accessKeyId };
}

/**
 * The key the previous AWSCURRENT value served, i.e. the one to retire. A seed value names no
 * key: then, as planKeys decided in createSecret, it is the user's only other Active key — and,
 * when `existedBefore` (the rotation's lock snapshot) is given, only if it is in it.
 */
function previousKeyOf(
  previous: ParsedSecretValue | null,
  keys: readonly AccessKeyInfo[],
  newKeyId: string,
  userName: string,
  existedBefore?: readonly string[],
): AccessKeyInfo | null {
  if (previous?.kind === 'full') {
    if (previous.value.accessKeyId === newKeyId) return null;
    return keys.find((k) => k.accessKeyId === previous.value.accessKeyId) ?? null;
  }
  const others = keys.filter(
    (k) => k.accessKeyId !== newKeyId && k.status === 'Active' && (existedBefore?.includes(k.accessKeyId) ?? true),
  );
  if (others.length > 1) {
    throw new AmbiguousCurrentKeyError(userName, others.map((k) => k.accessKeyId), 'no key was retired; retire the right one yourself');
  }
  return others[0] ?? null;
}

async function finishSecret(ctx: StepContext): Promise<SecretsManagerStepResult> {
  const { deps, secretId, token, versions } = ctx;
  const step = 'finishSecret';
  const pending = await pendingValue(ctx);
  if (!pending) throw new SecretMismatchError(`secret '${secretId}' version ${token} holds no value; nothing to finish`);
  const { userName } = pending;
  await scopedUser(ctx, userName);
  // Re-take (same owner) rather than only check: a lease that ran out while nobody else took
  // the user is still good, and a live lease of another rotation stops us here.
  await holdLock(ctx, userName);

  const keys = await deps.directory.listAccessKeys(userName);
  const newKey = keys.find((k) => k.accessKeyId === pending.accessKeyId);
  // Never point consumers at, or retire the old key for, a key that no longer works.
  if (newKey?.status !== 'Active') {
    throw new KeyStateConflictError(
      `the new access key ${pending.accessKeyId} of IAM user '${userName}' is ${newKey ? 'Inactive' : 'gone'}; nothing was changed`,
    );
  }

  const currentVersion = stageHolder(versions, 'AWSCURRENT');
  let previousVersion: string | undefined;
  if (currentVersion === token) {
    previousVersion = stageHolder(versions, 'AWSPREVIOUS');
  } else {
    previousVersion = currentVersion;
    // Consumers switch here; Secrets Manager puts AWSPREVIOUS on the version losing AWSCURRENT.
    await deps.secrets.moveStage(secretId, 'AWSCURRENT', token, currentVersion);
  }
  const previous = previousVersion === undefined ? null : await readValue(ctx, { versionId: previousVersion });

  const old = previousKeyOf(previous, keys, pending.accessKeyId, userName);
  // Before the previous key is touched: if retiring it fails and this rotation's lease runs out,
  // the next rotation still knows which of the two Active keys keyrotate delivered.
  const recordWarning =
    old?.status === 'Active'
      ? await recordDeliveryAfterVerification(deps, { userName, rotationId: token }, {
          accessKeyId: pending.accessKeyId,
          replacedAccessKeyId: old.accessKeyId,
          rotationId: token,
          at: deps.clock.now(),
        })
      : null;
  const previousKey = old ? await retirePrevious(ctx, userName, token, old) : null;
  const warnings = recordWarning === null ? [] : [recordWarning];
  // AWSCURRENT has moved and the old key is retired: Secrets Manager will not run this rotation
  // again, and reporting it as failed would help nobody. A lock left behind is taken over by
  // the next createSecret (finishPredecessor), or runs out with its lease.
  try {
    await deps.lock.release(userName, token);
  } catch (error) {
    const warning =
      `the lock of IAM user '${userName}' held by rotation ${token} could not be released (${describeFailure(error)}); ` +
      "the next rotation of the secret takes it over, another trigger waits for the lease's end";
    return { step, outcome: 'finished', userName, accessKeyId: pending.accessKeyId, previousKey, warnings: [...warnings, warning] };
  }
  return { step, outcome: 'finished', userName, accessKeyId: pending.accessKeyId, previousKey, ...(warnings.length > 0 ? { warnings } : {}) };
}

/** Retires the previous key per KEYROTATE_ROTATION_OLD_KEY_ACTION, holding `owner`'s lock. */
async function retirePrevious(
  ctx: StepContext,
  userName: string,
  owner: string,
  old: AccessKeyInfo,
): Promise<{ readonly id: string; readonly action: 'deleted' | 'deactivated' }> {
  const { deps, config } = ctx;
  await deps.lock.assertHeld(userName, owner);
  if (config.oldKeyAction === 'delete') {
    await deps.directory.deleteAccessKey(userName, old.accessKeyId);
    return { id: old.accessKeyId, action: 'deleted' };
  }
  if (old.status === 'Active') await deps.directory.setAccessKeyStatus(userName, old.accessKeyId, 'Inactive');
  return { id: old.accessKeyId, action: 'deactivated' };
}

/**
 * The AWSPREVIOUS key as planKeys' evidence (an unfinished retirement), when the previous value
 * is a full value of the same user. A value that is not keyrotate's is no evidence.
 */
async function previousKeyEvidence(ctx: StepContext, userName: string): Promise<KeyEvidence> {
  try {
    const previous = await readValue(ctx, { stage: 'AWSPREVIOUS' });
    return previous?.kind === 'full' && previous.value.userName === userName ? { previousAccessKeyId: previous.value.accessKeyId } : {};
  } catch (error) {
    if (error instanceof SecretMismatchError) return {};
    throw error;
  }
}

/**
 * Both kinds of evidence of an unfinished retirement: the AWSPREVIOUS key, and keyrotate's
 * delivery record when the secret's AWSCURRENT value names the key it says was delivered (a
 * record the secret contradicts proves nothing).
 */
async function unfinishedRetirementEvidence(ctx: StepContext, userName: string, known: KnownCurrentKey): Promise<KeyEvidence> {
  const record = await ctx.deps.lock.deliveryRecord(userName);
  const delivered =
    record?.accessKeyId === known.accessKeyId
      ? { delivered: { accessKeyId: record.accessKeyId, replacedAccessKeyId: record.replacedAccessKeyId } }
      : {};
  return { ...delivered, ...(await previousKeyEvidence(ctx, userName)) };
}

/**
 * Completes an earlier rotation of this secret that moved AWSCURRENT but whose finishSecret then
 * failed (retiring the previous key or releasing the lock): Secrets Manager counts it as done
 * and never calls it again, so its lock would block the user for the lease and its old key would
 * stay Active. Recognised without guessing: the lock's owner is a token whose version is now
 * AWSCURRENT. Acting as that rotation (its lock, still live), this does what its finishSecret
 * would have: retire the previous key per configuration (for a seed value, only a key in that
 * rotation's own snapshot), then release its lock. Idempotent: a retry finds the work done.
 * Returns the predecessor's token, or null when there is none.
 */
async function finishPredecessor(ctx: StepContext, userName: string, current: ParsedSecretValue): Promise<string | null> {
  const { deps } = ctx;
  const held: LockHolder | null = await deps.lock.holder(userName);
  if (!held || held.owner === ctx.token || current.kind !== 'full') return null;
  const promoted = ctx.versions.find((v) => v.versionId === held.owner)?.stages.includes('AWSCURRENT') ?? false;
  if (!promoted) return null;

  const keys = await deps.directory.listAccessKeys(userName);
  const newKey = keys.find((k) => k.accessKeyId === current.value.accessKeyId);
  // Its new key is not in service: not a finished rotation to complete (planKeys will say why).
  if (newKey?.status !== 'Active') return null;
  const previousVersion = stageHolder(ctx.versions, 'AWSPREVIOUS');
  const previous = previousVersion === undefined ? null : await readValue(ctx, { versionId: previousVersion });
  const old = previousKeyOf(previous, keys, newKey.accessKeyId, userName, held.snapshot?.accessKeyIds ?? []);
  if (old) await retirePrevious(ctx, userName, held.owner, old);
  await deps.lock.release(userName, held.owner);
  return held.owner;
}

/**
 * One step of Secrets Manager's four-step rotation protocol for a keyrotate secret
 * (docs: "Rotating from Secrets Manager"). Every step is idempotent.
 * @throws ValidationError (unknown step, bad token), SecretMismatchError, UserOutOfScopeError,
 *   AmbiguousCurrentKeyError, KeyStateConflictError, RotationInProgressError,
 *   KeyNotPropagatedError, VerificationFailedError
 */
export async function rotateSecretStep(
  deps: Deps,
  event: { readonly step: string; readonly secretId: string; readonly token: string },
  config: SecretsManagerRotationConfig,
): Promise<SecretsManagerStepResult> {
  const step = event.step as SecretsManagerStep;
  if (!STEPS.includes(step)) throw new ValidationError('Step', `must be one of ${STEPS.join(', ')}`);
  if (typeof event.token !== 'string' || !TOKEN.test(event.token)) {
    throw new ValidationError('ClientRequestToken', 'must be 1-64 characters without blanks');
  }
  if (typeof event.secretId !== 'string' || event.secretId.length === 0 || event.secretId.length > 2048) {
    throw new ValidationError('SecretId', 'must be a secret ARN or name');
  }
  const { versions } = await deps.secrets.describe(event.secretId);
  const version = versions.find((v) => v.versionId === event.token);
  const ctx: StepContext = { deps, config, secretId: event.secretId, token: event.token, versions, version };

  if (step !== 'finishSecret' && version?.stages.includes('AWSCURRENT')) {
    return { step, outcome: 'alreadyCurrent' };
  }
  // The test rotation may come without a version of its own; every other step needs the
  // AWSPENDING version Secrets Manager created for this token.
  if (step !== 'testSecret' && !version?.stages.includes('AWSPENDING') && !version?.stages.includes('AWSCURRENT')) {
    throw new SecretMismatchError(`secret '${event.secretId}' has no AWSPENDING version ${event.token} to rotate`);
  }
  switch (step) {
    case 'createSecret':
      return createSecret(ctx);
    case 'setSecret':
      return { step, outcome: 'nothingToSet' };
    case 'testSecret':
      return testSecret(ctx);
    case 'finishSecret':
      return finishSecret(ctx);
  }
}

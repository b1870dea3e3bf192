/**
 * The Secrets Manager rotation function (DESIGN.md "Secrets Manager rotation"): the four-step
 * protocol over the same ports and rules as the state machine. Secrets Manager cannot hand its
 * work to another function, so this one writes the secret itself, in one pass:
 *
 * - createSecret: CreateAccessKey, then the full value stored as the AWSPENDING version.
 * - setSecret: nothing. The "credential in the service" is the IAM key, created in createSecret
 *   so that the stored value names the real key id.
 * - testSecret: STS GetCallerIdentity signed with the pending key, with propagation retries.
 * - finishSecret: AWSCURRENT moves to the new version, then the previous key is deactivated
 *   (or deleted, per configuration) and the lock released.
 *
 * Every step is idempotent: Secrets Manager retries whole rotations with the same token.
 */
import {
  AmbiguousCurrentKeyError,
  KeyStateConflictError,
  SecretMismatchError,
  ValidationError,
} from './errors';
import { type KnownCurrentKey, planKeys } from './plan-keys';
import type { IamUser, KeySnapshot, SecretVersion } from './ports';
import { assertUserInScope } from './scope';
import { checkSesSmtpRegions } from './ses-regions';
import { buildSecretValue, type ParsedSecretValue, parseSecretValue, secretValueRegions, serializeSecretValue } from './secret-value';
import { deriveSmtpPasswordV4 } from './smtp-password';
import { rfc3339 } from './steps/common';
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

  // The lock before the keys: another rotation in flight (old and new key) stops this one with
  // RotationInProgressError, not with a key-state error about its new key.
  const { keys, snapshot } = await lockedKeys(ctx, userName);
  const orphans = keys.filter((k) => isOrphan(k, snapshot, known));
  let plan;
  try {
    plan = planKeys(keys.filter((k) => !orphans.includes(k)), known, { userName });
  } catch (error) {
    // Nothing was changed: do not keep the user locked for a rotation that cannot proceed. With
    // orphans, keep the lock (and its snapshot) so that a retry can still tell them apart.
    if (orphans.length === 0) await deps.lock.release(userName, token);
    throw error;
  }
  for (const orphan of orphans) await deps.directory.deleteAccessKey(userName, orphan.accessKeyId);
  if (plan.staleAccessKeyId !== null) await deps.directory.deleteAccessKey(userName, plan.staleAccessKeyId);

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
  return { step, outcome: 'created', userName, accessKeyId: created.accessKeyId };
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
 * key: then, as planKeys decided in createSecret, it is the user's only other Active key.
 */
function previousKeyOf(
  previous: ParsedSecretValue | null,
  keys: readonly AccessKeyInfo[],
  newKeyId: string,
  userName: string,
): AccessKeyInfo | null {
  if (previous?.kind === 'full') {
    if (previous.value.accessKeyId === newKeyId) return null;
    return keys.find((k) => k.accessKeyId === previous.value.accessKeyId) ?? null;
  }
  const others = keys.filter((k) => k.accessKeyId !== newKeyId && k.status === 'Active');
  if (others.length > 1) {
    throw new AmbiguousCurrentKeyError(userName, others.map((k) => k.accessKeyId), 'no key was retired; retire the right one yourself');
  }
  return others[0] ?? null;
}

async function finishSecret(ctx: StepContext): Promise<SecretsManagerStepResult> {
  const { deps, secretId, token, versions, config } = ctx;
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
  let previousKey: SecretsManagerStepResult['previousKey'] = null;
  if (old) {
    await deps.lock.assertHeld(userName, token);
    if (config.oldKeyAction === 'delete') {
      await deps.directory.deleteAccessKey(userName, old.accessKeyId);
      previousKey = { id: old.accessKeyId, action: 'deleted' };
    } else {
      if (old.status === 'Active') await deps.directory.setAccessKeyStatus(userName, old.accessKeyId, 'Inactive');
      previousKey = { id: old.accessKeyId, action: 'deactivated' };
    }
  }
  await deps.lock.release(userName, token);
  return { step, outcome: 'finished', userName, accessKeyId: pending.accessKeyId, previousKey };
}

/**
 * One step of Secrets Manager's four-step rotation protocol for a keyrotate secret
 * (DESIGN.md "Secrets Manager rotation"). Every step is idempotent.
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

import { AwsError } from '../errors';
import type { Tag } from '../protocol/input';
import { newAccessKeyId, newSecretAccessKey, newUserId } from '../util';

/** IAM's quota of access keys per user: the third CreateAccessKey fails. */
export const ACCESS_KEYS_PER_USER = 2;
const TAGS_PER_USER = 50;

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface IamUser {
  readonly userName: string;
  readonly userId: string;
  readonly path: string;
  readonly createDate: Date;
  tags: Tag[];
}

export interface LastUsed {
  readonly date: Date;
  readonly serviceName: string;
  readonly region: string;
}

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly userName: string;
  status: AccessKeyStatus;
  readonly createDate: Date;
  lastUsed?: LastUsed;
}

/** What IAM knows of a key, minus the secret (safe to hand to tests and logs). */
export type AccessKeyMetadata = Omit<AccessKeyRecord, 'secretAccessKey'>;

export interface IamSnapshot {
  users: { userName: string; userId: string; path: string; createDate: string; tags: Tag[] }[];
  keys: {
    accessKeyId: string;
    secretAccessKey: string;
    userName: string;
    status: AccessKeyStatus;
    createDate: string;
    lastUsed?: { date: string; serviceName: string; region: string };
  }[];
  retiredKeyIds: string[];
}

export interface IamDeps {
  readonly accountId: string;
  readonly now: () => Date;
  /** Called after every change, so the state file can be saved. */
  readonly changed: () => void;
}

const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

const validation = (message: string): AwsError => new AwsError('ValidationError', message, 400);
const noSuchUser = (userName: string): AwsError => new AwsError('NoSuchEntity', `The user with name ${userName} cannot be found.`, 404);
const noSuchKey = (accessKeyId: string): AwsError => new AwsError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`, 404);

function checkUserName(userName: string): void {
  if (!USER_NAME.test(userName)) {
    throw validation(`1 validation error detected: Value '${userName}' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
  }
}

function checkTags(tags: readonly Tag[]): void {
  const seen = new Set<string>();
  for (const tag of tags) {
    if (!TAG_KEY.test(tag.Key)) throw validation(`1 validation error detected: Value '${tag.Key}' at 'tags.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+`);
    if (tag.Value.length > 256) throw validation(`1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256`);
    // IAM tag keys are case-insensitive: "Team" and "team" are the same tag.
    const key = tag.Key.toLowerCase();
    if (seen.has(key)) throw new AwsError('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.', 400);
    seen.add(key);
  }
}

/**
 * IAM users and their access keys, with IAM's documented rules: user names unique regardless
 * of case, at most two access keys per user, a user with keys cannot be deleted.
 *
 * Deleted key ids are remembered ("retired") so a request signed with a deleted key is
 * rejected instead of being mistaken for the endpoint's admin credentials.
 */
export class IamModel {
  private readonly users = new Map<string, IamUser>();
  private readonly keys = new Map<string, AccessKeyRecord>();
  private readonly retired = new Set<string>();

  constructor(private readonly deps: IamDeps) {}

  userArn(user: IamUser): string {
    return `arn:aws:iam::${this.deps.accountId}:user${user.path}${user.userName}`;
  }

  findUser(userName: string): IamUser | undefined {
    return this.users.get(userName.toLowerCase());
  }

  getUser(userName: string): IamUser {
    const user = this.findUser(userName);
    if (!user) throw noSuchUser(userName);
    return user;
  }

  createUser(input: { userName: string; path?: string; tags?: readonly Tag[] }): IamUser {
    checkUserName(input.userName);
    const path = input.path ?? '/';
    if (path.length > 512 || !PATH.test(path)) {
      throw validation(`1 validation error detected: Value '${path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`);
    }
    const tags = [...(input.tags ?? [])];
    checkTags(tags);
    if (tags.length > TAGS_PER_USER) throw new AwsError('LimitExceeded', `Cannot exceed quota for TagsPerUser: ${TAGS_PER_USER}`, 409);
    if (this.findUser(input.userName)) {
      throw new AwsError('EntityAlreadyExists', `User with name ${input.userName} already exists.`, 409);
    }
    const user: IamUser = { userName: input.userName, userId: newUserId(), path, createDate: this.deps.now(), tags };
    this.users.set(user.userName.toLowerCase(), user);
    this.deps.changed();
    return user;
  }

  deleteUser(userName: string): void {
    const user = this.getUser(userName);
    if (this.keysOf(user.userName).length > 0) {
      throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete access keys first.', 409);
    }
    this.users.delete(user.userName.toLowerCase());
    this.deps.changed();
  }

  /** Users sorted by name (case-insensitive), optionally under a path prefix. */
  listUsers(pathPrefix = '/'): IamUser[] {
    if (!pathPrefix.startsWith('/')) {
      throw validation(`1 validation error detected: Value '${pathPrefix}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*`);
    }
    return [...this.users.values()]
      .filter((u) => u.path.startsWith(pathPrefix))
      .sort((a, b) => a.userName.toLowerCase().localeCompare(b.userName.toLowerCase()));
  }

  tagUser(userName: string, tags: readonly Tag[]): void {
    const user = this.getUser(userName);
    checkTags(tags);
    const merged = new Map(user.tags.map((t) => [t.Key.toLowerCase(), t] as const));
    for (const tag of tags) merged.set(tag.Key.toLowerCase(), tag);
    if (merged.size > TAGS_PER_USER) throw new AwsError('LimitExceeded', `Cannot exceed quota for TagsPerUser: ${TAGS_PER_USER}`, 409);
    user.tags = [...merged.values()];
    this.deps.changed();
  }

  untagUser(userName: string, tagKeys: readonly string[]): void {
    const user = this.getUser(userName);
    const remove = new Set(tagKeys.map((k) => k.toLowerCase()));
    user.tags = user.tags.filter((t) => !remove.has(t.Key.toLowerCase()));
    this.deps.changed();
  }

  createAccessKey(userName: string): AccessKeyRecord {
    const user = this.getUser(userName);
    if (this.keysOf(user.userName).length >= ACCESS_KEYS_PER_USER) {
      throw new AwsError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`, 409);
    }
    let accessKeyId = newAccessKeyId();
    while (this.keys.has(accessKeyId) || this.retired.has(accessKeyId)) accessKeyId = newAccessKeyId();
    const key: AccessKeyRecord = {
      accessKeyId,
      secretAccessKey: newSecretAccessKey(),
      userName: user.userName,
      status: 'Active',
      createDate: this.deps.now(),
    };
    this.keys.set(accessKeyId, key);
    this.deps.changed();
    return key;
  }

  /** A user's keys, oldest first. */
  listAccessKeys(userName: string): AccessKeyRecord[] {
    const user = this.getUser(userName);
    return this.keysOf(user.userName);
  }

  findAccessKey(accessKeyId: string): AccessKeyRecord | undefined {
    return this.keys.get(accessKeyId);
  }

  /** True for the id of a key this endpoint issued and later deleted. */
  isRetired(accessKeyId: string): boolean {
    return this.retired.has(accessKeyId);
  }

  updateAccessKey(userName: string, accessKeyId: string, status: string): void {
    if (status !== 'Active' && status !== 'Inactive') {
      throw validation(`1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
    }
    const key = this.keyOfUser(userName, accessKeyId);
    key.status = status;
    this.deps.changed();
  }

  deleteAccessKey(userName: string, accessKeyId: string): void {
    const key = this.keyOfUser(userName, accessKeyId);
    this.keys.delete(key.accessKeyId);
    this.retired.add(key.accessKeyId);
    this.deps.changed();
  }

  /** GetAccessKeyLastUsed: the owner and the last use, if any. */
  accessKeyLastUsed(accessKeyId: string): { userName: string; lastUsed?: LastUsed } {
    const key = this.keys.get(accessKeyId);
    if (!key) throw noSuchKey(accessKeyId);
    return { userName: key.userName, lastUsed: key.lastUsed };
  }

  /** Records an authenticated request signed with the key (date, service, region). */
  recordUse(accessKeyId: string, serviceName: string, region: string): void {
    const key = this.keys.get(accessKeyId);
    if (!key) return;
    key.lastUsed = { date: this.deps.now(), serviceName, region };
    this.deps.changed();
  }

  snapshot(): IamSnapshot {
    return {
      users: [...this.users.values()].map((u) => ({ userName: u.userName, userId: u.userId, path: u.path, createDate: u.createDate.toISOString(), tags: u.tags })),
      keys: [...this.keys.values()].map((k) => ({
        accessKeyId: k.accessKeyId,
        secretAccessKey: k.secretAccessKey,
        userName: k.userName,
        status: k.status,
        createDate: k.createDate.toISOString(),
        ...(k.lastUsed ? { lastUsed: { date: k.lastUsed.date.toISOString(), serviceName: k.lastUsed.serviceName, region: k.lastUsed.region } } : {}),
      })),
      retiredKeyIds: [...this.retired],
    };
  }

  restore(snapshot: IamSnapshot): void {
    this.users.clear();
    this.keys.clear();
    this.retired.clear();
    for (const u of snapshot.users) {
      this.users.set(u.userName.toLowerCase(), { userName: u.userName, userId: u.userId, path: u.path, createDate: new Date(u.createDate), tags: u.tags });
    }
    for (const k of snapshot.keys) {
      this.keys.set(k.accessKeyId, {
        accessKeyId: k.accessKeyId,
        secretAccessKey: k.secretAccessKey,
        userName: k.userName,
        status: k.status,
        createDate: new Date(k.createDate),
        ...(k.lastUsed ? { lastUsed: { date: new Date(k.lastUsed.date), serviceName: k.lastUsed.serviceName, region: k.lastUsed.region } } : {}),
      });
    }
    for (const id of snapshot.retiredKeyIds) this.retired.add(id);
  }

  private keysOf(userName: string): AccessKeyRecord[] {
    return [...this.keys.values()]
      .filter((k) => k.userName === userName)
      .sort((a, b) => a.createDate.getTime() - b.createDate.getTime());
  }

  /** A key addressed through its user: a key of another user is "not found", as in IAM. */
  private keyOfUser(userName: string, accessKeyId: string): AccessKeyRecord {
    const user = this.getUser(userName);
    const key = this.keys.get(accessKeyId);
    if (!key || key.userName !== user.userName) throw noSuchKey(accessKeyId);
    return key;
  }
}

/** Strips the secret: what ListAccessKeys and the test accessors expose. */
export function keyMetadata(key: AccessKeyRecord): AccessKeyMetadata {
  const { secretAccessKey: _secret, ...metadata } = key;
  return metadata;
}

/**
 * AccessKeyDirectory over the IAM API (AWS SDK v3).
 *
 * IAM answers `NoSuchEntity` for a missing user and for a missing key alike; each method knows
 * which one it asked about and raises the matching typed error. "Already done" is success:
 * deleting a key that is gone resolves 'absent', and UpdateAccessKey to the status a key already
 * has is accepted by IAM as is.
 *
 * CreateAccessKey is the exception: it is not idempotent, so it is sent exactly once (no SDK
 * retry) and a lost answer is a TransientAwsError for the caller to reconcile (see createAccessKey).
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  type IAMClient,
  paginateListAccessKeys,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AccessKeyNotFoundError, AwsRequestError, KeyStateConflictError, UserNotFoundError } from '../core/errors';
import type { AccessKeyDirectory, CreatedAccessKey, IamUser } from '../core/ports';
import type { AccessKeyInfo, KeyStatus } from '../core/types';
import { callAws, hasAwsErrorCode, toKeyRotateError } from './aws-errors';
import { iamClientWithoutRetries } from './clients';

/** IAM's `Expired` status (and anything newer) cannot authenticate: for rotation it is Inactive. */
function keyStatus(status: string | undefined): KeyStatus {
  return status === 'Active' ? 'Active' : 'Inactive';
}

function missing(operation: string, field: string): AwsRequestError {
  return new AwsRequestError(operation, `MissingField:${field}`);
}

export interface IamAccessKeyDirectoryOptions {
  /**
   * Whether listAccessKeys adds each key's last-used date (one GetAccessKeyLastUsed per key).
   * A step that never reads the dates turns this off: fewer IAM calls (IAM's request quota is
   * small) and no `iam:GetAccessKeyLastUsed` permission for its role.
   * @default true
   */
  readonly lastUsedDates?: boolean;
  /**
   * The client that sends CreateAccessKey. It must not retry (maxAttempts 1): a re-sent
   * CreateAccessKey makes a second key when the first answer was lost.
   * @default the container's `iamClientWithoutRetries()` (clients.ts), made on first use
   */
  readonly createKeyClient?: IAMClient;
}

export class IamAccessKeyDirectory implements AccessKeyDirectory {
  private readonly lastUsedDates: boolean;
  private readonly createKeyClient: () => IAMClient;

  constructor(
    private readonly iam: IAMClient,
    options: IamAccessKeyDirectoryOptions = {},
  ) {
    this.lastUsedDates = options.lastUsedDates ?? true;
    const { createKeyClient } = options;
    this.createKeyClient = createKeyClient ? () => createKeyClient : iamClientWithoutRetries;
  }

  async getUser(userName: string): Promise<IamUser> {
    const operation = 'IAM GetUser';
    const { User: user } = await callAws(
      operation,
      () => this.iam.send(new GetUserCommand({ UserName: userName })),
      (error) => (hasAwsErrorCode(error, 'NoSuchEntity') ? new UserNotFoundError(userName, { cause: error }) : undefined),
    );
    if (!user?.UserName || !user.Arn) throw missing(operation, 'User');
    const tags: Record<string, string> = {};
    for (const tag of user.Tags ?? []) {
      if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
    }
    return { userName: user.UserName, arn: user.Arn, path: user.Path ?? '/', tags };
  }

  async findUserNameByAccessKey(accessKeyId: string): Promise<string> {
    const operation = 'IAM GetAccessKeyLastUsed';
    const result = await callAws(
      operation,
      () => this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })),
      (error) =>
        hasAwsErrorCode(error, 'NoSuchEntity') ? new AccessKeyNotFoundError(accessKeyId, { cause: error }) : undefined,
    );
    // IAM omits UserName for a key of another account or a deleted user's key.
    if (!result.UserName) throw new AccessKeyNotFoundError(accessKeyId);
    return result.UserName;
  }

  async listAccessKeys(userName: string): Promise<AccessKeyInfo[]> {
    const operation = 'IAM ListAccessKeys';
    const metadata: { accessKeyId: string; status: KeyStatus; createDate: Date }[] = [];
    try {
      for await (const page of paginateListAccessKeys({ client: this.iam }, { UserName: userName })) {
        for (const key of page.AccessKeyMetadata ?? []) {
          if (!key.AccessKeyId || !key.CreateDate) throw missing(operation, 'AccessKeyMetadata');
          metadata.push({ accessKeyId: key.AccessKeyId, status: keyStatus(key.Status), createDate: key.CreateDate });
        }
      }
    } catch (error) {
      if (hasAwsErrorCode(error, 'NoSuchEntity')) throw new UserNotFoundError(userName, { cause: error });
      throw toKeyRotateError(operation, error);
    }
    if (!this.lastUsedDates) return metadata;
    // At most two keys per user: two sequential calls keep the request rate gentle on IAM's quota.
    const keys: AccessKeyInfo[] = [];
    for (const key of metadata) {
      const lastUsedDate = await this.lastUsedOrAbsent(key.accessKeyId);
      keys.push(lastUsedDate ? { ...key, lastUsedDate } : key);
    }
    return keys;
  }

  /**
   * Sent once, through `createKeyClient`: when the answer is lost (connection reset, timeout)
   * IAM may have made the key all the same, and a re-send here would make a second one (an
   * orphan, or LimitExceeded for a user that had a key). The lost answer fails with
   * TransientAwsError instead; the caller's retry must first delete a key it did not expect
   * (CreateKey deletes the keys its plan's snapshot does not know).
   */
  async createAccessKey(userName: string): Promise<CreatedAccessKey> {
    const operation = 'IAM CreateAccessKey';
    const { AccessKey: key } = await callAws(
      operation,
      () => this.createKeyClient().send(new CreateAccessKeyCommand({ UserName: userName })),
      (error) => {
        if (hasAwsErrorCode(error, 'NoSuchEntity')) return new UserNotFoundError(userName, { cause: error });
        // The plan made room for the new key; a full user means someone created a key meanwhile.
        if (hasAwsErrorCode(error, 'LimitExceeded')) {
          return new KeyStateConflictError(
            `IAM user '${userName}' already has two access keys; another key was created outside this rotation`,
            { cause: error },
          );
        }
        return undefined;
      },
    );
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw missing(operation, 'AccessKey');
    return {
      accessKeyId: key.AccessKeyId,
      secretAccessKey: key.SecretAccessKey,
      status: keyStatus(key.Status),
      createDate: key.CreateDate ?? new Date(),
    };
  }

  async setAccessKeyStatus(userName: string, accessKeyId: string, status: KeyStatus): Promise<void> {
    await callAws(
      'IAM UpdateAccessKey',
      () => this.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status })),
      (error) =>
        hasAwsErrorCode(error, 'NoSuchEntity') ? new AccessKeyNotFoundError(accessKeyId, { cause: error }) : undefined,
    );
  }

  async deleteAccessKey(userName: string, accessKeyId: string): Promise<'deleted' | 'absent'> {
    try {
      await this.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
      return 'deleted';
    } catch (error) {
      // A re-run after a crash finds the key already gone: the goal is reached.
      if (hasAwsErrorCode(error, 'NoSuchEntity')) return 'absent';
      throw toKeyRotateError('IAM DeleteAccessKey', error);
    }
  }

  async getAccessKeyLastUsed(accessKeyId: string): Promise<Date | undefined> {
    const result = await callAws(
      'IAM GetAccessKeyLastUsed',
      () => this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })),
      (error) =>
        hasAwsErrorCode(error, 'NoSuchEntity') ? new AccessKeyNotFoundError(accessKeyId, { cause: error }) : undefined,
    );
    return result.AccessKeyLastUsed?.LastUsedDate;
  }

  /** A key deleted between ListAccessKeys and this call simply has no last-used date. */
  private async lastUsedOrAbsent(accessKeyId: string): Promise<Date | undefined> {
    try {
      return await this.getAccessKeyLastUsed(accessKeyId);
    } catch (error) {
      if (error instanceof AccessKeyNotFoundError) return undefined;
      throw error;
    }
  }
}

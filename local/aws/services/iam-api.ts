import { AwsError } from '../errors';
import type { CallContext, QueryOperation } from '../protocol/context';
import type { QueryInput } from '../protocol/input';
import { decodePageToken, encodePageToken } from '../util';
import { type AccessKeyRecord, type IamModel, type IamUser } from './iam';

/** IAM's parameter error: `ValidationError`, HTTP 400. */
export const iamInvalid = (message: string): AwsError => new AwsError('ValidationError', message, 400);

/** Marker / MaxItems pagination as IAM does it: `IsTruncated` and an opaque `Marker`. */
function page<T>(items: readonly T[], input: QueryInput): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const maxItems = input.integer('MaxItems') ?? 100;
  if (maxItems < 1 || maxItems > 1000) {
    throw iamInvalid(`1 validation error detected: Value '${maxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  }
  const marker = input.string('Marker');
  const start = marker === undefined ? 0 : decodePageToken(marker);
  if (start === undefined) throw iamInvalid('Invalid Marker.');
  const slice = items.slice(start, start + maxItems);
  const truncated = start + maxItems < items.length;
  return { items: slice, IsTruncated: truncated, ...(truncated ? { Marker: encodePageToken(start + maxItems) } : {}) };
}

/**
 * The user an operation applies to: `UserName`, or else the IAM user who signed the request
 * (as IAM does). The endpoint's admin principal stands for the account root, which has no
 * access keys here, so it must name the user.
 */
function targetUser(input: QueryInput, ctx: CallContext): string {
  const userName = input.string('UserName');
  if (userName !== undefined) return userName;
  if (ctx.caller.kind === 'user') return ctx.caller.userName;
  throw iamInvalid('UserName is required: the local endpoint\'s admin principal (the account root) has no access keys of its own');
}

export function iamApi(model: IamModel, accountId: string, accountCreated: Date): Record<string, QueryOperation> {
  const userView = (user: IamUser, withTags: boolean) => ({
    Path: user.path,
    UserName: user.userName,
    UserId: user.userId,
    Arn: model.userArn(user),
    CreateDate: user.createDate,
    ...(withTags && user.tags.length > 0 ? { Tags: user.tags } : {}),
  });
  const keyView = (key: AccessKeyRecord) => ({
    UserName: key.userName,
    AccessKeyId: key.accessKeyId,
    Status: key.status,
    CreateDate: key.createDate,
  });

  return {
    CreateUser: (input) => {
      const user = model.createUser({ userName: input.requiredString('UserName'), path: input.string('Path'), tags: input.tags('Tags') });
      return { User: userView(user, true) };
    },

    GetUser: (input, ctx) => {
      const userName = input.string('UserName');
      if (userName === undefined && ctx.caller.kind === 'admin') {
        // The account root, as IAM answers it: no user name, the account id as user id.
        return { User: { UserId: accountId, Arn: `arn:aws:iam::${accountId}:root`, CreateDate: accountCreated } };
      }
      return { User: userView(model.getUser(targetUser(input, ctx)), true) };
    },

    DeleteUser: (input) => {
      model.deleteUser(input.requiredString('UserName'));
      return undefined;
    },

    ListUsers: (input) => {
      const { items, ...rest } = page(model.listUsers(input.string('PathPrefix') ?? '/'), input);
      return { Users: items.map((u) => userView(u, false)), ...rest };
    },

    TagUser: (input) => {
      model.tagUser(input.requiredString('UserName'), input.tags('Tags') ?? []);
      return undefined;
    },

    UntagUser: (input) => {
      model.untagUser(input.requiredString('UserName'), input.list('TagKeys') ?? []);
      return undefined;
    },

    ListUserTags: (input) => {
      const { items, ...rest } = page(model.getUser(input.requiredString('UserName')).tags, input);
      return { Tags: items, ...rest };
    },

    CreateAccessKey: (input, ctx) => {
      const key = model.createAccessKey(targetUser(input, ctx));
      // The only response that ever carries the secret, exactly as IAM returns it once.
      return { AccessKey: { ...keyView(key), SecretAccessKey: key.secretAccessKey } };
    },

    ListAccessKeys: (input, ctx) => {
      const { items, ...rest } = page(model.listAccessKeys(targetUser(input, ctx)), input);
      return { AccessKeyMetadata: items.map(keyView), ...rest };
    },

    UpdateAccessKey: (input, ctx) => {
      model.updateAccessKey(targetUser(input, ctx), input.requiredString('AccessKeyId'), input.requiredString('Status'));
      return undefined;
    },

    DeleteAccessKey: (input, ctx) => {
      model.deleteAccessKey(targetUser(input, ctx), input.requiredString('AccessKeyId'));
      return undefined;
    },

    GetAccessKeyLastUsed: (input) => {
      const { userName, lastUsed } = model.accessKeyLastUsed(input.requiredString('AccessKeyId'));
      return {
        UserName: userName,
        AccessKeyLastUsed: lastUsed
          ? { LastUsedDate: lastUsed.date, ServiceName: lastUsed.serviceName, Region: lastUsed.region }
          : { ServiceName: 'N/A', Region: 'N/A' },
      };
    },
  };
}

export function stsApi(model: IamModel, accountId: string): Record<string, QueryOperation> {
  return {
    GetCallerIdentity: (_input, ctx) => {
      if (ctx.caller.kind === 'admin') {
        return { UserId: accountId, Account: accountId, Arn: `arn:aws:iam::${accountId}:root` };
      }
      const user = model.getUser(ctx.caller.userName);
      return { UserId: user.userId, Account: accountId, Arn: model.userArn(user) };
    },
  };
}

import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { iamClientWithoutRetries } from '../../lambdas/adapters/clients';
import { IamAccessKeyDirectory } from '../../lambdas/adapters/iam-access-key-directory';
import {
  AccessDeniedError,
  AccessKeyNotFoundError,
  KeyStateConflictError,
  TransientAwsError,
  UserNotFoundError,
} from '../../lambdas/core/errors';
import { awsError, socketError } from './sdk-errors';

const iamMock = mockClient(IAMClient);
const directory = new IamAccessKeyDirectory(new IAMClient({ region: 'eu-west-1' }));
const noSuchEntity = () => new NoSuchEntityException({ message: 'not found', $metadata: { httpStatusCode: 404 } });

beforeEach(() => iamMock.reset());

describe('IamAccessKeyDirectory.getUser', () => {
  it('returns name, ARN, path and tags', async () => {
    // Prepare
    iamMock.on(GetUserCommand, { UserName: 'smtp' }).resolves({
      User: {
        UserName: 'smtp',
        Arn: 'arn:aws:iam::111122223333:user/service/smtp',
        Path: '/service/',
        UserId: 'AIDA1',
        CreateDate: new Date(),
        Tags: [{ Key: 'keyrotate', Value: 'yes' }],
      },
    });

    // Act
    const user = await directory.getUser('smtp');

    // Assess
    expect(user).toEqual({
      userName: 'smtp',
      arn: 'arn:aws:iam::111122223333:user/service/smtp',
      path: '/service/',
      tags: { keyrotate: 'yes' },
    });
  });

  it('fails with UserNotFoundError on NoSuchEntity', async () => {
    iamMock.on(GetUserCommand).rejects(noSuchEntity());

    await expect(directory.getUser('ghost')).rejects.toMatchObject({ name: 'UserNotFoundError', message: "IAM user 'ghost' does not exist" });
  });
});

describe('IamAccessKeyDirectory.listAccessKeys', () => {
  it('follows every page and adds each last-used date', async () => {
    // Prepare
    const created = new Date('2024-01-01T00:00:00Z');
    const used = new Date('2024-03-01T00:00:00Z');
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'smtp', Marker: undefined })
      .resolves({
        AccessKeyMetadata: [{ AccessKeyId: 'AKIAOLD', Status: 'Active', CreateDate: created, UserName: 'smtp' }],
        IsTruncated: true,
        Marker: 'page2',
      })
      .on(ListAccessKeysCommand, { UserName: 'smtp', Marker: 'page2' })
      .resolves({
        AccessKeyMetadata: [{ AccessKeyId: 'AKIASTALE', Status: 'Inactive', CreateDate: created, UserName: 'smtp' }],
        IsTruncated: false,
      });
    iamMock
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAOLD' })
      .resolves({ UserName: 'smtp', AccessKeyLastUsed: { LastUsedDate: used, ServiceName: 'ses', Region: 'eu-west-1' } })
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIASTALE' })
      .resolves({ UserName: 'smtp', AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });

    // Act
    const keys = await directory.listAccessKeys('smtp');

    // Assess
    expect(keys).toEqual([
      { accessKeyId: 'AKIAOLD', status: 'Active', createDate: created, lastUsedDate: used },
      { accessKeyId: 'AKIASTALE', status: 'Inactive', createDate: created },
    ]);
    expect(iamMock.commandCalls(ListAccessKeysCommand)).toHaveLength(2);
  });

  it('leaves last-used dates out, without calling GetAccessKeyLastUsed, when told to', async () => {
    const created = new Date('2024-01-01T00:00:00Z');
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [{ AccessKeyId: 'AKIAOLD', Status: 'Active', CreateDate: created, UserName: 'smtp' }],
    });
    const withoutDates = new IamAccessKeyDirectory(new IAMClient({ region: 'eu-west-1' }), { lastUsedDates: false });

    const keys = await withoutDates.listAccessKeys('smtp');

    expect(keys).toEqual([{ accessKeyId: 'AKIAOLD', status: 'Active', createDate: created }]);
    expect(iamMock.commandCalls(GetAccessKeyLastUsedCommand)).toHaveLength(0);
  });

  it('treats a key deleted between the list and the last-used call as never used', async () => {
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [{ AccessKeyId: 'AKIAGONE', Status: 'Active', CreateDate: new Date(), UserName: 'smtp' }],
    });
    iamMock.on(GetAccessKeyLastUsedCommand).rejects(noSuchEntity());

    const keys = await directory.listAccessKeys('smtp');

    expect(keys).toHaveLength(1);
    expect(keys[0]?.lastUsedDate).toBeUndefined();
  });

  it('fails with UserNotFoundError on NoSuchEntity and TransientAwsError on throttling', async () => {
    iamMock.on(ListAccessKeysCommand, { UserName: 'ghost' }).rejects(noSuchEntity());
    iamMock.on(ListAccessKeysCommand, { UserName: 'busy' }).rejects(awsError('Throttling'));

    await expect(directory.listAccessKeys('ghost')).rejects.toThrow(UserNotFoundError);
    await expect(directory.listAccessKeys('busy')).rejects.toThrow(TransientAwsError);
  });
});

describe('IamAccessKeyDirectory.createAccessKey', () => {
  it('returns the new key with its secret', async () => {
    const createDate = new Date('2024-05-01T00:00:00Z');
    iamMock.on(CreateAccessKeyCommand, { UserName: 'smtp' }).resolves({
      AccessKey: { UserName: 'smtp', AccessKeyId: 'AKIANEW', SecretAccessKey: 'secret/value', Status: 'Active', CreateDate: createDate },
    });

    await expect(directory.createAccessKey('smtp')).resolves.toEqual({
      accessKeyId: 'AKIANEW',
      secretAccessKey: 'secret/value',
      status: 'Active',
      createDate,
    });
  });

  it('fails with KeyStateConflictError when the user already has two keys', async () => {
    iamMock.on(CreateAccessKeyCommand).rejects(awsError('LimitExceeded', 409, 'Cannot exceed quota for AccessKeysPerUser: 2'));

    const failure = directory.createAccessKey('smtp');

    await expect(failure).rejects.toThrow(KeyStateConflictError);
    await expect(failure).rejects.toThrow("IAM user 'smtp' already has two access keys");
  });

  it('fails with UserNotFoundError and AccessDeniedError as IAM says', async () => {
    iamMock.on(CreateAccessKeyCommand, { UserName: 'ghost' }).rejects(noSuchEntity());
    iamMock.on(CreateAccessKeyCommand, { UserName: 'admin' }).rejects(awsError('AccessDenied', 403));

    await expect(directory.createAccessKey('ghost')).rejects.toThrow(UserNotFoundError);
    await expect(directory.createAccessKey('admin')).rejects.toThrow(AccessDeniedError);
  });
});

describe('IamAccessKeyDirectory.createAccessKey when the answer is lost', () => {
  const iam = new IAMClient({ region: 'eu-west-1' });
  const createKeyClient = new IAMClient({ region: 'eu-west-1', maxAttempts: 1 });
  const once = new IamAccessKeyDirectory(iam, { createKeyClient });

  /** IAM's keys of user 'smtp': CreateAccessKey makes one, then the answer is lost with `lost`. */
  function createsThenLoses(lost: Error): string[] {
    const keys: string[] = [];
    iamMock.on(CreateAccessKeyCommand).callsFake(() => {
      keys.push(`AKIANEW${keys.length + 1}`);
      throw lost;
    });
    return keys;
  }

  it('sends CreateAccessKey through the client without retries, and every other call through the main client', async () => {
    // Prepare
    iamMock.on(CreateAccessKeyCommand).resolves({ AccessKey: { UserName: 'smtp', AccessKeyId: 'AKIANEW', SecretAccessKey: 's', Status: 'Active' } });
    iamMock.on(UpdateAccessKeyCommand).resolves({});

    // Act
    await once.createAccessKey('smtp');
    await once.setAccessKeyStatus('smtp', 'AKIAOLD', 'Inactive');

    // Assess
    expect(iamMock.commandCalls(CreateAccessKeyCommand).map((call) => call.thisValue)).toEqual([createKeyClient]);
    expect(iamMock.commandCalls(UpdateAccessKeyCommand).map((call) => call.thisValue)).toEqual([iam]);
  });

  it("uses the container's client without retries when none is given", async () => {
    // Prepare
    iamMock.on(CreateAccessKeyCommand).resolves({ AccessKey: { UserName: 'smtp', AccessKeyId: 'AKIANEW', SecretAccessKey: 's', Status: 'Active' } });

    // Act
    await directory.createAccessKey('smtp');

    // Assess
    expect(iamMock.commandCalls(CreateAccessKeyCommand).map((call) => call.thisValue)).toEqual([iamClientWithoutRetries()]);
  });

  it.each([
    ['a reset connection', socketError('ECONNRESET', 'socket hang up')],
    ['a connection closed without a code', new Error('socket hang up')],
    ['a request timeout', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
  ])('fails with TransientAwsError after %s, having sent CreateAccessKey once', async (_what, lost) => {
    // Prepare: IAM makes the key, the answer never arrives
    const keys = createsThenLoses(lost);

    // Act
    const failure = once.createAccessKey('smtp');

    // Assess: one key, no second attempt; the step's retry reconciles (deletes it, creates anew)
    await expect(failure).rejects.toThrow(TransientAwsError);
    await expect(failure).rejects.toThrow('IAM CreateAccessKey failed transiently');
    expect(keys).toEqual(['AKIANEW1']);
    expect(iamMock.commandCalls(CreateAccessKeyCommand)).toHaveLength(1);
  });
});

describe('IamAccessKeyDirectory key changes', () => {
  it('sets a status with UpdateAccessKey, again without complaint', async () => {
    iamMock.on(UpdateAccessKeyCommand).resolves({});

    await directory.setAccessKeyStatus('smtp', 'AKIAOLD', 'Inactive');
    await directory.setAccessKeyStatus('smtp', 'AKIAOLD', 'Inactive');

    expect(iamMock.commandCalls(UpdateAccessKeyCommand, { UserName: 'smtp', AccessKeyId: 'AKIAOLD', Status: 'Inactive' })).toHaveLength(2);
  });

  it('fails to set the status of a missing key with AccessKeyNotFoundError', async () => {
    iamMock.on(UpdateAccessKeyCommand).rejects(noSuchEntity());

    await expect(directory.setAccessKeyStatus('smtp', 'AKIAGONE', 'Inactive')).rejects.toMatchObject({
      name: 'AccessKeyNotFoundError',
      accessKeyId: 'AKIAGONE',
    });
  });

  it("deletes a key, and answers 'absent' when it is already gone", async () => {
    iamMock.on(DeleteAccessKeyCommand, { AccessKeyId: 'AKIAOLD' }).resolves({});
    iamMock.on(DeleteAccessKeyCommand, { AccessKeyId: 'AKIAGONE' }).rejects(noSuchEntity());

    await expect(directory.deleteAccessKey('smtp', 'AKIAOLD')).resolves.toBe('deleted');
    await expect(directory.deleteAccessKey('smtp', 'AKIAGONE')).resolves.toBe('absent');
  });

  it('maps a throttled delete to TransientAwsError', async () => {
    iamMock.on(DeleteAccessKeyCommand).rejects(awsError('Throttling'));

    await expect(directory.deleteAccessKey('smtp', 'AKIAOLD')).rejects.toThrow(TransientAwsError);
  });
});

describe('IamAccessKeyDirectory key lookups', () => {
  it('finds the user of a key, as Terraform import does', async () => {
    iamMock.on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAOLD' }).resolves({ UserName: 'smtp' });

    await expect(directory.findUserNameByAccessKey('AKIAOLD')).resolves.toBe('smtp');
  });

  it('fails with AccessKeyNotFoundError for an unknown key or one without a user', async () => {
    iamMock.on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAGONE' }).rejects(noSuchEntity());
    iamMock.on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAOTHER' }).resolves({});

    await expect(directory.findUserNameByAccessKey('AKIAGONE')).rejects.toThrow(AccessKeyNotFoundError);
    await expect(directory.findUserNameByAccessKey('AKIAOTHER')).rejects.toThrow(AccessKeyNotFoundError);
  });

  it('returns the last-used date, or undefined for a never-used key', async () => {
    const used = new Date('2024-02-02T00:00:00Z');
    iamMock
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAUSED' })
      .resolves({ AccessKeyLastUsed: { LastUsedDate: used, ServiceName: 's3', Region: 'us-east-1' } })
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIANEVER' })
      .resolves({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });

    await expect(directory.getAccessKeyLastUsed('AKIAUSED')).resolves.toEqual(used);
    await expect(directory.getAccessKeyLastUsed('AKIANEVER')).resolves.toBeUndefined();
  });
});

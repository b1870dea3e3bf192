import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  ListUsersCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { caught, clientConfig } from './helpers';

describe('local AWS endpoint: IAM', () => {
  let aws: LocalAws;
  let iam: IAMClient;

  beforeEach(async () => {
    aws = await startLocalAws();
    iam = new IAMClient(clientConfig(aws));
  });

  afterEach(async () => {
    iam.destroy();
    await aws.stop();
  });

  describe('users', () => {
    it('creates a user with a path and tags, and GetUser returns it with its ARN', async () => {
      // Act
      const created = await iam.send(new CreateUserCommand({ UserName: 'loadbalancer', Path: '/smtp/', Tags: [{ Key: 'team', Value: 'ops & <mail>' }] }));
      const fetched = await iam.send(new GetUserCommand({ UserName: 'loadbalancer' }));

      // Assess
      expect(created.User).toMatchObject({ UserName: 'loadbalancer', Path: '/smtp/', Arn: 'arn:aws:iam::000000000000:user/smtp/loadbalancer' });
      expect(created.User?.UserId).toMatch(/^AIDA[A-Z0-9]{17}$/);
      expect(created.User?.CreateDate).toBeInstanceOf(Date);
      expect(fetched.User).toMatchObject({ UserName: 'loadbalancer', UserId: created.User?.UserId, Tags: [{ Key: 'team', Value: 'ops & <mail>' }] });
    });

    it('fails with EntityAlreadyExists (409) on a duplicate name, whatever its case', async () => {
      // Prepare
      await iam.send(new CreateUserCommand({ UserName: 'alice' }));

      // Act
      const error = await caught(() => iam.send(new CreateUserCommand({ UserName: 'ALICE' })));

      // Assess
      expect(error.name).toBe('EntityAlreadyExistsException');
      expect(error.$metadata?.httpStatusCode).toBe(409);
      expect(error.message).toBe('User with name ALICE already exists.');
    });

    it('answers GetUser without UserName with the caller: the root for the admin principal, the user for its key', async () => {
      // Prepare
      aws.iam.createUser('self');
      const key = aws.iam.createAccessKey('self');
      const asUser = new IAMClient(clientConfig(aws, key));

      // Act
      const root = await iam.send(new GetUserCommand({}));
      const self = await asUser.send(new GetUserCommand({}));
      asUser.destroy();

      // Assess
      expect(root.User).toMatchObject({ UserId: '000000000000', Arn: 'arn:aws:iam::000000000000:root' });
      expect(self.User).toMatchObject({ UserName: 'self', Arn: 'arn:aws:iam::000000000000:user/self' });
    });

    it('fails with NoSuchEntity (404) for an unknown user', async () => {
      // Act
      const error = await caught(() => iam.send(new GetUserCommand({ UserName: 'nobody' })));

      // Assess
      expect(error.name).toBe('NoSuchEntityException');
      expect(error.$metadata?.httpStatusCode).toBe(404);
      expect(error.message).toBe('The user with name nobody cannot be found.');
    });

    it('fails with ValidationError on a name outside IAM\'s pattern', async () => {
      // Act
      const error = await caught(() => iam.send(new CreateUserCommand({ UserName: 'bad name!' })));

      // Assess
      expect(error.name).toBe('ValidationError');
      expect(error.$metadata?.httpStatusCode).toBe(400);
    });

    it('refuses to delete a user that has access keys (DeleteConflict), then deletes it once they are gone', async () => {
      // Prepare
      await iam.send(new CreateUserCommand({ UserName: 'bob' }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));

      // Act
      const conflict = await caught(() => iam.send(new DeleteUserCommand({ UserName: 'bob' })));
      await iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: AccessKey?.AccessKeyId }));
      await iam.send(new DeleteUserCommand({ UserName: 'bob' }));

      // Assess
      expect(conflict.name).toBe('DeleteConflictException');
      expect(conflict.$metadata?.httpStatusCode).toBe(409);
      expect(aws.iam.getUser('bob')).toBeUndefined();
    });

    it('lists users under a path prefix, one page at a time with MaxItems=1', async () => {
      // Prepare
      for (const name of ['carol', 'alice', 'bob']) await iam.send(new CreateUserCommand({ UserName: name, Path: '/smtp/' }));
      await iam.send(new CreateUserCommand({ UserName: 'other', Path: '/apps/' }));

      // Act
      const names: string[] = [];
      const truncated: boolean[] = [];
      let marker: string | undefined;
      do {
        const page = await iam.send(new ListUsersCommand({ PathPrefix: '/smtp/', MaxItems: 1, Marker: marker }));
        names.push(...(page.Users ?? []).map((u) => u.UserName ?? ''));
        truncated.push(page.IsTruncated ?? false);
        marker = page.Marker;
      } while (marker);

      // Assess
      expect(names).toEqual(['alice', 'bob', 'carol']);
      expect(truncated).toEqual([true, true, false]);
    });

    it('returns an empty list (not an error) when no user matches', async () => {
      // Act
      const page = await iam.send(new ListUsersCommand({ PathPrefix: '/none/' }));

      // Assess
      expect(page.Users).toEqual([]);
      expect(page.IsTruncated).toBe(false);
    });

    it('tags, re-tags (keys are case-insensitive), lists and untags a user', async () => {
      // Prepare
      await iam.send(new CreateUserCommand({ UserName: 'dave', Tags: [{ Key: 'Team', Value: 'a' }] }));

      // Act
      await iam.send(new TagUserCommand({ UserName: 'dave', Tags: [{ Key: 'team', Value: 'b' }, { Key: 'rotate', Value: 'yes' }] }));
      const tagged = await iam.send(new ListUserTagsCommand({ UserName: 'dave' }));
      await iam.send(new UntagUserCommand({ UserName: 'dave', TagKeys: ['ROTATE'] }));
      const untagged = await iam.send(new ListUserTagsCommand({ UserName: 'dave' }));

      // Assess
      expect(tagged.Tags).toEqual([
        { Key: 'team', Value: 'b' },
        { Key: 'rotate', Value: 'yes' },
      ]);
      expect(untagged.Tags).toEqual([{ Key: 'team', Value: 'b' }]);
    });
  });

  describe('access keys', () => {
    beforeEach(async () => {
      await iam.send(new CreateUserCommand({ UserName: 'mailer' }));
    });

    it('creates a key with IAM\'s id and secret shapes, Active', async () => {
      // Act
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));

      // Assess
      expect(AccessKey?.AccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
      expect(AccessKey?.SecretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
      expect(AccessKey).toMatchObject({ UserName: 'mailer', Status: 'Active' });
    });

    it('enforces the quota of two keys per user with LimitExceeded', async () => {
      // Prepare
      await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));
      await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));

      // Act
      const error = await caught(() => iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' })));

      // Assess
      expect(error.name).toBe('LimitExceededException');
      expect(error.message).toBe('Cannot exceed quota for AccessKeysPerUser: 2');
      expect(error.$metadata?.httpStatusCode).toBe(409);
      expect(aws.iam.listAccessKeys('mailer')).toHaveLength(2);
    });

    it('lists keys without secrets, one per page with MaxItems=1', async () => {
      // Prepare
      const first = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));
      aws.clock.advance(1000);
      const second = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));

      // Act
      const page1 = await iam.send(new ListAccessKeysCommand({ UserName: 'mailer', MaxItems: 1 }));
      const page2 = await iam.send(new ListAccessKeysCommand({ UserName: 'mailer', MaxItems: 1, Marker: page1.Marker }));

      // Assess
      expect(page1.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([first.AccessKey?.AccessKeyId]);
      expect(page1.IsTruncated).toBe(true);
      expect(page2.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([second.AccessKey?.AccessKeyId]);
      expect(page2.IsTruncated).toBe(false);
      expect(JSON.stringify([page1, page2])).not.toContain(first.AccessKey?.SecretAccessKey);
    });

    it('deactivates a key with UpdateAccessKey and rejects an unknown status', async () => {
      // Prepare
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));

      // Act
      await iam.send(new UpdateAccessKeyCommand({ UserName: 'mailer', AccessKeyId: AccessKey?.AccessKeyId, Status: 'Inactive' }));
      const bad = await caught(() => iam.send(new UpdateAccessKeyCommand({ UserName: 'mailer', AccessKeyId: AccessKey?.AccessKeyId, Status: 'Paused' as 'Active' })));

      // Assess
      expect(aws.iam.getAccessKey(AccessKey?.AccessKeyId ?? '')?.status).toBe('Inactive');
      expect(bad.name).toBe('ValidationError');
    });

    it('treats a key of another user as not found (NoSuchEntity), changing nothing', async () => {
      // Prepare
      await iam.send(new CreateUserCommand({ UserName: 'other' }));
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));

      // Act
      const error = await caught(() => iam.send(new DeleteAccessKeyCommand({ UserName: 'other', AccessKeyId: AccessKey?.AccessKeyId })));

      // Assess
      expect(error.name).toBe('NoSuchEntityException');
      expect(error.message).toBe(`The Access Key with id ${AccessKey?.AccessKeyId} cannot be found.`);
      expect(aws.iam.listAccessKeys('mailer')).toHaveLength(1);
    });

    it('reports N/A from GetAccessKeyLastUsed for a key never used, with its owner', async () => {
      // Prepare
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));

      // Act
      const lastUsed = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: AccessKey?.AccessKeyId }));

      // Assess
      expect(lastUsed.UserName).toBe('mailer');
      expect(lastUsed.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
    });

    it('answers NoSuchEntity from GetAccessKeyLastUsed for a deleted key', async () => {
      // Prepare
      const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'mailer' }));
      await iam.send(new DeleteAccessKeyCommand({ UserName: 'mailer', AccessKeyId: AccessKey?.AccessKeyId }));

      // Act
      const error = await caught(() => iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: AccessKey?.AccessKeyId })));

      // Assess
      expect(error.name).toBe('NoSuchEntityException');
    });

    it('needs UserName when the admin principal manages keys (it has no keys of its own)', async () => {
      // Act
      const error = await caught(() => iam.send(new ListAccessKeysCommand({})));

      // Assess
      expect(error.name).toBe('ValidationError');
    });
  });

  it('answers InvalidAction for an operation it does not emulate', async () => {
    // Prepare
    const { ListRolesCommand } = await import('@aws-sdk/client-iam');

    // Act
    const error = await caught(() => iam.send(new ListRolesCommand({})));

    // Assess
    expect(error.name).toBe('InvalidAction');
    expect(error.message).toContain('Could not find operation ListRoles');
  });
});

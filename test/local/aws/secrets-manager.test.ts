import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type LocalAws, startLocalAws } from '../../../local/aws';
import { caught, clientConfig } from './helpers';

const V1 = '11111111-1111-4111-8111-111111111111';
const V2 = '22222222-2222-4222-8222-222222222222';
const V3 = '33333333-3333-4333-8333-333333333333';

describe('local AWS endpoint: Secrets Manager', () => {
  let aws: LocalAws;
  let sm: SecretsManagerClient;

  beforeEach(async () => {
    aws = await startLocalAws();
    sm = new SecretsManagerClient(clientConfig(aws));
  });

  afterEach(async () => {
    sm.destroy();
    await aws.stop();
  });

  const stagesOf = async (secretId: string) => (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages;

  describe('CreateSecret, DescribeSecret, GetSecretValue', () => {
    it('creates a secret whose first version (named by the token) is AWSCURRENT, with an ARN ending in 6 random characters', async () => {
      // Act
      const created = await sm.send(new CreateSecretCommand({ Name: 'keyrotate/mailer', SecretString: '{"a":1}', ClientRequestToken: V1, Tags: [{ Key: 'app', Value: 'mail' }] }));
      const described = await sm.send(new DescribeSecretCommand({ SecretId: 'keyrotate/mailer' }));

      // Assess
      expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:keyrotate\/mailer-[A-Za-z0-9]{6}$/);
      expect(created.VersionId).toBe(V1);
      expect(described).toMatchObject({ Name: 'keyrotate/mailer', RotationEnabled: false, VersionIdsToStages: { [V1]: ['AWSCURRENT'] }, Tags: [{ Key: 'app', Value: 'mail' }] });
      expect(described.CreatedDate).toBeInstanceOf(Date);
    });

    it('fails with ResourceExistsException when the name is taken', async () => {
      // Prepare
      await sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'x' }));

      // Act
      const error = await caught(() => sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'y' })));

      // Assess
      expect(error.name).toBe('ResourceExistsException');
    });

    it('reads the value by name, full ARN and partial ARN (without the random suffix)', async () => {
      // Prepare
      const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'v1' }));
      const arn = ARN ?? '';

      // Act
      const values = await Promise.all([
        sm.send(new GetSecretValueCommand({ SecretId: 'app/db' })),
        sm.send(new GetSecretValueCommand({ SecretId: arn })),
        sm.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) })),
      ]);

      // Assess
      expect(values.map((v) => v.SecretString)).toEqual(['v1', 'v1', 'v1']);
      expect(values[0]).toMatchObject({ ARN: arn, Name: 'app/db', VersionStages: ['AWSCURRENT'] });
    });

    it('reads a version by VersionId, and refuses a VersionStage that is not on that version', async () => {
      // Prepare
      await sm.send(new CreateSecretCommand({ Name: 'versions', SecretString: 'one', ClientRequestToken: V1 }));
      await sm.send(new PutSecretValueCommand({ SecretId: 'versions', SecretString: 'two', ClientRequestToken: V2 }));

      // Act
      const old = await sm.send(new GetSecretValueCommand({ SecretId: 'versions', VersionId: V1 }));
      const mismatch = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'versions', VersionId: V1, VersionStage: 'AWSCURRENT' })));
      const unknown = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'versions', VersionId: V3 })));

      // Assess
      expect(old).toMatchObject({ SecretString: 'one', VersionStages: ['AWSPREVIOUS'] });
      expect(mismatch.name).toBe('ResourceNotFoundException');
      expect(unknown.name).toBe('ResourceNotFoundException');
    });

    it('round-trips a binary secret', async () => {
      // Prepare
      const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
      await sm.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: bytes }));

      // Act
      const value = await sm.send(new GetSecretValueCommand({ SecretId: 'bin' }));

      // Assess
      expect(Buffer.from(value.SecretBinary ?? []).equals(Buffer.from(bytes))).toBe(true);
      expect(value.SecretString).toBeUndefined();
    });

    it('fails with ResourceNotFoundException for an unknown secret, and for a secret without a value', async () => {
      // Prepare
      await sm.send(new CreateSecretCommand({ Name: 'empty' }));

      // Act
      const unknown = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'nope' })));
      const empty = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'empty' })));

      // Assess
      expect(unknown.name).toBe('ResourceNotFoundException');
      expect(unknown.message).toBe("Secrets Manager can't find the specified secret.");
      expect(empty.name).toBe('ResourceNotFoundException');
      expect(empty.message).toBe("Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
    });
  });

  describe('PutSecretValue', () => {
    beforeEach(async () => {
      await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'one', ClientRequestToken: V1 }));
    });

    it('moves AWSCURRENT to the new version by default and AWSPREVIOUS to the old one', async () => {
      // Act
      const put = await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: V2 }));
      const previous = await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' }));

      // Assess
      expect(put).toMatchObject({ VersionId: V2, VersionStages: ['AWSCURRENT'] });
      expect(await stagesOf('s')).toEqual({ [V1]: ['AWSPREVIOUS'], [V2]: ['AWSCURRENT'] });
      expect(previous.SecretString).toBe('one');
    });

    it('attaches only the given stages (AWSPENDING leaves AWSCURRENT where it is)', async () => {
      // Act
      await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: V2, VersionStages: ['AWSPENDING'] }));

      // Assess
      expect(await stagesOf('s')).toEqual({ [V1]: ['AWSCURRENT'], [V2]: ['AWSPENDING'] });
      expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('one');
      expect((await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPENDING' }))).SecretString).toBe('two');
    });

    it('is idempotent: the same token and value return the same version and change nothing', async () => {
      // Prepare
      await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: V2, VersionStages: ['AWSPENDING'] }));

      // Act
      const retry = await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: V2, VersionStages: ['AWSPENDING'] }));

      // Assess
      expect(retry).toMatchObject({ VersionId: V2, VersionStages: ['AWSPENDING'] });
      expect(aws.secretsManager.describe('s')?.versions).toHaveLength(2);
    });

    it('fails with ResourceExistsException when the token names a version with another value', async () => {
      // Act
      const error = await caught(() => sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'zq-secret-value-zq', ClientRequestToken: V1 })));

      // Assess
      expect(error.name).toBe('ResourceExistsException');
      expect(error.message).not.toContain('zq-secret-value-zq');
      expect((await sm.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('one');
    });
  });

  describe('UpdateSecretVersionStage', () => {
    beforeEach(async () => {
      await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'one', ClientRequestToken: V1 }));
      await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'two', ClientRequestToken: V2, VersionStages: ['AWSPENDING'] }));
    });

    it('moves AWSCURRENT with RemoveFromVersionId, and AWSPREVIOUS follows automatically', async () => {
      // Act
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSCURRENT', MoveToVersionId: V2, RemoveFromVersionId: V1 }));

      // Assess
      expect(await stagesOf('s')).toEqual({ [V1]: ['AWSPREVIOUS'], [V2]: ['AWSPENDING', 'AWSCURRENT'] });
    });

    it('moves AWSPREVIOUS off a version that becomes current again (roll back)', async () => {
      // Prepare
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSCURRENT', MoveToVersionId: V2, RemoveFromVersionId: V1 }));

      // Act
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSCURRENT', MoveToVersionId: V1, RemoveFromVersionId: V2 }));

      // Assess
      expect(await stagesOf('s')).toEqual({ [V1]: ['AWSCURRENT'], [V2]: ['AWSPENDING', 'AWSPREVIOUS'] });
    });

    it('fails with InvalidParameterException when RemoveFromVersionId is missing for an attached label', async () => {
      // Act
      const error = await caught(() => sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSCURRENT', MoveToVersionId: V2 })));

      // Assess
      expect(error.name).toBe('InvalidParameterException');
      expect(error.message).toContain(`Staging label AWSCURRENT is currently attached to version ${V1}`);
      expect(await stagesOf('s')).toEqual({ [V1]: ['AWSCURRENT'], [V2]: ['AWSPENDING'] });
    });

    it('fails with InvalidParameterException when RemoveFromVersionId is not the version holding the label', async () => {
      // Act
      const error = await caught(() => sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSCURRENT', MoveToVersionId: V2, RemoveFromVersionId: V3 })));

      // Assess
      expect(error.name).toBe('InvalidParameterException');
      expect(await stagesOf('s')).toEqual({ [V1]: ['AWSCURRENT'], [V2]: ['AWSPENDING'] });
    });

    it('removes a label; a version left without labels is deprecated and listed only with IncludeDeprecated', async () => {
      // Act
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSPENDING', RemoveFromVersionId: V2 }));
      const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's' }));
      const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's', IncludeDeprecated: true }));

      // Assess
      expect(await stagesOf('s')).toEqual({ [V1]: ['AWSCURRENT'] });
      expect(listed.Versions?.map((v) => v.VersionId)).toEqual([V1]);
      expect(all.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
        [V1, ['AWSCURRENT']],
        [V2, []],
      ]);
      expect(all.Versions?.[0]?.CreatedDate).toBeInstanceOf(Date);
    });

    it('refuses to remove AWSCURRENT without moving it', async () => {
      // Act
      const error = await caught(() => sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'AWSCURRENT', RemoveFromVersionId: V1 })));

      // Assess
      expect(error.name).toBe('InvalidParameterException');
    });
  });

  it('pages ListSecretVersionIds with MaxResults=1', async () => {
    // Prepare
    await sm.send(new CreateSecretCommand({ Name: 'p', SecretString: 'one', ClientRequestToken: V1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'p', SecretString: 'two', ClientRequestToken: V2 }));

    // Act
    const first = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'p', MaxResults: 1 }));
    const second = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'p', MaxResults: 1, NextToken: first.NextToken }));

    // Assess
    expect(first.Versions?.map((v) => v.VersionId)).toEqual([V1]);
    expect(second.Versions?.map((v) => v.VersionId)).toEqual([V2]);
    expect(second.NextToken).toBeUndefined();
  });

  describe('DeleteSecret', () => {
    beforeEach(async () => {
      await sm.send(new CreateSecretCommand({ Name: 'd', SecretString: 'v' }));
    });

    it('schedules deletion: the secret is described but not readable, until restored', async () => {
      // Act
      const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 'd', RecoveryWindowInDays: 7 }));
      const described = await sm.send(new DescribeSecretCommand({ SecretId: 'd' }));
      const read = await caught(() => sm.send(new GetSecretValueCommand({ SecretId: 'd' })));
      await sm.send(new RestoreSecretCommand({ SecretId: 'd' }));
      const restored = await sm.send(new GetSecretValueCommand({ SecretId: 'd' }));

      // Assess
      expect((deleted.DeletionDate?.getTime() ?? 0) - (described.DeletedDate?.getTime() ?? 0)).toBe(7 * 86_400_000);
      expect(read.name).toBe('InvalidRequestException');
      expect(restored.SecretString).toBe('v');
    });

    it('purges a scheduled secret once its recovery window has passed on the endpoint clock', async () => {
      // Prepare
      await sm.send(new DeleteSecretCommand({ SecretId: 'd', RecoveryWindowInDays: 7 }));

      // Act
      aws.clock.advance(7 * 86_400_000);
      const error = await caught(() => sm.send(new DescribeSecretCommand({ SecretId: 'd' })));

      // Assess
      expect(error.name).toBe('ResourceNotFoundException');
    });

    it('deletes at once with ForceDeleteWithoutRecovery', async () => {
      // Act
      await sm.send(new DeleteSecretCommand({ SecretId: 'd', ForceDeleteWithoutRecovery: true }));
      const error = await caught(() => sm.send(new DescribeSecretCommand({ SecretId: 'd' })));

      // Assess
      expect(error.name).toBe('ResourceNotFoundException');
    });

    it('rejects ForceDeleteWithoutRecovery together with RecoveryWindowInDays, and a window outside 7-30 days', async () => {
      // Act
      const both = await caught(() => sm.send(new DeleteSecretCommand({ SecretId: 'd', ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 })));
      const short = await caught(() => sm.send(new DeleteSecretCommand({ SecretId: 'd', RecoveryWindowInDays: 3 })));

      // Assess
      expect(both.name).toBe('InvalidParameterException');
      expect(short.name).toBe('InvalidParameterException');
      expect(aws.secretsManager.describe('d')?.deleted).toBe(false);
    });
  });
});

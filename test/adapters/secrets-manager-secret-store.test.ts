import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerSecretStore } from '../../lambdas/adapters/secrets-manager-secret-store';
import {
  AwsRequestError,
  KeyStateConflictError,
  SecretMismatchError,
  SecretNotFoundError,
  TransientAwsError,
} from '../../lambdas/core/errors';
import { awsError, socketError } from './sdk-errors';

const smMock = mockClient(SecretsManagerClient);
const store = new SecretsManagerSecretStore(new SecretsManagerClient({ region: 'eu-west-1' }));
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:smtp-AbCdEf';
const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });

function describes(versionIdsToStages: Record<string, string[]>) {
  smMock.on(DescribeSecretCommand).resolves({ ARN, Name: 'smtp', VersionIdsToStages: versionIdsToStages });
}

beforeEach(() => smMock.reset());

describe('SecretsManagerSecretStore.describe', () => {
  it('lists every version with its stages and, from every page of ListSecretVersionIds, its creation date', async () => {
    // Prepare
    const currentDate = new Date('2024-01-01T00:00:00Z');
    const pendingDate = new Date('2024-06-01T00:00:00Z');
    describes({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
    smMock
      .on(ListSecretVersionIdsCommand, { NextToken: undefined })
      .resolves({ ARN, Name: 'smtp', Versions: [{ VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: currentDate }], NextToken: 'p2' })
      .on(ListSecretVersionIdsCommand, { NextToken: 'p2' })
      .resolves({ ARN, Name: 'smtp', Versions: [{ VersionId: 'v2', VersionStages: ['AWSPENDING'], CreatedDate: pendingDate }] });

    // Act
    const described = await store.describe('smtp');

    // Assess
    expect(described).toEqual({
      arn: ARN,
      name: 'smtp',
      versions: [
        { versionId: 'v1', stages: ['AWSCURRENT'], createdDate: currentDate },
        { versionId: 'v2', stages: ['AWSPENDING'], createdDate: pendingDate },
      ],
    });
    expect(smMock.commandCalls(ListSecretVersionIdsCommand, { IncludeDeprecated: false })).toHaveLength(2);
  });

  it('keeps a version DescribeSecret knows but ListSecretVersionIds does not (no date)', async () => {
    describes({ placeholder: ['AWSPENDING'] });
    smMock.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });

    const described = await store.describe('smtp');

    expect(described.versions).toEqual([{ versionId: 'placeholder', stages: ['AWSPENDING'] }]);
  });

  it('leaves creation dates out, without calling ListSecretVersionIds, when told to', async () => {
    describes({ v1: ['AWSCURRENT'] });
    const withoutDates = new SecretsManagerSecretStore(new SecretsManagerClient({ region: 'eu-west-1' }), { versionDates: false });

    const described = await withoutDates.describe('smtp');

    expect(described.versions).toEqual([{ versionId: 'v1', stages: ['AWSCURRENT'] }]);
    expect(smMock.commandCalls(ListSecretVersionIdsCommand)).toHaveLength(0);
  });

  it('fails with SecretNotFoundError for a missing secret', async () => {
    smMock.on(DescribeSecretCommand).rejects(notFound());

    await expect(store.describe('nope')).rejects.toMatchObject({ name: 'SecretNotFoundError', secretId: 'nope' });
  });
});

describe('SecretsManagerSecretStore.getValue', () => {
  it('returns the value of a stage', async () => {
    smMock.on(GetSecretValueCommand, { SecretId: 'smtp', VersionStage: 'AWSCURRENT' }).resolves({ ARN, VersionId: 'v1', SecretString: '{"a":1}' });

    await expect(store.getValue('smtp', { stage: 'AWSCURRENT' })).resolves.toEqual({ versionId: 'v1', value: '{"a":1}' });
  });

  it('returns null for a pending placeholder that has no value yet', async () => {
    // Prepare: the secret exists, the version has no value.
    smMock.on(GetSecretValueCommand).rejects(notFound());
    describes({ v1: ['AWSCURRENT'], token: ['AWSPENDING'] });

    // Act
    const value = await store.getValue('smtp', { versionId: 'token', stage: 'AWSPENDING' });

    // Assess
    expect(value).toBeNull();
    expect(smMock.commandCalls(GetSecretValueCommand, { VersionId: 'token', VersionStage: 'AWSPENDING' })).toHaveLength(1);
  });

  it('fails with SecretNotFoundError when the secret itself is missing', async () => {
    smMock.on(GetSecretValueCommand).rejects(notFound());
    smMock.on(DescribeSecretCommand).rejects(notFound());

    await expect(store.getValue('nope', { stage: 'AWSCURRENT' })).rejects.toThrow(SecretNotFoundError);
  });

  it('fails with SecretMismatchError for a binary secret', async () => {
    smMock.on(GetSecretValueCommand).resolves({ ARN, VersionId: 'v1', SecretBinary: new Uint8Array([1, 2]) });

    await expect(store.getValue('smtp', { stage: 'AWSCURRENT' })).rejects.toThrow(SecretMismatchError);
  });

  it('maps throttling to TransientAwsError', async () => {
    smMock.on(GetSecretValueCommand).rejects(awsError('ThrottlingException'));

    await expect(store.getValue('smtp', { stage: 'AWSCURRENT' })).rejects.toThrow(TransientAwsError);
  });
});

describe('SecretsManagerSecretStore.putPending', () => {
  const SECRET_VALUE = '{"secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYSENTINEL"}';

  it('writes the value as AWSPENDING under the given ClientRequestToken', async () => {
    smMock.on(PutSecretValueCommand).resolves({ ARN, VersionId: 'rotation-1', VersionStages: ['AWSPENDING'] });

    const stored = await store.putPending('smtp', 'rotation-1', SECRET_VALUE);

    expect(stored).toEqual({ arn: ARN, versionId: 'rotation-1' });
    expect(smMock.commandCalls(PutSecretValueCommand, {
      SecretId: 'smtp',
      ClientRequestToken: 'rotation-1',
      SecretString: SECRET_VALUE,
      VersionStages: ['AWSPENDING'],
    })).toHaveLength(1);
  });

  it('fails with KeyStateConflictError when the token already holds another value', async () => {
    smMock.on(PutSecretValueCommand).rejects(
      new ResourceExistsException({ message: 'You cannot modify an existing version.', $metadata: {} }),
    );

    await expect(store.putPending('smtp', 'rotation-1', SECRET_VALUE)).rejects.toThrow(KeyStateConflictError);
  });

  it.each([
    ['InvalidRequestException', 400],
    ['InternalServiceError', 500],
    ['ValidationException', 400],
    ['ResourceExistsException', 400],
    ['AccessDeniedException', 403],
  ])('never puts the secret into the error when PutSecretValue fails with %s', async (code, status) => {
    // Prepare: an endpoint that echoes the request into its message.
    smMock.on(PutSecretValueCommand).rejects(awsError(code, status, `Bad SecretString ${SECRET_VALUE}`));

    // Act
    const error: unknown = await store.putPending('smtp', 'rotation-1', SECRET_VALUE).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    const text = `${(error as Error).name} ${(error as Error).message} ${String(error)} ${(error as Error).stack ?? ''}`;
    expect(text).not.toContain('SENTINEL');
    expect(text).not.toContain('wJalrXUtnFEMI');
  });
});

describe('SecretsManagerSecretStore.moveStage', () => {
  it('moves the stage from the version that holds it', async () => {
    describes({ old: ['AWSCURRENT'], new: ['AWSPENDING'] });
    smMock.on(UpdateSecretVersionStageCommand).resolves({ ARN });

    await store.moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    expect(smMock.commandCalls(UpdateSecretVersionStageCommand, {
      SecretId: 'smtp',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: 'new',
      RemoveFromVersionId: 'old',
    })).toHaveLength(1);
  });

  it('does nothing when the stage is already on the target version (re-run)', async () => {
    describes({ old: ['AWSPREVIOUS'], new: ['AWSCURRENT', 'AWSPENDING'] });

    await store.moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    expect(smMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  it('attaches a stage no version holds', async () => {
    describes({ old: ['AWSCURRENT'] });
    smMock.on(UpdateSecretVersionStageCommand).resolves({ ARN });

    await store.moveStage('smtp', 'AWSPENDING', 'new');

    const call = smMock.commandCalls(UpdateSecretVersionStageCommand)[0];
    expect(call?.args[0].input).toEqual({ SecretId: 'smtp', VersionStage: 'AWSPENDING', MoveToVersionId: 'new', RemoveFromVersionId: undefined });
  });

  it('fails with KeyStateConflictError when the stage is on another version than expected', async () => {
    describes({ someone: ['AWSCURRENT'], old: [], new: ['AWSPENDING'] });

    await expect(store.moveStage('smtp', 'AWSCURRENT', 'new', 'old')).rejects.toThrow(KeyStateConflictError);
    expect(smMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});

describe('SecretsManagerSecretStore.removeStage', () => {
  it('removes the stage from the version', async () => {
    describes({ old: ['AWSCURRENT'], token: ['AWSPENDING'] });
    smMock.on(UpdateSecretVersionStageCommand).resolves({ ARN });

    await store.removeStage('smtp', 'AWSPENDING', 'token');

    expect(smMock.commandCalls(UpdateSecretVersionStageCommand, {
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: 'token',
    })).toHaveLength(1);
  });

  it('does nothing when the version does not hold the stage (re-run)', async () => {
    describes({ old: ['AWSCURRENT'], token: [] });

    await store.removeStage('smtp', 'AWSPENDING', 'token');

    expect(smMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});

describe('SecretsManagerSecretStore stage changes whose answer is lost', () => {
  /** What Secrets Manager answers a RemoveFromVersionId that does not hold the label. */
  const refused = () => awsError('InvalidParameterException', 400, 'RemoveFromVersionId must be the version that has the label');
  const lost = () => socketError('ECONNRESET', 'socket hang up');

  /**
   * A secret's labels in a model that DescribeSecret reads and UpdateSecretVersionStage changes
   * as Secrets Manager does; `answers` says, call by call, what the caller gets after the change
   * (an error: the change happened, the answer was lost or the re-send refused) or instead of
   * it (`refuse-before`: refused, nothing changed).
   */
  function secretWithLabels(labels: Record<string, string[]>, answers: (Error | 'ok' | 'refuse-before')[]) {
    smMock.on(DescribeSecretCommand).callsFake(() => ({ ARN, Name: 'smtp', VersionIdsToStages: structuredClone(labels) }));
    smMock.on(UpdateSecretVersionStageCommand).callsFake((input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
      const answer = answers.shift() ?? 'ok';
      if (answer === 'refuse-before') throw refused();
      const { VersionStage: stage, MoveToVersionId: to, RemoveFromVersionId: from } = input;
      if (from !== undefined) labels[from] = (labels[from] ?? []).filter((s) => s !== stage);
      if (to !== undefined) labels[to] = [...(labels[to] ?? []), stage];
      if (answer !== 'ok') throw answer;
      return { ARN };
    });
    return labels;
  }

  it.each([
    ['the SDK re-sent it and Secrets Manager refused the re-send', refused()],
    ['the connection was reset', lost()],
  ])('moves a stage whose answer was lost because %s', async (_how, answer) => {
    // Prepare
    const labels = secretWithLabels({ old: ['AWSCURRENT'], new: ['AWSPENDING'] }, [answer]);

    // Act
    await store.moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    // Assess: the label moved once, and reading it again told the adapter so
    expect(labels).toEqual({ old: [], new: ['AWSPENDING', 'AWSCURRENT'] });
    expect(smMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    expect(smMock.commandCalls(DescribeSecretCommand)).toHaveLength(2);
  });

  it.each([
    ['the SDK re-sent it and Secrets Manager refused the re-send', refused()],
    ['the connection was reset', lost()],
  ])('removes a stage whose answer was lost because %s', async (_how, answer) => {
    // Prepare
    const labels = secretWithLabels({ old: ['AWSPREVIOUS'], token: ['AWSCURRENT', 'AWSPENDING'] }, [answer]);

    // Act
    await store.removeStage('smtp', 'AWSPENDING', 'token');

    // Assess
    expect(labels).toEqual({ old: ['AWSPREVIOUS'], token: ['AWSCURRENT'] });
    expect(smMock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
  });

  it('keeps a refusal that changed nothing as the terminal AwsRequestError, for a move and a removal', async () => {
    // Prepare
    const labels = secretWithLabels({ old: ['AWSCURRENT'], new: ['AWSPENDING'] }, ['refuse-before', 'refuse-before']);

    // Act
    const moveError: unknown = await store.moveStage('smtp', 'AWSCURRENT', 'new', 'old').catch((e: unknown) => e);
    const removalError: unknown = await store.removeStage('smtp', 'AWSPENDING', 'new').catch((e: unknown) => e);

    // Assess
    expect(moveError).toBeInstanceOf(AwsRequestError);
    expect(moveError).toMatchObject({ message: 'SecretsManager UpdateSecretVersionStage failed (InvalidParameterException)' });
    expect(removalError).toBeInstanceOf(AwsRequestError);
    expect(labels).toEqual({ old: ['AWSCURRENT'], new: ['AWSPENDING'] });
  });

  it('keeps a lost connection that changed nothing as TransientAwsError (the state machine retries)', async () => {
    // Prepare
    smMock.on(DescribeSecretCommand).resolves({ ARN, Name: 'smtp', VersionIdsToStages: { old: ['AWSCURRENT'], new: ['AWSPENDING'] } });
    smMock.on(UpdateSecretVersionStageCommand).rejects(socketError('ECONNREFUSED'));

    // Act
    const move = store.moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    // Assess
    await expect(move).rejects.toThrow(TransientAwsError);
  });

  it('fails with KeyStateConflictError when a refused move finds the stage on a third version', async () => {
    // Prepare: between the read and the move, someone else moved the label
    let reads = 0;
    smMock.on(DescribeSecretCommand).callsFake(() => {
      reads += 1;
      return { ARN, Name: 'smtp', VersionIdsToStages: reads === 1 ? { old: ['AWSCURRENT'], new: ['AWSPENDING'] } : { old: [], new: ['AWSPENDING'], other: ['AWSCURRENT'] } };
    });
    smMock.on(UpdateSecretVersionStageCommand).rejects(refused());

    // Act
    const move = store.moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    // Assess
    await expect(move).rejects.toThrow(KeyStateConflictError);
    await expect(move).rejects.toThrow("stage AWSCURRENT of secret 'smtp' is on version other, not on version old as expected");
  });

  it("keeps the call's own error when the labels cannot be read again", async () => {
    // Prepare
    smMock
      .on(DescribeSecretCommand)
      .resolvesOnce({ ARN, Name: 'smtp', VersionIdsToStages: { old: ['AWSCURRENT'], new: ['AWSPENDING'] } })
      .rejects(awsError('AccessDeniedException', 400));
    smMock.on(UpdateSecretVersionStageCommand).rejects(lost());

    // Act
    const move = store.moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    // Assess
    await expect(move).rejects.toThrow(TransientAwsError);
  });

  it('fails with SecretNotFoundError, without reading again, when the secret is gone', async () => {
    // Prepare
    describes({ old: ['AWSCURRENT'], new: ['AWSPENDING'] });
    smMock.on(UpdateSecretVersionStageCommand).rejects(notFound());

    // Act
    const move = store.moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    // Assess
    await expect(move).rejects.toThrow(SecretNotFoundError);
    expect(smMock.commandCalls(DescribeSecretCommand)).toHaveLength(1);
  });
});

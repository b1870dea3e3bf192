/**
 * SecretStore over AWS Secrets Manager (AWS SDK v3).
 *
 * Every write is idempotent: PutSecretValue is keyed by its ClientRequestToken (same token, same
 * value is ignored by Secrets Manager), and stage moves look at where the label is before moving
 * it (a re-run after a crash converges instead of failing) and again after a failed move (the
 * answer to a move that happened can be lost, and its re-send is refused).
 *
 * No SDK message reaches a keyrotate error: a PutSecretValue request carries the secret.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  paginateListSecretVersionIds,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsRequestError, KeyStateConflictError, SecretMismatchError, SecretNotFoundError } from '../core/errors';
import type { SecretStore, SecretVersion } from '../core/ports';
import { callAws, hasAwsErrorCode, toKeyRotateError } from './aws-errors';

/** Names a version, or none: a label may be on no version at all. */
function version(versionId: string | undefined): string {
  return versionId === undefined ? 'no version' : `version ${versionId}`;
}

function misplacedStage(
  secretId: string,
  stage: string,
  holder: string | undefined,
  expected: string | undefined,
  options?: { cause?: unknown },
): KeyStateConflictError {
  return new KeyStateConflictError(
    `stage ${stage} of secret '${secretId}' is on ${version(holder)}, not on ${version(expected)} as expected`,
    options,
  );
}

function notFound(secretId: string) {
  return (error: unknown) =>
    hasAwsErrorCode(error, 'ResourceNotFound') ? new SecretNotFoundError(secretId, { cause: error }) : undefined;
}

export interface SecretsManagerSecretStoreOptions {
  /**
   * Whether describe adds each version's creation date (ListSecretVersionIds). A step that never
   * reads the dates turns this off: one call less and no `secretsmanager:ListSecretVersionIds`
   * permission for its role.
   * @default true
   */
  readonly versionDates?: boolean;
}

export class SecretsManagerSecretStore implements SecretStore {
  private readonly versionDates: boolean;

  constructor(
    private readonly secretsManager: SecretsManagerClient,
    options: SecretsManagerSecretStoreOptions = {},
  ) {
    this.versionDates = options.versionDates ?? true;
  }

  /**
   * DescribeSecret is authoritative for the staging labels (it also lists the label-only version
   * Secrets Manager creates when a rotation starts); ListSecretVersionIds adds each creation date.
   */
  async describe(secretId: string): Promise<{ arn: string; name: string; versions: SecretVersion[] }> {
    const described = await this.describeOrNotFound(secretId);
    if (!described.ARN || !described.Name) throw new AwsRequestError('SecretsManager DescribeSecret', 'MissingField:ARN');
    const createdDates = this.versionDates ? await this.createdDates(secretId) : new Map<string, Date>();
    const versions = Object.entries(described.VersionIdsToStages ?? {}).map(([versionId, stages]) => {
      const createdDate = createdDates.get(versionId);
      return createdDate ? { versionId, stages: stages ?? [], createdDate } : { versionId, stages: stages ?? [] };
    });
    return { arn: described.ARN, name: described.Name, versions };
  }

  async getValue(
    secretId: string,
    selector: { versionId?: string; stage?: string },
  ): Promise<{ versionId: string; value: string } | null> {
    const operation = 'SecretsManager GetSecretValue';
    try {
      const result = await this.secretsManager.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionId: selector.versionId, VersionStage: selector.stage }),
      );
      if (!result.VersionId) throw new AwsRequestError(operation, 'MissingField:VersionId');
      if (result.SecretString === undefined) {
        throw new SecretMismatchError(
          `secret '${secretId}' version ${result.VersionId} holds binary data, not keyrotate's JSON value`,
        );
      }
      return { versionId: result.VersionId, value: result.SecretString };
    } catch (error) {
      if (!hasAwsErrorCode(error, 'ResourceNotFound')) throw toKeyRotateError(operation, error);
      // The same code means "no such secret" and "this version/stage has no value" (the
      // placeholder a rotation starts with): only the first is an error.
      await this.describeOrNotFound(secretId);
      return null;
    }
  }

  async putPending(secretId: string, versionId: string, value: string): Promise<{ arn: string; versionId: string }> {
    const operation = 'SecretsManager PutSecretValue';
    const result = await callAws(
      operation,
      () =>
        this.secretsManager.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: versionId,
            SecretString: value,
            VersionStages: ['AWSPENDING'],
          }),
        ),
      (error) => {
        if (hasAwsErrorCode(error, 'ResourceNotFound')) return new SecretNotFoundError(secretId, { cause: error });
        // Same token, different value: Secrets Manager never rewrites a version.
        if (hasAwsErrorCode(error, 'ResourceExists')) {
          return new KeyStateConflictError(
            `version ${versionId} of secret '${secretId}' already holds a different value; it is left unchanged`,
            { cause: error },
          );
        }
        return undefined;
      },
    );
    if (!result.ARN || !result.VersionId) throw new AwsRequestError(operation, 'MissingField:ARN');
    return { arn: result.ARN, versionId: result.VersionId };
  }

  async moveStage(secretId: string, stage: string, toVersionId: string, fromVersionId?: string): Promise<void> {
    const holder = await this.stageHolder(secretId, stage);
    // Already done (a re-run): no call, and none that Secrets Manager would refuse.
    if (holder === toVersionId) return;
    if (holder !== undefined && fromVersionId !== undefined && holder !== fromVersionId) {
      throw misplacedStage(secretId, stage, holder, fromVersionId);
    }
    await this.updateStage(
      secretId,
      stage,
      // Secrets Manager refuses to move a label without naming the version that holds it.
      { MoveToVersionId: toVersionId, RemoveFromVersionId: holder },
      (now) => now === toVersionId,
    );
  }

  async removeStage(secretId: string, stage: string, fromVersionId: string): Promise<void> {
    if ((await this.stageHolder(secretId, stage)) !== fromVersionId) return;
    await this.updateStage(secretId, stage, { RemoveFromVersionId: fromVersionId }, (now) => now !== fromVersionId);
  }

  /**
   * One UpdateSecretVersionStage, judged by its effect when it fails. The answer to a call that
   * did move the label can be lost; the SDK's retry (or the step's re-run) then names a
   * RemoveFromVersionId that no longer holds the label, and Secrets Manager refuses it with
   * InvalidParameterException although the work is done. So after any failure but a missing
   * secret the labels are read again: `done(holder)` is success; a refusal while the label sits
   * where this call did not expect it is a KeyStateConflictError (someone else moved it);
   * otherwise the call's own error stands (a transient one is retried by the state machine).
   */
  private async updateStage(
    secretId: string,
    stage: string,
    change: { MoveToVersionId?: string; RemoveFromVersionId: string | undefined },
    done: (holder: string | undefined) => boolean,
  ): Promise<void> {
    try {
      await this.secretsManager.send(
        new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: stage, ...change }),
      );
    } catch (error) {
      const failure = notFound(secretId)(error) ?? toKeyRotateError('SecretsManager UpdateSecretVersionStage', error);
      if (failure instanceof SecretNotFoundError) throw failure;
      let holder: string | undefined;
      try {
        holder = await this.stageHolder(secretId, stage);
      } catch {
        // The labels cannot be read now: the call's own error says more.
        throw failure;
      }
      if (done(holder)) return;
      if (hasAwsErrorCode(error, 'InvalidParameter') && holder !== change.RemoveFromVersionId) {
        throw misplacedStage(secretId, stage, holder, change.RemoveFromVersionId, { cause: error });
      }
      throw failure;
    }
  }

  private async stageHolder(secretId: string, stage: string): Promise<string | undefined> {
    const described = await this.describeOrNotFound(secretId);
    return Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages?.includes(stage))?.[0];
  }

  private describeOrNotFound(secretId: string) {
    return callAws(
      'SecretsManager DescribeSecret',
      () => this.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId })),
      notFound(secretId),
    );
  }

  private async createdDates(secretId: string): Promise<Map<string, Date>> {
    const dates = new Map<string, Date>();
    try {
      const pages = paginateListSecretVersionIds(
        { client: this.secretsManager },
        { SecretId: secretId, IncludeDeprecated: false },
      );
      for await (const page of pages) {
        for (const version of page.Versions ?? []) {
          if (version.VersionId && version.CreatedDate) dates.set(version.VersionId, version.CreatedDate);
        }
      }
    } catch (error) {
      throw notFound(secretId)(error) ?? toKeyRotateError('SecretsManager ListSecretVersionIds', error);
    }
    return dates;
  }
}

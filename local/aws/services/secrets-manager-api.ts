import { randomUUID } from 'node:crypto';
import { describeError } from '../../../lambdas/core/errors';
import { AwsError } from '../errors';
import type { JsonOperation } from '../protocol/context';
import type { JsonInput } from '../protocol/input';
import { decodePageToken, encodePageToken } from '../util';
import { type RotationRules, type Secret, type SecretVersion, type SecretsModel, smInvalid } from './secrets-manager';

/** The event Secrets Manager sends a rotation function, one per step. */
export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  /** The secret's ARN. */
  readonly SecretId: string;
  /** The version id of the new (AWSPENDING) version. */
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

export type RotationFunction = (event: RotationEvent) => Promise<void>;

/** One RotateSecret run, kept for tests (identifiers only, never a secret value). */
export interface RotationRecord {
  readonly secretArn: string;
  readonly clientRequestToken: string;
  readonly rotateImmediately: boolean;
  readonly steps: { readonly step: RotationEvent['Step']; readonly ok: boolean; readonly error?: string }[];
  readonly outcome: 'succeeded' | 'failed';
}

/**
 * What RotateSecret answers when a step fails. AWS rotates asynchronously: RotateSecret has
 * already succeeded when the function fails. Here the rotation runs inside the call, so by
 * default the failure is returned to the caller (`'error'`, easier to see in tests and demos);
 * `'succeed'` answers as AWS would and leaves the failure to the call log and `rotations()`.
 */
export type RotationFailureMode = 'error' | 'succeed';

const IMMEDIATE_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export class RotationFunctions {
  private readonly functions = new Map<string, RotationFunction>();
  readonly records: RotationRecord[] = [];

  /** Wires a rotation Lambda (by ARN or function name) to a local function. */
  register(arnOrName: string, fn: RotationFunction): void {
    this.functions.set(arnOrName, fn);
  }

  find(lambdaArn: string): RotationFunction | undefined {
    const name = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(lambdaArn)?.[1];
    return this.functions.get(lambdaArn) ?? (name === undefined ? undefined : this.functions.get(name));
  }
}

function rotationRules(input: JsonInput): RotationRules | undefined {
  const rules = input.struct('RotationRules');
  if (!rules) return undefined;
  const out: RotationRules = {};
  const days = rules.integer('AutomaticallyAfterDays');
  const duration = rules.string('Duration');
  const schedule = rules.string('ScheduleExpression');
  if (days !== undefined) out.AutomaticallyAfterDays = days;
  if (duration !== undefined) out.Duration = duration;
  if (schedule !== undefined) out.ScheduleExpression = schedule;
  return out;
}

function versionStagesMap(secret: Secret): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const v of secret.versions) if (v.stages.length > 0) map[v.versionId] = [...v.stages];
  return map;
}

export function secretsManagerApi(model: SecretsModel, rotations: RotationFunctions, failureMode: () => RotationFailureMode): Record<string, JsonOperation> {
  const valueView = (secret: Secret, version: SecretVersion) => ({
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
    ...(version.secretBinary !== undefined ? { SecretBinary: version.secretBinary } : {}),
    VersionStages: [...version.stages],
    CreatedDate: version.createdDate,
  });

  async function rotate(input: JsonInput) {
    const secret = model.resolve(input.requiredString('SecretId'));
    const lambdaArn = input.string('RotationLambdaARN') ?? secret.rotation.lambdaArn;
    if (lambdaArn === undefined) {
      throw new AwsError('InvalidRequestException', `No Lambda rotation function ARN is associated with secret ${secret.name}.`, 400);
    }
    const fn = rotations.find(lambdaArn);
    if (!fn) {
      throw new AwsError(
        'InvalidRequestException',
        `The local endpoint has no function wired for rotation Lambda ${lambdaArn}; register one with registerRotationFunction().`,
        400,
      );
    }
    const token = input.string('ClientRequestToken') ?? randomUUID();
    const pending = model.pendingRotation(secret);
    // A rotation whose AWSPENDING version is not AWSCURRENT yet is unfinished; only the same
    // token (a retry of that rotation) may run it again.
    if (pending && pending.versionId !== token) {
      throw new AwsError('InvalidRequestException', "A previous rotation isn't complete. That rotation will be reattempted.", 400);
    }
    const rotateImmediately = input.boolean('RotateImmediately') ?? true;
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing && existing.stages.includes('AWSCURRENT')) {
      // The rotation named by this token already finished: a retried call changes nothing.
      return { ARN: secret.arn, Name: secret.name, VersionId: token };
    }
    model.beginRotation(secret, { token, lambdaArn, rules: rotationRules(input) });

    const steps = rotateImmediately ? IMMEDIATE_STEPS : (['testSecret'] as const);
    const record: RotationRecord = { secretArn: secret.arn, clientRequestToken: token, rotateImmediately, steps: [], outcome: 'succeeded' };
    let failure: { step: string; error: string } | undefined;
    try {
      for (const step of steps) {
        try {
          await fn({ Step: step, SecretId: secret.arn, ClientRequestToken: token, RotationToken: randomUUID() });
          record.steps.push({ step, ok: true });
        } catch (error) {
          // The rotation stops at the failed step; AWSPENDING stays where it is, as in AWS.
          failure = { step, error: describeError(error).slice(0, 500) };
          record.steps.push({ step, ok: false, error: failure.error });
          break;
        }
      }
    } finally {
      // The test rotation (RotateImmediately=false) creates AWSPENDING and removes it again.
      if (!rotateImmediately) model.discardPlaceholder(secret, token);
    }
    rotations.records.push({ ...record, outcome: failure ? 'failed' : 'succeeded' });
    if (!failure && rotateImmediately) model.markRotated(secret);
    if (failure && failureMode() === 'error') {
      throw new AwsError('InvalidRequestException', `Rotation of secret ${secret.name} failed at step ${failure.step}: ${failure.error}`, 400);
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  return {
    CreateSecret: (input) => {
      const { secret, version } = model.create({
        name: input.requiredString('Name'),
        description: input.string('Description'),
        kmsKeyId: input.string('KmsKeyId'),
        tags: input.tags('Tags'),
        secretString: input.string('SecretString'),
        secretBinary: input.blob('SecretBinary'),
        clientRequestToken: input.string('ClientRequestToken'),
      });
      return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
    },

    DescribeSecret: (input) => {
      const secret = model.resolve(input.requiredString('SecretId'), { allowDeleted: true });
      return {
        ARN: secret.arn,
        Name: secret.name,
        Description: secret.description,
        KmsKeyId: secret.kmsKeyId,
        RotationEnabled: secret.rotation.enabled,
        RotationLambdaARN: secret.rotation.lambdaArn,
        RotationRules: secret.rotation.rules,
        LastRotatedDate: secret.lastRotatedDate,
        LastChangedDate: secret.lastChangedDate,
        LastAccessedDate: secret.lastAccessedDate,
        DeletedDate: secret.deletedDate,
        NextRotationDate: model.nextRotationDate(secret),
        Tags: secret.tags.length > 0 ? secret.tags : undefined,
        VersionIdsToStages: versionStagesMap(secret),
        CreatedDate: secret.createdDate,
      };
    },

    GetSecretValue: (input) => {
      const { secret, version } = model.readValue(input.requiredString('SecretId'), input.string('VersionId'), input.string('VersionStage'));
      return valueView(secret, version);
    },

    PutSecretValue: (input) => {
      const { secret, version } = model.putValue({
        secretId: input.requiredString('SecretId'),
        clientRequestToken: input.string('ClientRequestToken'),
        secretString: input.string('SecretString'),
        secretBinary: input.blob('SecretBinary'),
        versionStages: input.stringList('VersionStages'),
      });
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
    },

    UpdateSecretVersionStage: (input) => {
      const secret = model.updateVersionStage({
        secretId: input.requiredString('SecretId'),
        versionStage: input.requiredString('VersionStage'),
        moveToVersionId: input.string('MoveToVersionId'),
        removeFromVersionId: input.string('RemoveFromVersionId'),
      });
      return { ARN: secret.arn, Name: secret.name };
    },

    ListSecretVersionIds: (input) => {
      const { secret, versions } = model.listVersions(input.requiredString('SecretId'), input.boolean('IncludeDeprecated') ?? false);
      const maxResults = input.integer('MaxResults') ?? 100;
      if (maxResults < 1 || maxResults > 100) throw smInvalid('MaxResults must be between 1 and 100.');
      const nextToken = input.string('NextToken');
      const start = nextToken === undefined ? 0 : decodePageToken(nextToken);
      if (start === undefined) throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.', 400);
      const slice = versions.slice(start, start + maxResults);
      return {
        Versions: slice.map((v) => ({
          VersionId: v.versionId,
          VersionStages: [...v.stages],
          LastAccessedDate: v.lastAccessedDate,
          CreatedDate: v.createdDate,
        })),
        NextToken: start + maxResults < versions.length ? encodePageToken(start + maxResults) : undefined,
        ARN: secret.arn,
        Name: secret.name,
      };
    },

    DeleteSecret: (input) => {
      const { secret, deletionDate } = model.delete(input.requiredString('SecretId'), {
        recoveryWindowInDays: input.integer('RecoveryWindowInDays'),
        force: input.boolean('ForceDeleteWithoutRecovery') ?? false,
      });
      return { ARN: secret.arn, Name: secret.name, DeletionDate: deletionDate };
    },

    RestoreSecret: (input) => {
      const secret = model.restore(input.requiredString('SecretId'));
      return { ARN: secret.arn, Name: secret.name };
    },

    RotateSecret: rotate,
  };
}


import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type LocalAws, type RotationEvent, startLocalAws } from '../../../local/aws';
import { caught, clientConfig } from './helpers';

const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function:keyrotate-rotation';
const CURRENT_VERSION = '11111111-1111-4111-8111-111111111111';

describe('local AWS endpoint: Secrets Manager rotation', () => {
  let aws: LocalAws;
  let sm: SecretsManagerClient;

  beforeEach(async () => {
    aws = await startLocalAws();
    sm = new SecretsManagerClient(clientConfig(aws));
    await sm.send(new CreateSecretCommand({ Name: 'mailer', SecretString: 'v1', ClientRequestToken: CURRENT_VERSION }));
  });

  afterEach(async () => {
    sm.destroy();
    await aws.stop();
  });

  /** A rotation function written against the real API, as a Lambda would be. */
  function textbookRotation(seen: { step: string; stagesAtStep: Record<string, string[]> | undefined; pendingRead?: string }[]) {
    return async (event: RotationEvent) => {
      const described = await sm.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
      const entry: (typeof seen)[number] = { step: event.Step, stagesAtStep: described.VersionIdsToStages };
      seen.push(entry);
      if (event.Step === 'createSecret') {
        // Idempotent, as rotation functions must be: a pending value already stored is kept.
        try {
          await sm.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }));
          entry.pendingRead = 'found';
          return;
        } catch (error) {
          entry.pendingRead = (error as Error).name;
        }
        await sm.send(new PutSecretValueCommand({ SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: 'v2', VersionStages: ['AWSPENDING'] }));
      }
      if (event.Step === 'finishSecret') {
        const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
        await sm.send(new UpdateSecretVersionStageCommand({ SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, RemoveFromVersionId: current }));
      }
    };
  }

  it('runs createSecret, setSecret, testSecret, finishSecret in order, with the AWSPENDING placeholder (no value) in place at createSecret', async () => {
    // Prepare
    const seen: Parameters<typeof textbookRotation>[0] = [];
    const events: RotationEvent[] = [];
    const rotate = textbookRotation(seen);
    aws.registerRotationFunction(LAMBDA, async (event) => {
      events.push(event);
      await rotate(event);
    });

    // Act
    const result = await sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } }));
    const after = await sm.send(new DescribeSecretCommand({ SecretId: 'mailer' }));
    const value = await sm.send(new GetSecretValueCommand({ SecretId: 'mailer' }));

    // Assess
    const token = result.VersionId ?? '';
    expect(events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(events.every((e) => e.SecretId === result.ARN && e.ClientRequestToken === token)).toBe(true);
    expect(seen[0]?.stagesAtStep).toEqual({ [CURRENT_VERSION]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    expect(seen[0]?.pendingRead).toBe('ResourceNotFoundException');
    expect(after.VersionIdsToStages).toEqual({ [CURRENT_VERSION]: ['AWSPREVIOUS'], [token]: ['AWSPENDING', 'AWSCURRENT'] });
    expect(after).toMatchObject({ RotationEnabled: true, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(after.LastRotatedDate).toBeInstanceOf(Date);
    expect((after.NextRotationDate?.getTime() ?? 0) - (after.LastRotatedDate?.getTime() ?? 0)).toBe(30 * 86_400_000);
    expect(value.SecretString).toBe('v2');
    expect(aws.secretsManager.rotations()).toEqual([expect.objectContaining({ clientRequestToken: token, outcome: 'succeeded', rotateImmediately: true })]);
  });

  it('runs only testSecret when RotateImmediately is false, and removes the placeholder afterwards', async () => {
    // Prepare
    const seen: Parameters<typeof textbookRotation>[0] = [];
    aws.registerRotationFunction(LAMBDA, textbookRotation(seen));

    // Act
    const result = await sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA, RotateImmediately: false, RotationRules: { AutomaticallyAfterDays: 7 } }));
    const after = await sm.send(new DescribeSecretCommand({ SecretId: 'mailer' }));

    // Assess
    expect(seen.map((s) => s.step)).toEqual(['testSecret']);
    expect(seen[0]?.stagesAtStep).toEqual({ [CURRENT_VERSION]: ['AWSCURRENT'], [result.VersionId ?? '']: ['AWSPENDING'] });
    expect(after.VersionIdsToStages).toEqual({ [CURRENT_VERSION]: ['AWSCURRENT'] });
    expect(after.RotationEnabled).toBe(true);
    expect(after.LastRotatedDate).toBeUndefined();
  });

  it('finds a function registered by name from the Lambda ARN', async () => {
    // Prepare
    const steps: string[] = [];
    aws.registerRotationFunction('keyrotate-rotation', async (event) => {
      steps.push(event.Step);
    });

    // Act
    await sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA, RotateImmediately: false }));

    // Assess
    expect(steps).toEqual(['testSecret']);
  });

  it('fails with InvalidRequestException and changes nothing when no local function is wired', async () => {
    // Act
    const error = await caught(() => sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA })));
    const after = await sm.send(new DescribeSecretCommand({ SecretId: 'mailer' }));

    // Assess
    expect(error.name).toBe('InvalidRequestException');
    expect(error.message).toContain('registerRotationFunction');
    expect(after.RotationEnabled).toBe(false);
    expect(after.VersionIdsToStages).toEqual({ [CURRENT_VERSION]: ['AWSCURRENT'] });
  });

  it('stops at a failing step, returns the error, keeps AWSPENDING, and refuses a new rotation until that one is retried', async () => {
    // Prepare
    let failSetSecret = true;
    const steps: string[] = [];
    const rotate = textbookRotation([]);
    aws.registerRotationFunction(LAMBDA, async (event) => {
      steps.push(event.Step);
      if (event.Step === 'setSecret' && failSetSecret) throw new TypeError('service refused the new key');
      await rotate(event);
    });
    const token = '22222222-2222-4222-8222-222222222222';

    // Act
    const failed = await caught(() => sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA, ClientRequestToken: token })));
    const stagesAfterFailure = (await sm.send(new DescribeSecretCommand({ SecretId: 'mailer' }))).VersionIdsToStages;
    const another = await caught(() => sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA })));
    failSetSecret = false;
    await sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA, ClientRequestToken: token }));

    // Assess
    expect(failed.name).toBe('InvalidRequestException');
    expect(failed.message).toContain('failed at step setSecret: TypeError: service refused the new key');
    expect(stagesAfterFailure).toEqual({ [CURRENT_VERSION]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
    expect(another.name).toBe('InvalidRequestException');
    expect(another.message).toBe("A previous rotation isn't complete. That rotation will be reattempted.");
    expect(steps).toEqual(['createSecret', 'setSecret', 'createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(aws.secretsManager.rotations().map((r) => r.outcome)).toEqual(['failed', 'succeeded']);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'mailer' }))).VersionId).toBe(token);
  });

  it('answers success as AWS does when configured with rotationFailure "succeed", recording the failure', async () => {
    // Prepare
    aws.setRotationFailureMode('succeed');
    aws.registerRotationFunction(LAMBDA, async (event) => {
      if (event.Step === 'createSecret') throw new Error('boom');
    });

    // Act
    const result = await sm.send(new RotateSecretCommand({ SecretId: 'mailer', RotationLambdaARN: LAMBDA }));

    // Assess
    expect(result.VersionId).toBeDefined();
    expect(aws.secretsManager.rotations()[0]).toMatchObject({ outcome: 'failed', steps: [{ step: 'createSecret', ok: false, error: 'Error: boom' }] });
  });
});

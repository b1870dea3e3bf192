/**
 * The local rotation engine: keyrotate's state machine and Lambdas, as `cdk synth` would
 * produce them, run on this machine.
 *
 * 1. Synthesize (or reuse from the cache) a one-stack CDK app holding the shipped
 *    `AccessKeyRotation` construct, with its Lambdas bundled by esbuild.
 * 2. "Deploy" the stateful resources the Lambdas need to the AWS endpoint: the KMS key, the lock
 *    table and the configured secrets are created there (the embedded endpoint, or the one
 *    AWS_ENDPOINT_URL names), and the template's Refs resolve to them.
 * 3. Register every function's bundle (asset.<hash>/index.js) with the local Lambda runtime,
 *    with the environment the construct sets plus the endpoint, region and credentials.
 * 4. Run the state machine definition taken from the template on aws-local-stepfunctions, each
 *    Task wired to its function; wire the Secrets Manager rotation function to the endpoint's
 *    RotateSecret.
 */
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, DescribeSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { UserScope } from '../../lambdas/core/types';
import type { LocalAws, LocalAwsOptions } from '../aws';
import type { ExecutionResult } from './events';
import { type InvocationReport, LambdaFunctionError, type LocalFunction, LocalLambdaRuntime } from './lambda-runtime';
import { type LambdaLogSink, MemoryLogSink } from './log-sink';
import { projectRoot } from './paths';
import { type LocalExecution, LocalStateMachine, type StartOptions, type WaitOverrides } from './state-machine';
import { synthesize, type SynthResult } from './synth';
import {
  type CfnTemplate,
  lambdaFunctions,
  localPhysicalResources,
  type PhysicalResource,
  type ResolveContext,
  resolveIntrinsics,
  resourcesOfType,
  schedules,
  stateMachineDefinition,
  type TemplateSchedule,
} from './template';

/** A user the local stack is configured with (the construct's `users`). */
export interface EngineUser {
  readonly userName: string;
  /** A secret of the local stack (created on the endpoint if missing), or a PGP key. */
  readonly delivery: { readonly secretName: string } | { readonly pgpKey: string };
  /** EventBridge Scheduler expression, e.g. `rate(30 days)`; absent: on demand only. */
  readonly schedule?: string;
  readonly sesSmtpRegions?: readonly string[];
  readonly newKeyStatus?: 'Active' | 'Inactive';
}

/** A secret rotated by Secrets Manager through the construct's rotation Lambda. */
export interface EngineSecretRotation {
  readonly secretName: string;
  readonly userName: string;
  /** @default 'deactivate' */
  readonly oldKeyAction?: 'delete' | 'deactivate';
  /** @default 30 */
  readonly automaticallyAfterDays?: number;
}

/** The construct's configuration in the local stack: plain JSON (it is part of the cache key). */
export interface EngineStackConfig {
  /** @default { pathPrefix: '/' } - every user of the local account */
  readonly scope?: UserScope;
  readonly users?: readonly EngineUser[];
  /** Further secrets on-demand rotations deliver to (created on the endpoint if missing). */
  readonly secretNames?: readonly string[];
  readonly secretRotations?: readonly EngineSecretRotation[];
  /** @default 0 */
  readonly gracePeriodSeconds?: number;
  /** @default 0 */
  readonly deletionDelaySeconds?: number;
  /** @default 'delete' */
  readonly oldKeyAction?: 'delete' | 'deactivate';
  /** @default - the construct's default (the region, when it has SES SMTP) */
  readonly defaultSesSmtpRegions?: readonly string[];
  /** VerifyNewKey's retry window. @default 20 */
  readonly verifyWindowSeconds?: number;
}

export interface LocalRotationEngineOptions {
  readonly stack?: EngineStackConfig;
  /** Where AWS_ENDPOINT_URL, AWS_REGION and credentials are read from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * `embedded`: always start the embedded endpoint. A URL: use it. @default AWS_ENDPOINT_URL
   * when set, else the embedded endpoint.
   */
  readonly endpoint?: string;
  /** Options for the embedded endpoint (propagation delay, …). */
  readonly embedded?: Partial<LocalAwsOptions>;
  /** @default the embedded endpoint's region, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1 */
  readonly region?: string;
  /** Shortened Wait states (demos, tests). @default real durations */
  readonly waits?: WaitOverrides;
  /** Pause before Task retries, instead of the definition's backoff (tests). */
  readonly retryIntervalMs?: number;
  /** Added to every function's environment (e.g. a shorter KEYROTATE_VERIFY_SECONDS in tests). */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Also receives every Lambda log line (e.g. stderr for --verbose). */
  readonly forwardLogs?: LambdaLogSink;
  readonly onInvocation?: (report: InvocationReport) => void;
  /** Called after each step the rotation Lambda runs for RotateSecret (embedded endpoint). */
  readonly onRotationStep?: (step: RotationStepReport) => void;
  readonly cacheDirectory?: string;
  readonly useCache?: boolean;
}

export interface RotationStepReport {
  readonly step: string;
  readonly secretId: string;
  readonly ok: boolean;
  readonly errorType?: string;
  readonly durationMs: number;
}

/** The logical ids the engine needs, recorded at synthesis (a cache hit does not construct). */
interface EngineMetadata {
  readonly stateMachine: string;
  readonly functions: Record<string, string>;
  /** Logical ids of the Secrets Manager rotation functions. */
  readonly rotationFunctions: string[];
  readonly secrets: Record<string, string>;
}

export const LOCAL_STACK_NAME = 'KeyRotateLocal';
/** Credentials of the endpoint's administrator (any key that is not an IAM user's key). */
const ADMIN_CREDENTIALS = { accessKeyId: 'AKIALOCALADMIN000000', secretAccessKey: 'local-admin-secret-not-a-real-key' };

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Builds the local stack: the shipped construct, configured from EngineStackConfig. */
async function buildStack(stack: Stack, config: EngineStackConfig): Promise<EngineMetadata> {
  const { Duration } = await import('aws-cdk-lib');
  const { Secret } = await import('aws-cdk-lib/aws-secretsmanager');
  const { ScheduleExpression } = await import('aws-cdk-lib/aws-scheduler');
  const { AccessKeyRotation } = await import('../../infra/access-key-rotation');

  const secrets = new Map<string, InstanceType<typeof Secret>>();
  const secretOf = (name: string) => {
    let secret = secrets.get(name);
    if (!secret) {
      secret = new Secret(stack, `Secret${secrets.size + 1}`, { secretName: name });
      secrets.set(name, secret);
    }
    return secret;
  };
  const users = (config.users ?? []).map((u) => ({
    userName: u.userName,
    delivery: 'secretName' in u.delivery ? { secret: secretOf(u.delivery.secretName) } : { pgpKey: u.delivery.pgpKey },
    ...(u.schedule !== undefined ? { schedule: ScheduleExpression.expression(u.schedule) } : {}),
    ...(u.sesSmtpRegions !== undefined ? { sesSmtpRegions: [...u.sesSmtpRegions] } : {}),
    ...(u.newKeyStatus !== undefined ? { newKeyStatus: u.newKeyStatus } : {}),
  }));
  const extraSecrets = [...(config.secretNames ?? []), ...(config.secretRotations ?? []).map((r) => r.secretName)].map(secretOf);
  const rotation = new AccessKeyRotation(stack, 'KeyRotation', {
    users,
    scope: config.scope
      ? {
          ...(config.scope.userNames ? { userNames: [...config.scope.userNames] } : {}),
          ...(config.scope.pathPrefix !== undefined ? { pathPrefix: config.scope.pathPrefix } : {}),
          ...(config.scope.tag ? { tag: config.scope.tag } : {}),
        }
      : { pathPrefix: '/' },
    gracePeriod: Duration.seconds(config.gracePeriodSeconds ?? 0),
    deletionDelay: Duration.seconds(config.deletionDelaySeconds ?? 0),
    ...(config.oldKeyAction !== undefined ? { oldKeyAction: config.oldKeyAction } : {}),
    ...(config.defaultSesSmtpRegions !== undefined ? { defaultSesSmtpRegions: [...config.defaultSesSmtpRegions] } : {}),
    ...(config.verifyWindowSeconds !== undefined ? { verifyWindow: Duration.seconds(config.verifyWindowSeconds) } : {}),
    secrets: extraSecrets,
  });
  for (const r of config.secretRotations ?? []) {
    rotation.addSecretsManagerRotation(secretOf(r.secretName), {
      userName: r.userName,
      automaticallyAfter: Duration.days(r.automaticallyAfterDays ?? 30),
      ...(r.oldKeyAction !== undefined ? { oldKeyAction: r.oldKeyAction } : {}),
    });
  }
  return {
    stateMachine: logicalIdOf(stack, rotation.stateMachine),
    functions: Object.fromEntries(Object.entries(rotation.functions).map(([name, fn]) => [name, logicalIdOf(stack, fn)])),
    rotationFunctions: rotation.rotationFunctions.map((fn) => logicalIdOf(stack, fn)),
    secrets: Object.fromEntries([...secrets].map(([name, secret]) => [name, logicalIdOf(stack, secret)])),
  };
}

interface SdkConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

/** Creates (or finds, on a long-lived endpoint) the resources the Lambdas use at run time. */
async function provision(template: CfnTemplate, sdk: SdkConfig, stackName: string): Promise<Record<string, PhysicalResource>> {
  const physical: Record<string, PhysicalResource> = {};
  const kms = new KMSClient(sdk);
  const dynamodb = new DynamoDBClient(sdk);
  const secretsManager = new SecretsManagerClient(sdk);
  try {
    for (const [logicalId] of resourcesOfType(template, 'AWS::KMS::Key')) {
      // An alias per key, so a long-lived endpoint (keyrotate local-aws) reuses it across runs.
      const alias = `alias/keyrotate-local/${stackName}-${logicalId}`;
      let keyId: string | undefined;
      let arn: string | undefined;
      try {
        const found = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
        keyId = found.KeyMetadata?.KeyId;
        arn = found.KeyMetadata?.Arn;
      } catch (error) {
        if ((error as { name?: string }).name !== 'NotFoundException') throw error;
      }
      if (!keyId) {
        const created = await kms.send(new CreateKeyCommand({ Description: `keyrotate local engine: ${logicalId}` }));
        keyId = created.KeyMetadata?.KeyId ?? '';
        arn = created.KeyMetadata?.Arn ?? '';
        await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
      }
      physical[logicalId] = { ref: keyId, attributes: { Arn: arn ?? '', KeyId: keyId } };
    }
    for (const [logicalId, resource] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
      const props = resource.Properties ?? {};
      const tableName = typeof props.TableName === 'string' ? props.TableName : `${stackName}-${logicalId}`;
      let arn: string | undefined;
      try {
        arn = (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableArn;
      } catch (error) {
        if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
        const created = await dynamodb.send(
          new CreateTableCommand({
            TableName: tableName,
            KeySchema: props.KeySchema as never,
            AttributeDefinitions: props.AttributeDefinitions as never,
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        arn = created.TableDescription?.TableArn;
        const ttl = (props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined) ?? undefined;
        if (ttl?.AttributeName && ttl.Enabled) {
          await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true } }));
        }
      }
      physical[logicalId] = { ref: tableName, attributes: { Arn: arn ?? '' } };
    }
    for (const [logicalId, resource] of resourcesOfType(template, 'AWS::SecretsManager::Secret')) {
      const name = resource.Properties?.Name;
      if (typeof name !== 'string') continue;
      let arn: string | undefined;
      try {
        arn = (await secretsManager.send(new DescribeSecretCommand({ SecretId: name }))).ARN;
      } catch (error) {
        if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
        // No value: the first rotation stores the first version (AWSPENDING, then AWSCURRENT).
        arn = (await secretsManager.send(new CreateSecretCommand({ Name: name, Description: 'keyrotate local engine' }))).ARN;
      }
      physical[logicalId] = { ref: arn ?? '', attributes: { Id: arn ?? '' } };
    }
  } finally {
    kms.destroy();
    dynamodb.destroy();
    secretsManager.destroy();
  }
  return physical;
}

export class LocalRotationEngine {
  private constructor(
    /** The AWS endpoint the Lambdas talk to. */
    readonly endpoint: string,
    readonly region: string,
    readonly accountId: string,
    /** The embedded endpoint, when the engine started it (null with AWS_ENDPOINT_URL). */
    readonly localAws: LocalAws | null,
    readonly synth: SynthResult,
    readonly runtime: LocalLambdaRuntime,
    readonly logs: MemoryLogSink,
    readonly stateMachine: LocalStateMachine,
    readonly stateMachineArn: string,
    readonly stateNames: readonly string[],
    private readonly resolve: ResolveContext,
    private readonly secretArns: Readonly<Record<string, string>>,
    /** Rotation function ARNs (Secrets Manager rotation). */
    readonly rotationFunctionArns: readonly string[],
    /** SDK client configuration for the endpoint (admin credentials). */
    readonly sdkConfig: SdkConfig,
    /** How long starting took: synthesis (or cache), endpoint, provisioning, wiring. */
    readonly startupMs: number,
  ) {}

  static async start(options: LocalRotationEngineOptions = {}): Promise<LocalRotationEngine> {
    const started = Date.now();
    const env = options.env ?? process.env;
    const externalEndpoint = options.endpoint === 'embedded' ? undefined : (options.endpoint ?? env.AWS_ENDPOINT_URL);
    let localAws: LocalAws | null = null;
    let endpoint: string;
    let region: string;
    let credentials: SdkConfig['credentials'];
    if (externalEndpoint) {
      endpoint = externalEndpoint;
      region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
      credentials =
        env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
          : ADMIN_CREDENTIALS;
    } else {
      const { startLocalAws } = await import('../aws');
      localAws = await startLocalAws({ ...(options.region ? { region: options.region } : {}), ...options.embedded });
      endpoint = localAws.endpoint;
      region = localAws.region;
      credentials = ADMIN_CREDENTIALS;
    }
    const sdkConfig: SdkConfig = { endpoint, region, credentials };
    try {
      const sts = new STSClient(sdkConfig);
      const accountId = (await sts.send(new GetCallerIdentityCommand({}))).Account ?? '000000000000';
      sts.destroy();

      const config = options.stack ?? {};
      const root = projectRoot();
      const synth = await synthesize({
        stackName: LOCAL_STACK_NAME,
        // A concrete region: the construct then decides region-dependent values at synthesis.
        region,
        build: (stack) => buildStack(stack, config),
        cacheKey: { config, region },
        // local/engine too: buildStack (here) shapes the app and the metadata kept with it.
        sourceDirectories: [path.join(root, 'lambdas'), path.join(root, 'infra'), path.join(root, 'local', 'engine')],
        ...(options.cacheDirectory ? { cacheDirectory: options.cacheDirectory } : {}),
        ...(options.useCache !== undefined ? { useCache: options.useCache } : {}),
      });
      const metadata = synth.metadata as EngineMetadata;
      const base = { accountId, region, partition: 'aws', stackName: LOCAL_STACK_NAME };
      const provisioned = await provision(synth.template, sdkConfig, LOCAL_STACK_NAME);
      const resources = localPhysicalResources(synth.template, base, provisioned);
      const resolve: ResolveContext = { ...base, resources };

      const logs = new MemoryLogSink(100_000, options.forwardLogs);
      const lambdaRuntime = new LocalLambdaRuntime({
        logSink: logs,
        baseEnvironment: {
          ...passThroughEndpoints(env),
          AWS_ENDPOINT_URL: endpoint,
          AWS_REGION: region,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
        },
        ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}),
      });
      const byArn = new Map<string, LocalFunction>();
      for (const fn of lambdaFunctions(synth.template, resolve, synth.assemblyDirectory)) {
        const local = lambdaRuntime.register({ ...fn, environment: { ...fn.environment, ...options.functionEnvironment } });
        byArn.set(fn.arn, local);
      }

      const definition = stateMachineDefinition(synth.template, resolve, metadata.stateMachine);
      const smResource = resources[metadata.stateMachine];
      const stateMachineArn = smResource?.attributes.Arn ?? smResource?.ref ?? '';
      const roleId = (synth.template.Resources[metadata.stateMachine]?.Properties?.RoleArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
      const stateMachine = new LocalStateMachine({
        definition,
        stateMachineArn,
        ...(roleId && resources[roleId] ? { roleArn: resources[roleId].attributes.Arn ?? '' } : {}),
        functions: byArn,
        ...(options.waits ? { waits: options.waits } : {}),
        ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
      });

      const rotationFunctionArns = metadata.rotationFunctions.map((id) => resources[id]?.attributes.Arn ?? '');
      if (localAws) {
        for (const arn of rotationFunctionArns) {
          const fn = byArn.get(arn);
          if (!fn) continue;
          // Secrets Manager ignores the function's result; a failure fails the step.
          localAws.registerRotationFunction(arn, async (event) => {
            const result = await fn.invoke(event);
            options.onRotationStep?.({
              step: event.Step,
              secretId: event.SecretId,
              ok: result.ok,
              ...(result.ok ? {} : { errorType: result.error.errorType }),
              durationMs: result.report.durationMs,
            });
            if (!result.ok) throw new LambdaFunctionError(result.error.errorType, result.error.errorMessage, fn.config.name);
          });
        }
      }
      const secretArns = Object.fromEntries(Object.entries(metadata.secrets).map(([name, id]) => [name, resources[id]?.ref ?? '']));
      const stateNames = collectStateNames(definition);
      return new LocalRotationEngine(
        endpoint,
        region,
        accountId,
        localAws,
        synth,
        lambdaRuntime,
        logs,
        stateMachine,
        stateMachineArn,
        stateNames,
        resolve,
        secretArns,
        rotationFunctionArns,
        sdkConfig,
        Date.now() - started,
      );
    } catch (error) {
      await localAws?.stop();
      throw error;
    }
  }

  /** `embedded endpoint http://…` or `AWS_ENDPOINT_URL http://…`, for messages. */
  get endpointDescription(): string {
    return this.localAws ? `embedded endpoint ${this.endpoint}` : `endpoint ${this.endpoint} (AWS_ENDPOINT_URL)`;
  }

  /** Starts an execution (StartExecution). */
  start(input: unknown, options: StartOptions = {}): LocalExecution {
    return this.stateMachine.start(input, options);
  }

  /** Runs an execution to its end. */
  async run(input: unknown, options: StartOptions = {}): Promise<ExecutionResult & { readonly execution: LocalExecution }> {
    const execution = this.start(input, options);
    return { ...(await execution.result), execution };
  }

  /** The schedules of the stack's users, with the exact input each would send. */
  schedules(): TemplateSchedule[] {
    return schedules(this.synth.template, this.resolve);
  }

  /** The local ARN of a secret of the stack (EngineStackConfig users / secretNames). */
  secretArn(secretName: string): string | undefined {
    return this.secretArns[secretName];
  }

  /**
   * The rotation Lambda the stack's RotationSchedule wires to a secret of the stack
   * (EngineStackConfig.secretRotations), as its local ARN.
   */
  rotationLambdaArnFor(secretName: string): string | undefined {
    const secretArn = this.secretArn(secretName);
    for (const [id, resource] of resourcesOfType(this.synth.template, 'AWS::SecretsManager::RotationSchedule')) {
      const props = resolveIntrinsics(resource.Properties ?? {}, this.resolve, `Resources.${id}.Properties`) as { SecretId?: string; RotationLambdaARN?: string };
      if (props.SecretId === secretArn && props.RotationLambdaARN) return props.RotationLambdaARN;
    }
    return undefined;
  }

  /**
   * RotateSecret on the endpoint, as Secrets Manager's schedule would call it: the four steps
   * run through the stack's rotation Lambda (embedded endpoint only: it calls back into this
   * process). Resolves once the rotation finished; a failed step rejects.
   */
  async rotateSecret(secretName: string, options: { readonly clientRequestToken?: string; readonly rotateImmediately?: boolean } = {}): Promise<{ versionId: string }> {
    const lambdaArn = this.rotationLambdaArnFor(secretName);
    if (!lambdaArn) throw new Error(`secret '${secretName}' has no rotation in the local stack (EngineStackConfig.secretRotations)`);
    if (!this.localAws) throw new Error('rotateSecret needs the embedded endpoint (it runs the rotation Lambda in this process)');
    const client = new SecretsManagerClient(this.sdkConfig);
    try {
      const answer = await client.send(
        new RotateSecretCommand({
          SecretId: this.secretArn(secretName),
          RotationLambdaARN: lambdaArn,
          ...(options.clientRequestToken ? { ClientRequestToken: options.clientRequestToken } : {}),
          ...(options.rotateImmediately !== undefined ? { RotateImmediately: options.rotateImmediately } : {}),
        }),
      );
      return { versionId: answer.VersionId ?? '' };
    } finally {
      client.destroy();
    }
  }

  /** Kills the Lambda containers and stops the embedded endpoint. */
  async stop(): Promise<void> {
    await this.runtime.stop();
    await this.localAws?.stop();
  }
}

/** AWS_ENDPOINT_URL_<SERVICE> variables pass through: a per-service endpoint keeps working. */
function passThroughEndpoints(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('AWS_ENDPOINT_URL_') && typeof e[1] === 'string'),
  );
}

function collectStateNames(definition: Record<string, unknown>): string[] {
  const names: string[] = [];
  const walk = (d: Record<string, unknown>) => {
    for (const [name, state] of Object.entries((d.States ?? {}) as Record<string, Record<string, unknown>>)) {
      names.push(name);
      for (const branch of (state.Branches as Record<string, unknown>[] | undefined) ?? []) walk(branch);
    }
  };
  walk(definition);
  return names;
}

/**
 * `AccessKeyRotation`: the L3 construct that deploys keyrotate. It creates the rotation state
 * machine and its Lambdas (one role each, least privilege), the per-user lock table, the KMS
 * key that seals secrets between Lambdas, EventBridge Scheduler schedules per configured user,
 * and, on request, Secrets Manager rotation of individual secrets.
 */
import * as path from 'node:path';
import {
  ArnFormat,
  Aws,
  CfnCondition,
  Duration,
  Fn,
  Names,
  RemovalPolicy,
  Stack,
  Token,
  type ICfnConditionExpression,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Schedule as EventsSchedule } from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SES_SMTP_REGIONS } from '../lambdas/core/ses-regions';
import {
  PROJECT_ROOT,
  ROTATION_LAMBDA_FILE,
  STATE_MACHINE_LAMBDAS,
  handlerEntry,
  lambdaBundling,
  lambdaId,
  type StateMachineLambdaName,
} from './bundling';
import { ROTATION_ACCESS, SEAL_CONTEXT_KEYS, STATE_MACHINE_ACCESS, type LambdaAccess, type SealPurpose } from './permissions';
import {
  AccessKeyRotationPropsError,
  checkOldKeyAction,
  checkUserName,
  resolveProps,
  scopeMayInclude,
  type AccessKeyRotationProps,
  type OldKeyAction,
  type ResolvedProps,
  type ResolvedScope,
  type ResolvedUser,
  type SecretsManagerRotationOptions,
} from './props';
import { acknowledgeStarResource, acknowledgeWildcardResources } from './nag';
import { buildRotationDefinition } from './rotation-state-machine';

export * from './props';

/** Memory and timeout per Lambda: the steps are I/O-bound; PGP encryption does some CPU work. */
const DEFAULT_MEMORY_MB = 256;
const DEFAULT_TIMEOUT = Duration.seconds(30);
/** Why the IAM user ARNs of a scope contain a wildcard (cdk-nag AwsSolutions-IAM5). */
const USER_WILDCARD_REASON =
  'Access keys are sub-resources of IAM users, so the resource is the user: user/*/NAME is the listed user NAME at ' +
  'any IAM path, user/PATH/* the users under the configured path prefix, user/* only with the iam:ResourceTag ' +
  'condition of the configured tag. No user outside keyrotate\'s scope matches.';
/** EventBridge Scheduler's limit on a target's input. */
const MAX_SCHEDULE_INPUT = 8192;

/** The execution input a schedule sends. */
export interface ScheduledExecutionInput {
  readonly userName: string;
  readonly delivery: { readonly type: 'secretsManager'; readonly secretId: string } | { readonly type: 'pgp'; readonly pgpKey: string };
  readonly sesSmtpRegions?: readonly string[];
  readonly newKeyStatus: 'Active' | 'Inactive';
  readonly oldKey: {
    readonly action: OldKeyAction;
    readonly gracePeriodSeconds: number;
    readonly deletionDelaySeconds: number;
    readonly requireUnusedSeconds: number;
  };
  readonly dryRun: false;
}

export function executionInput(user: ResolvedUser): ScheduledExecutionInput {
  return {
    userName: user.userName,
    delivery:
      'secret' in user.delivery
        ? { type: 'secretsManager', secretId: user.delivery.secret.secretArn }
        : { type: 'pgp', pgpKey: user.delivery.pgpKey },
    // Omitted: Plan applies KEYROTATE_DEFAULT_SES_REGIONS, so the default lives in one place.
    ...(user.sesSmtpRegions === undefined ? {} : { sesSmtpRegions: user.sesSmtpRegions }),
    newKeyStatus: user.newKeyStatus,
    oldKey: { ...user.oldKey },
    dryRun: false,
  };
}

export class AccessKeyRotation extends Construct {
  /** The rotation state machine (Standard, JSONPath). Start it with the execution input contract. */
  public readonly stateMachine: sfn.StateMachine;
  /** The state machine's Lambdas, by name (`plan`, `createKey`, …). */
  public readonly functions: Readonly<Record<StateMachineLambdaName, NodejsFunction>>;
  /** Seals secrets between Lambdas; encrypts execution history, lock table and logs. */
  public readonly encryptionKey: kms.IKey;
  /** One item per user while a rotation holds it (partition key `userName`). */
  public readonly lockTable: dynamodb.Table;
  /** The state machine's execution log group (execution data excluded). */
  public readonly stateMachineLogGroup: logs.LogGroup;
  /** The schedule of each scheduled user, by user name. */
  public readonly schedules: Readonly<Record<string, scheduler.Schedule>>;
  /** The role EventBridge Scheduler assumes; it may only start this state machine. */
  public readonly scheduleRole: iam.Role;

  private readonly config: ResolvedProps;
  private readonly commonEnvironment: Record<string, string>;
  private readonly rotationFunctionsByAction = new Map<OldKeyAction, NodejsFunction>();
  private rotationCount = 0;

  constructor(scope: Construct, id: string, props: AccessKeyRotationProps) {
    super(scope, id);
    this.config = resolveProps(props);
    const config = this.config;

    this.encryptionKey = config.encryptionKey ?? this.createKey();

    this.lockTable = new dynamodb.Table(this, 'LockTable', {
      partitionKey: { name: 'userName', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Locks expire on their own, and the delivery records only serve this deployment's own
      // later rotations: nothing worth retaining once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.commonEnvironment = {
      KEYROTATE_KMS_KEY_ID: this.encryptionKey.keyArn,
      KEYROTATE_LOCK_TABLE: this.lockTable.tableName,
      KEYROTATE_SCOPE: JSON.stringify(config.scope),
      KEYROTATE_DEFAULT_SES_REGIONS: this.defaultSesRegions(),
      POWERTOOLS_SERVICE_NAME: 'keyrotate',
    };

    const secrets = this.deliverySecrets();
    const functions: Partial<Record<StateMachineLambdaName, NodejsFunction>> = {};
    for (const [name, file] of Object.entries(STATE_MACHINE_LAMBDAS) as [StateMachineLambdaName, string][]) {
      const extra: Record<string, string> = {};
      let timeout = DEFAULT_TIMEOUT;
      let memorySize = DEFAULT_MEMORY_MB;
      if (name === 'verifyNewKey') {
        extra.KEYROTATE_VERIFY_SECONDS = String(config.verifySeconds);
        // The STS retries, plus opening the sealed secret (KMS: up to 3 attempts of 15 s).
        timeout = Duration.seconds(config.verifySeconds + 40);
      }
      if (name === 'encryptForPgp') {
        extra.KEYROTATE_KEYBASE_URL = config.keybaseUrl;
        // Fetching a remote key (10 s budget) plus RSA-4096 encryption.
        timeout = Duration.seconds(60);
        memorySize = 512;
      }
      const fn = this.createFunction(lambdaId(name), file, extra, timeout, memorySize);
      this.grantAccess(fn, STATE_MACHINE_ACCESS[name], { secrets });
      functions[name] = fn;
    }
    this.functions = functions as Record<StateMachineLambdaName, NodejsFunction>;

    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy small.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      retention: config.logRetention,
      encryptionKey: this.encryptionKey,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      // A known name: Step Functions encrypts under the context aws:states:stateMachineArn, and
      // the role's KMS condition can only name that ARN if the name is decided before deployment
      // (a generated name would leave the condition with an empty name).
      stateMachineName: config.stateMachineName ?? Names.uniqueResourceName(this, { maxLength: 80, separator: '-' }),
      comment: 'keyrotate: rotates the access key of one IAM user (create, deliver, verify, retire the old key)',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildRotationDefinition(this, {
          functions: this.functions,
          oldKeyRecheckInterval: config.oldKeyRecheckInterval,
          oldKeyMaxRechecks: config.oldKeyMaxRechecks,
        }),
      ),
      // Execution data stays out of the logs; the history itself is encrypted with our key.
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(this.encryptionKey),
    });

    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: 'keyrotate: EventBridge Scheduler starts rotations (StartExecution on one state machine only)',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    const schedules: Record<string, scheduler.Schedule> = {};
    for (const [i, user] of config.users.entries()) {
      if (user.schedule === undefined) continue;
      schedules[user.userName] = this.createSchedule(i, user);
    }
    this.schedules = schedules;

    // Both are what Step Functions needs, nothing more: LambdaInvoke grants each function and
    // its qualifiers (`ARN:*`); X-Ray and log delivery actions have no resource-level permissions.
    acknowledgeWildcardResources(
      this.stateMachine.role,
      Object.values(this.functions).map((fn) => `${fn.functionArn}:*`),
      'Step Functions may invoke a version or alias of this Lambda (ARN:*); the statement names only the functions of this construct.',
    );
    acknowledgeStarResource(
      this.stateMachine.role,
      'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs vended log delivery ' +
        '(logs:CreateLogDelivery and related) do not support resource-level permissions.',
    );
  }

  /** Lets `grantee` start rotations (states:StartExecution on this state machine). */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Lets `grantee` follow rotations: describe executions, read their history and output
   * (which requires kms:Decrypt, limited to this state machine's encryption context).
   */
  public grantReadExecutions(grantee: iam.IGrantable): iam.Grant {
    const grant = this.stateMachine.grantRead(grantee);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': this.stateMachine.stateMachineArn } },
      }),
    );
    return grant;
  }

  /** The Secrets Manager rotation Lambdas created so far (one per old-key action in use). */
  public get rotationFunctions(): readonly NodejsFunction[] {
    return [...this.rotationFunctionsByAction.values()];
  }

  /**
   * Rotates `secret` with Secrets Manager's own schedule: the rotation Lambda runs the four-step
   * protocol (createSecret, setSecret, testSecret, finishSecret) for `userName`, and gets exactly
   * what it needs on this secret and this user.
   *
   * The secret's value must name the user (`{"userName": "…"}`) before the first rotation.
   */
  public addSecretsManagerRotation(
    secret: secretsmanager.ISecret,
    options: SecretsManagerRotationOptions,
  ): secretsmanager.CfnRotationSchedule {
    const n = ++this.rotationCount;
    const prop = `addSecretsManagerRotation(#${n})`;
    const userName = checkUserName(`${prop}.userName`, options.userName);
    const action = checkOldKeyAction(`${prop}.oldKeyAction`, options.oldKeyAction ?? 'deactivate');
    const after = options.automaticallyAfter;
    if (after === undefined || Token.isUnresolved(after)) {
      throw new AccessKeyRotationPropsError(`${prop}.automaticallyAfter`, 'is required (a concrete Duration)');
    }
    const ms = after.toMilliseconds();
    if (ms < Duration.hours(4).toMilliseconds() || ms > Duration.days(1000).toMilliseconds()) {
      throw new AccessKeyRotationPropsError(
        `${prop}.automaticallyAfter`,
        `must be from 4 hours to 1000 days (Secrets Manager's bounds), got ${after.toHumanString()}`,
      );
    }
    if (!scopeMayInclude(this.config.scope, userName)) {
      throw new AccessKeyRotationPropsError(`${prop}.userName`, `'${userName}' is outside scope (scope.userNames: ${(this.config.scope.userNames ?? []).join(', ')})`);
    }

    const fn = this.rotationFunction(action);
    this.grantAccess(fn, ROTATION_ACCESS, { secrets: [secret], onlyUser: userName });

    // Only Secrets Manager acting for this very secret may invoke the function.
    const sourceArn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
    fn.addPermission(`InvokedBySecretsManager${n}`, {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
    // CfnRotationSchedule rather than secret.addRotationSchedule: the L2 also grants
    // secretsmanager:GetRandomPassword on "*", which keyrotate never calls.
    const schedule = new secretsmanager.CfnRotationSchedule(this, `SecretRotation${n}`, {
      secretId: secret.secretArn,
      rotationLambdaArn: fn.functionArn,
      rotationRules: { scheduleExpression: EventsSchedule.rate(after).expressionString },
      rotateImmediatelyOnUpdate: options.rotateImmediately ?? false,
    });
    // Secrets Manager test-invokes the function when the schedule is created: the function,
    // its permissions and its role policy must exist first.
    schedule.node.addDependency(fn);
    return schedule;
  }

  // ---- internals ---------------------------------------------------------------------------

  private createKey(): kms.Key {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'Key', {
      description: 'keyrotate: seals secrets between Lambdas; encrypts execution history, lock table and logs',
      enableKeyRotation: true,
      // Ciphertext in old logs stays readable while the logs are retained.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts the log groups with this key, only for log groups of this account
    // and region (the encryption context names the log group).
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return key;
  }

  /**
   * KEYROTATE_DEFAULT_SES_REGIONS: the configured list, else the stack's region when it has an
   * SES SMTP endpoint. For an environment-agnostic stack the region is known only at deploy
   * time, so CloudFormation decides with a condition over the SES SMTP regions.
   */
  private defaultSesRegions(): string {
    if (this.config.defaultSesSmtpRegions !== undefined) return JSON.stringify(this.config.defaultSesSmtpRegions);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region)) return JSON.stringify(SES_SMTP_REGIONS.includes(region) ? [region] : []);
    const equals = SES_SMTP_REGIONS.map((r) => Fn.conditionEquals(Aws.REGION, r));
    // Fn::Or takes 2 to 10 conditions: OR groups of at most 10.
    const groups: ICfnConditionExpression[] = [];
    for (let i = 0; i < equals.length; i += 10) groups.push(Fn.conditionOr(...equals.slice(i, i + 10)));
    const condition = new CfnCondition(this, 'StackRegionHasSesSmtp', { expression: Fn.conditionOr(...groups) });
    return Token.asString(Fn.conditionIf(condition.logicalId, `["${Aws.REGION}"]`, '[]'));
  }

  private deliverySecrets(): secretsmanager.ISecret[] {
    const secrets: secretsmanager.ISecret[] = [];
    for (const user of this.config.users) {
      if ('secret' in user.delivery && !secrets.includes(user.delivery.secret)) secrets.push(user.delivery.secret);
    }
    for (const secret of this.config.secrets) if (!secrets.includes(secret)) secrets.push(secret);
    return secrets;
  }

  private createFunction(
    id: string,
    file: string,
    environment: Record<string, string>,
    timeout: Duration,
    memorySize: number,
  ): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: this.config.logRetention,
      encryptionKey: this.encryptionKey,
    });
    // An own role per Lambda, without the AWS managed basic-execution policy: only its log group.
    const role = new iam.Role(this, `${id}Role`, {
      description: `keyrotate ${file} Lambda`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    logGroup.grantWrite(role);
    return new NodejsFunction(this, `${id}Function`, {
      description: `keyrotate: ${file}`,
      entry: handlerEntry(file),
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize,
      timeout,
      role,
      logGroup,
      environment: { ...this.commonEnvironment, ...environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: lambdaBundling(),
    });
  }

  private rotationFunction(action: OldKeyAction): NodejsFunction {
    const existing = this.rotationFunctionsByAction.get(action);
    if (existing) return existing;
    const fn = this.createFunction(
      action === 'deactivate' ? 'SecretsManagerRotation' : 'SecretsManagerRotationDelete',
      ROTATION_LAMBDA_FILE,
      {
        KEYROTATE_ROTATION_OLD_KEY_ACTION: action,
        KEYROTATE_VERIFY_SECONDS: String(this.config.verifySeconds),
        KEYROTATE_ROTATION_LOCK_SECONDS: '3600',
      },
      // testSecret waits for IAM propagation; Secrets Manager retries the whole rotation on failure.
      Duration.seconds(Math.max(120, this.config.verifySeconds + 60)),
      DEFAULT_MEMORY_MB,
    );
    this.rotationFunctionsByAction.set(action, fn);
    return fn;
  }

  private createSchedule(index: number, user: ResolvedUser): scheduler.Schedule {
    const input = executionInput(user);
    const rendered = JSON.stringify(input);
    if (!Token.isUnresolved(rendered) && rendered.length > MAX_SCHEDULE_INPUT) {
      throw new AccessKeyRotationPropsError(
        `users[${index}].delivery`,
        `the schedule input is ${rendered.length} characters, EventBridge Scheduler allows ${MAX_SCHEDULE_INPUT}: ` +
          'give the PGP key as keybase:NAME, github:NAME or external:NAME|URL',
      );
    }
    return new scheduler.Schedule(this, `Schedule-${user.userName}`, {
      description: `keyrotate: rotate the access key of IAM user ${user.userName}`,
      schedule: user.schedule as scheduler.ScheduleExpression,
      // Rotations run at the time given: a flexible window would blur "keys younger than N days".
      timeWindow: scheduler.TimeWindow.off(),
      target: new StepFunctionsStartExecution(this.stateMachine, {
        role: this.scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject(input),
        // StartExecution fails only on throttling or a deployment problem: retry for an hour.
        retryAttempts: 10,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.config.scheduleDeadLetterQueue,
      }),
    });
  }

  /** IAM statements for one Lambda: its step's actions on users, secrets, lock and key. */
  private grantAccess(
    fn: NodejsFunction,
    access: LambdaAccess,
    on: { readonly secrets: readonly secretsmanager.ISecret[]; readonly onlyUser?: string },
  ): void {
    const role = fn.role as iam.Role;
    const stack = Stack.of(this);
    if (access.iam.length > 0) {
      const statements = on.onlyUser === undefined ? this.scopeStatements(access.iam) : this.userStatements(access.iam, on.onlyUser);
      for (const statement of statements) role.addToPrincipalPolicy(statement);
      acknowledgeWildcardResources(role, statements.flatMap((st) => st.resources), USER_WILDCARD_REASON);
    }
    if (access.secretsManager.length > 0 && on.secrets.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...access.secretsManager],
          resources: on.secrets.map((s) => s.secretFullArn ?? `${s.secretArn}-??????`),
        }),
      );
      // A secret under a customer managed key: Secrets Manager calls KMS as this role.
      const kmsActions = [
        ...(access.secretsManager.some((a) => a === 'secretsmanager:GetSecretValue' || a === 'secretsmanager:PutSecretValue')
          ? ['kms:Decrypt']
          : []),
        ...(access.secretsManager.includes('secretsmanager:PutSecretValue') ? ['kms:GenerateDataKey'] : []),
      ];
      if (kmsActions.length > 0) {
        for (const secret of on.secrets) {
          secret.encryptionKey?.grant(
            new kms.ViaServicePrincipal(`secretsmanager.${stack.region}.amazonaws.com`, role),
            ...kmsActions,
          );
        }
      }
    }
    if (access.lock.length > 0) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...access.lock], resources: [this.lockTable.tableArn] }));
      // DynamoDB decrypts the table key with the caller's identity (no direct use of the key).
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:DescribeKey'],
          resources: [this.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    if (access.seal.length > 0) role.addToPrincipalPolicy(this.sealStatement('kms:Encrypt', access.seal));
    if (access.open.length > 0) role.addToPrincipalPolicy(this.sealStatement('kms:Decrypt', access.open));
  }

  /** KMS use limited to keyrotate's sealing context: exactly its keys, and these purposes. */
  private sealStatement(action: 'kms:Encrypt' | 'kms:Decrypt', purposes: readonly SealPurpose[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: [action],
      resources: [this.encryptionKey.keyArn],
      conditions: {
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...SEAL_CONTEXT_KEYS] },
        Null: { 'kms:EncryptionContextKeys': 'false' },
        StringEquals: { 'kms:EncryptionContext:purpose': [...purposes] },
      },
    });
  }

  private userArn(resourceName: string): string {
    return Stack.of(this).formatArn({
      service: 'iam',
      region: '',
      resource: 'user',
      resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** A user by name at any path: `user/NAME` (path `/`) and `user/*\/NAME` (any other path). */
  private userArns(userName: string, pathPrefix = '/'): string[] {
    const prefix = pathPrefix.slice(1);
    return [this.userArn(`${prefix}${userName}`), this.userArn(`${prefix}*/${userName}`)];
  }

  /** One statement per scope rule (a user is in scope if any rule matches). */
  private scopeStatements(actions: readonly string[]): iam.PolicyStatement[] {
    const scope: ResolvedScope = this.config.scope;
    const statements: iam.PolicyStatement[] = [];
    if (scope.userNames !== undefined) {
      statements.push(new iam.PolicyStatement({ actions: [...actions], resources: scope.userNames.flatMap((n) => this.userArns(n)) }));
    }
    if (scope.pathPrefix !== undefined) {
      statements.push(new iam.PolicyStatement({ actions: [...actions], resources: [this.userArn(`${scope.pathPrefix.slice(1)}*`)] }));
    }
    if (scope.tag !== undefined) {
      statements.push(
        new iam.PolicyStatement({
          actions: [...actions],
          resources: [this.userArn('*')],
          conditions: { StringEquals: { [`iam:ResourceTag/${scope.tag.key}`]: scope.tag.value } },
        }),
      );
    }
    return statements;
  }

  /** The intersection of one user with the scope (for a rotation Lambda that serves one user). */
  private userStatements(actions: readonly string[], userName: string): iam.PolicyStatement[] {
    const scope = this.config.scope;
    if ((scope.userNames ?? []).includes(userName)) {
      return [new iam.PolicyStatement({ actions: [...actions], resources: this.userArns(userName) })];
    }
    const statements: iam.PolicyStatement[] = [];
    if (scope.pathPrefix !== undefined) {
      statements.push(new iam.PolicyStatement({ actions: [...actions], resources: this.userArns(userName, scope.pathPrefix) }));
    }
    if (scope.tag !== undefined) {
      statements.push(
        new iam.PolicyStatement({
          actions: [...actions],
          resources: this.userArns(userName),
          conditions: { StringEquals: { [`iam:ResourceTag/${scope.tag.key}`]: scope.tag.value } },
        }),
      );
    }
    return statements;
  }

}

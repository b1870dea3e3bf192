/**
 * AccessKeyRotation, synthesized once with real bundling (beforeAll): the Lambdas, their roles
 * (one test per Lambda: exact actions, exact resources), the lock table, the key, the log
 * groups, the schedules, Secrets Manager rotation and the bundles themselves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { AccessKeyRotation, type AccessKeyRotationProps } from '../../infra/access-key-rotation';
import { ALL_HANDLER_FILES } from '../../infra/bundling';
import { EXAMPLE_PGP_PUBLIC_KEY } from '../../infra/example-pgp-key';
import { flattenReference } from '../../infra/nag';
import { buildStack, newApp, newStack, typicalProps, type TestStack } from './helpers';

interface Statement {
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, unknown>;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Every statement of the policies attached to `role`, with resources as cdk-nag prints them. */
function statementsOf(built: TestStack, role: iam.IRole): Statement[] {
  const roleId = built.stack.getLogicalId((role as iam.Role).node.defaultChild as iam.CfnRole);
  const policies = Object.values(built.template.findResources('AWS::IAM::Policy')).filter((p) =>
    asArray((p.Properties as { Roles?: unknown }).Roles).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  return policies.flatMap((p) =>
    asArray((p.Properties as { PolicyDocument: { Statement: unknown } }).PolicyDocument.Statement).map((raw) => {
      const s = raw as { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown>; Effect: string };
      expect(s.Effect).toBe('Allow');
      return {
        actions: asArray(s.Action),
        resources: asArray(s.Resource as unknown).map(flattenReference),
        ...(s.Condition ? { conditions: s.Condition } : {}),
      };
    }),
  );
}

/** Actions of a role except writing to its own log group (every Lambda has that). */
function actionsOf(statements: Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => s.actions))].filter((a) => !a.startsWith('logs:')).sort();
}

/** A schedule input (`Fn::Join` of JSON text and `Ref`s) as text, each Ref as `<LogicalId>`. */
function joinTokens(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (node['Fn::Join']) return node['Fn::Join'][1].map(joinTokens).join(node['Fn::Join'][0]);
  if (node.Ref) return `<${node.Ref}>`;
  throw new Error(`unexpected token ${JSON.stringify(value)}`);
}

function statementWith(statements: Statement[], action: string, filter: (s: Statement) => boolean = () => true): Statement {
  const found = statements.filter((s) => s.actions.includes(action) && filter(s));
  expect(found).toHaveLength(1);
  return found[0] as Statement;
}

let built: TestStack;
let legacySecret: ISecret;
let bundleMs = 0;
let cdkOut: string;
const ref = (construct: { node: { defaultChild?: unknown } }): string => `<${built.stack.getLogicalId(construct.node.defaultChild as never)}>`;
const arnOf = (construct: { node: { defaultChild?: unknown } }): string =>
  `<${built.stack.getLogicalId(construct.node.defaultChild as never)}.Arn>`;
const USERS = ['app-smtp', 'ci-deployer'];
const userArns = (names: string[]) =>
  names.flatMap((n) => [`arn:<AWS::Partition>:iam::<AWS::AccountId>:user/${n}`, `arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*/${n}`]);

beforeAll(() => {
  cdkOut = mkdtempSync(path.join(tmpdir(), 'keyrotate-infra-'));
  const started = Date.now();
  built = buildStack(
    (secret) => ({ ...typicalProps(secret), scope: { userNames: [...USERS, 'legacy-sftp'] } }),
    {
      bundle: true,
      configure: (rotation, stack) => {
        legacySecret = new Secret(stack, 'LegacySecret');
        rotation.addSecretsManagerRotation(legacySecret, { userName: 'legacy-sftp', automaticallyAfter: Duration.days(30) });
      },
    },
  );
  bundleMs = Date.now() - started;
  built.app.synth({ force: true });
  cdkOut = built.app.outdir;
}, 120_000);

afterAll(() => {
  // The app's outdir is a temporary directory created by the CDK for this test.
  if (cdkOut.startsWith(tmpdir())) rmSync(cdkOut, { recursive: true, force: true });
  console.log(`construct synthesized with ${ALL_HANDLER_FILES.length} bundled Lambdas in ${bundleMs} ms`);
});

describe('Lambdas', () => {
  test('all run nodejs24.x on arm64, with their own role and an encrypted log group with retention', () => {
    const functions = built.template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(ALL_HANDLER_FILES.length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    }
    const roles = new Set(Object.values(functions).map((f) => JSON.stringify(f.Properties.Role)));
    expect(roles.size).toBe(ALL_HANDLER_FILES.length);
    built.template.resourcePropertiesCountIs(
      'AWS::Logs::LogGroup',
      { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('KeyRotationKey'), 'Arn'] } },
      ALL_HANDLER_FILES.length + 1,
    );
  });

  test('no role uses an AWS managed policy; each is assumed by Lambda only', () => {
    for (const fn of [...Object.values(built.rotation.functions), ...built.rotation.rotationFunctions]) {
      const role = built.template.toJSON().Resources[built.stack.getLogicalId((fn.role as iam.Role).node.defaultChild as never)];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
  });

  test('the environment is the one docs/internals.md lists', () => {
    const envOf = (fn: NodejsFunction) =>
      built.template.toJSON().Resources[built.stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables;
    for (const fn of Object.values(built.rotation.functions)) {
      expect(envOf(fn)).toMatchObject({
        KEYROTATE_KMS_KEY_ID: { 'Fn::GetAtt': [built.stack.getLogicalId(built.rotation.encryptionKey.node.defaultChild as never), 'Arn'] },
        KEYROTATE_LOCK_TABLE: { Ref: built.stack.getLogicalId(built.rotation.lockTable.node.defaultChild as never) },
        KEYROTATE_SCOPE: JSON.stringify({ userNames: [...USERS, 'legacy-sftp'] }),
        KEYROTATE_DEFAULT_SES_REGIONS: expect.objectContaining({ 'Fn::If': expect.any(Array) }),
        POWERTOOLS_SERVICE_NAME: 'keyrotate',
      });
    }
    expect(envOf(built.rotation.functions.verifyNewKey).KEYROTATE_VERIFY_SECONDS).toBe('20');
    expect(envOf(built.rotation.functions.encryptForPgp).KEYROTATE_KEYBASE_URL).toBe('https://keybase.io');
    expect(envOf(built.rotation.functions.plan).KEYROTATE_VERIFY_SECONDS).toBeUndefined();
    const rotationEnv = envOf(built.rotation.rotationFunctions[0] as NodejsFunction);
    expect(rotationEnv).toMatchObject({ KEYROTATE_ROTATION_OLD_KEY_ACTION: 'deactivate', KEYROTATE_ROTATION_LOCK_SECONDS: '3600' });
  });
});

describe('least privilege, one role per Lambda', () => {
  const lockAndDynamoKms = (statements: Statement[], lockActions: string[]) => {
    expect(statementWith(statements, lockActions[0] as string)).toEqual({ actions: lockActions, resources: [arnOf(built.rotation.lockTable)] });
    expect(statementWith(statements, 'kms:DescribeKey')).toMatchObject({
      actions: ['kms:Decrypt', 'kms:DescribeKey'],
      conditions: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
    });
  };
  const sealing = (statements: Statement[], action: 'kms:Encrypt' | 'kms:Decrypt', purposes: string[]) => {
    const s = statementWith(statements, action, (st) => st.conditions?.['ForAllValues:StringEquals'] !== undefined);
    expect(s).toEqual({
      actions: [action],
      resources: [`<${built.stack.getLogicalId(built.rotation.encryptionKey.node.defaultChild as never)}.Arn>`],
      conditions: {
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['rotationId', 'accessKeyId', 'purpose'] },
        Null: { 'kms:EncryptionContextKeys': 'false' },
        StringEquals: { 'kms:EncryptionContext:purpose': purposes },
      },
    });
  };
  const iamOn = (statements: Statement[], actions: string[]) => {
    expect(statementWith(statements, actions[0] as string)).toEqual({ actions, resources: userArns([...USERS, 'legacy-sftp']) });
  };
  const secretsOn = (statements: Statement[], actions: string[]) => {
    expect(statementWith(statements, actions[0] as string)).toEqual({ actions, resources: [ref({ node: { defaultChild: built.secret.node.defaultChild } })] });
  };
  const role = (name: keyof AccessKeyRotation['functions']) => statementsOf(built, built.rotation.functions[name].role as iam.IRole);

  test('Plan: reads users and keys in scope, reads the configured secrets, takes the lock and may release it', () => {
    const s = role('plan');
    expect(actionsOf(s)).toEqual(
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'iam:GetAccessKeyLastUsed', 'iam:GetUser', 'iam:ListAccessKeys', 'kms:Decrypt', 'kms:DescribeKey', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'].sort(),
    );
    iamOn(s, ['iam:GetUser', 'iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed']);
    secretsOn(s, ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    lockAndDynamoKms(s, ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem']);
  });

  test('PurgeStaleKey: deactivates (an unfinished retirement) and deletes keys of users in scope only, checks the lock', () => {
    const s = role('purgeStaleKey');
    expect(actionsOf(s)).toEqual(['dynamodb:GetItem', 'iam:DeleteAccessKey', 'iam:ListAccessKeys', 'iam:UpdateAccessKey', 'kms:Decrypt', 'kms:DescribeKey']);
    iamOn(s, ['iam:ListAccessKeys', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey']);
    lockAndDynamoKms(s, ['dynamodb:GetItem']);
  });

  test('CreateKey: creates (and cleans up orphan) keys, seals the secret only as secretAccessKey', () => {
    const s = role('createKey');
    expect(actionsOf(s)).toEqual(
      ['dynamodb:GetItem', 'iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:ListAccessKeys', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt'].sort(),
    );
    iamOn(s, ['iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:DeleteAccessKey']);
    sealing(s, 'kms:Encrypt', ['secretAccessKey']);
    lockAndDynamoKms(s, ['dynamodb:GetItem']);
  });

  test('DeriveSmtpPasswords: opens the secret, seals the passwords; no IAM, no lock', () => {
    const s = role('deriveSmtpPasswords');
    expect(actionsOf(s)).toEqual(['kms:Decrypt', 'kms:Encrypt']);
    sealing(s, 'kms:Decrypt', ['secretAccessKey']);
    sealing(s, 'kms:Encrypt', ['sesSmtpPasswords']);
  });

  test('StoreSecret: writes the configured secrets, opens both sealed values', () => {
    const s = role('storeSecret');
    expect(actionsOf(s)).toEqual(
      ['dynamodb:GetItem', 'kms:Decrypt', 'kms:DescribeKey', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'].sort(),
    );
    secretsOn(s, ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue']);
    sealing(s, 'kms:Decrypt', ['secretAccessKey', 'sesSmtpPasswords']);
    lockAndDynamoKms(s, ['dynamodb:GetItem']);
  });

  test('EncryptForPgp: only opens the sealed values', () => {
    const s = role('encryptForPgp');
    expect(actionsOf(s)).toEqual(['kms:Decrypt']);
    sealing(s, 'kms:Decrypt', ['secretAccessKey', 'sesSmtpPasswords']);
  });

  test('VerifyNewKey: opens the secret (STS is signed with the new key itself) and records the delivery under the lock', () => {
    const s = role('verifyNewKey');
    expect(actionsOf(s)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'kms:Decrypt', 'kms:DescribeKey']);
    lockAndDynamoKms(s, ['dynamodb:PutItem', 'dynamodb:GetItem']);
    sealing(s, 'kms:Decrypt', ['secretAccessKey']);
  });

  test('PromoteSecret: moves staging labels of the configured secrets only', () => {
    const s = role('promoteSecret');
    expect(actionsOf(s)).toEqual(
      ['dynamodb:GetItem', 'kms:Decrypt', 'kms:DescribeKey', 'secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'].sort(),
    );
    secretsOn(s, ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage']);
    lockAndDynamoKms(s, ['dynamodb:GetItem']);
  });

  test('RetireOldKey: deactivates and deletes keys of users in scope, releases the lock', () => {
    const s = role('retireOldKey');
    expect(actionsOf(s)).toEqual(
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'iam:DeleteAccessKey', 'iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:UpdateAccessKey', 'kms:Decrypt', 'kms:DescribeKey', 'secretsmanager:DescribeSecret'].sort(),
    );
    iamOn(s, ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey']);
    secretsOn(s, ['secretsmanager:DescribeSecret']);
    lockAndDynamoKms(s, ['dynamodb:GetItem', 'dynamodb:DeleteItem']);
  });

  test('RollBack: deletes the new key, withdraws AWSPENDING, releases the lock; never creates or deactivates', () => {
    const s = role('rollBack');
    expect(actionsOf(s)).toEqual(
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'iam:DeleteAccessKey', 'iam:ListAccessKeys', 'kms:Decrypt', 'kms:DescribeKey', 'secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'].sort(),
    );
    iamOn(s, ['iam:ListAccessKeys', 'iam:DeleteAccessKey']);
    secretsOn(s, ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage']);
  });

  test('Secrets Manager rotation: the whole rotation, but only on its own secret and its own user', () => {
    const fn = built.rotation.rotationFunctions[0] as NodejsFunction;
    const s = statementsOf(built, fn.role as iam.IRole);
    expect(actionsOf(s)).toEqual(
      [
        'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem',
        'iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:GetUser', 'iam:ListAccessKeys', 'iam:UpdateAccessKey',
        'kms:Decrypt', 'kms:DescribeKey',
        'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:ListSecretVersionIds', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
      ].sort(),
    );
    expect(statementWith(s, 'iam:CreateAccessKey').resources).toEqual(userArns(['legacy-sftp']));
    expect(statementWith(s, 'secretsmanager:PutSecretValue').resources).toEqual([`<${built.stack.getLogicalId(legacySecret.node.defaultChild as never)}>`]);
    // RotationSchedule's L2 would add GetRandomPassword on "*": keyrotate never calls it.
    expect(JSON.stringify(s)).not.toContain('GetRandomPassword');
  });

  test('KMS Encrypt is given to CreateKey and DeriveSmtpPasswords only', () => {
    const encrypting = Object.entries(built.rotation.functions)
      .filter(([, fn]) => statementsOf(built, fn.role as iam.IRole).some((s) => s.actions.includes('kms:Encrypt')))
      .map(([name]) => name)
      .sort();
    expect(encrypting).toEqual(['createKey', 'deriveSmtpPasswords']);
  });
});

describe('scope', () => {
  const scoped = (scope: AccessKeyRotationProps['scope']) =>
    buildStack((secret) => ({ ...typicalProps(secret), users: [], scope }));
  const iamStatements = (b: TestStack) =>
    statementsOf(b, b.rotation.functions.createKey.role as iam.IRole).filter((s) => s.actions.includes('iam:CreateAccessKey'));

  test('a path prefix limits IAM actions to users under that path', () => {
    const b = scoped({ pathPrefix: '/service/' });
    expect(iamStatements(b)).toEqual([
      { actions: expect.any(Array), resources: ['arn:<AWS::Partition>:iam::<AWS::AccountId>:user/service/*'] },
    ]);
  });

  test('a tag limits IAM actions with an iam:ResourceTag condition', () => {
    const b = scoped({ tag: { key: 'keyrotate', value: 'enabled' } });
    expect(iamStatements(b)).toEqual([
      {
        actions: expect.any(Array),
        resources: ['arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*'],
        conditions: { StringEquals: { 'iam:ResourceTag/keyrotate': 'enabled' } },
      },
    ]);
  });

  test('rules combine as alternatives (one statement per rule)', () => {
    const b = scoped({ userNames: ['bob'], pathPrefix: '/svc/', tag: { key: 'team', value: 'mail' } });
    expect(iamStatements(b).map((s) => s.resources)).toEqual([
      userArns(['bob']),
      ['arn:<AWS::Partition>:iam::<AWS::AccountId>:user/svc/*'],
      ['arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*'],
    ]);
  });

  test('a rotation Lambda gets only its user, intersected with a path scope', () => {
    const b = buildStack((secret) => ({ ...typicalProps(secret), users: [], scope: { pathPrefix: '/svc/' } }), {
      configure: (rotation, stack) => rotation.addSecretsManagerRotation(new Secret(stack, 'S'), { userName: 'bob', automaticallyAfter: Duration.days(7) }),
    });
    const s = statementsOf(b, (b.rotation.rotationFunctions[0] as NodejsFunction).role as iam.IRole);
    expect(statementWith(s, 'iam:CreateAccessKey').resources).toEqual([
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:user/svc/bob',
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:user/svc/*/bob',
    ]);
  });

  test('a secret under a customer managed key: its key is usable only through Secrets Manager', () => {
    const app = newApp();
    const stack = newStack(app);
    const key = new Key(stack, 'SecretKey');
    const secret = new Secret(stack, 'S', { encryptionKey: key });
    const rotation = new AccessKeyRotation(stack, 'R', typicalProps(secret));
    const template = Template.fromStack(stack);
    const storeRole = stack.getLogicalId((rotation.functions.storeSecret.role as iam.Role).node.defaultChild as never);
    const keyPolicy = JSON.stringify(template.toJSON().Resources[stack.getLogicalId(key.node.defaultChild as never)].Properties.KeyPolicy);
    expect(keyPolicy).toContain(storeRole);
    expect(keyPolicy).toContain('kms:ViaService');
    expect(keyPolicy).toContain('kms:GenerateDataKey');
  });
});

describe('lock table and key', () => {
  test('the lock table is keyed by userName, on demand, with TTL, PITR and the construct key', () => {
    built.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'userName', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'userName', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('KeyRotationKey'), 'Arn'] } },
    });
  });

  test('a new key rotates automatically and lets CloudWatch Logs use it for this account and region only', () => {
    built.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  test('an existing key is used as is: no new key', () => {
    const app = newApp();
    const stack = newStack(app);
    const key = Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555');
    const rotation = new AccessKeyRotation(stack, 'R', { ...typicalProps(new Secret(stack, 'S')), encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(rotation.encryptionKey).toBe(key);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      EncryptionConfiguration: { KmsKeyId: key.keyArn },
    });
  });

  test('the state machine role may use the key for exactly its own ARN (a named state machine)', () => {
    const smName = built.template.findResources('AWS::StepFunctions::StateMachine');
    const name = (Object.values(smName)[0] as { Properties: { StateMachineName: string } }).Properties.StateMachineName;
    expect(name).toMatch(/^[A-Za-z0-9-]{1,80}$/);
    const s = statementsOf(built, built.rotation.stateMachine.role);
    const kms = statementWith(s, 'kms:Decrypt');
    expect(JSON.stringify(kms.conditions)).toContain(`:stateMachine:${name}`);
  });
});

describe('SES default regions', () => {
  const defaultRegions = (stack: Stack, rotation: AccessKeyRotation) =>
    Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(rotation.functions.plan.node.defaultChild as never)].Properties.Environment
      .Variables.KEYROTATE_DEFAULT_SES_REGIONS;
  const inRegion = (region?: string, props: Partial<AccessKeyRotationProps> = {}) => {
    const app = newApp();
    const stack = newStack(app, region ? { env: { account: '123456789012', region } } : {});
    const rotation = new AccessKeyRotation(stack, 'R', { ...typicalProps(new Secret(stack, 'S')), ...props });
    return { stack, rotation };
  };

  test('the stack region when it has an SES SMTP endpoint', () => {
    const { stack, rotation } = inRegion('eu-west-1');
    expect(defaultRegions(stack, rotation)).toBe('["eu-west-1"]');
  });

  test('none when the stack region has no SES SMTP endpoint', () => {
    const { stack, rotation } = inRegion('ap-east-1');
    expect(defaultRegions(stack, rotation)).toBe('[]');
  });

  test('decided at deploy time for an environment-agnostic stack', () => {
    const { stack, rotation } = inRegion();
    const value = defaultRegions(stack, rotation);
    expect(value['Fn::If'][1]).toEqual({ 'Fn::Join': ['', ['["', { Ref: 'AWS::Region' }, '"]']] });
    expect(value['Fn::If'][2]).toBe('[]');
    const condition = Template.fromStack(stack).toJSON().Conditions[value['Fn::If'][0]];
    expect(JSON.stringify(condition)).toContain('"eu-west-1"');
    expect(JSON.stringify(condition)).not.toContain('"ap-east-1"');
  });

  test('the configured list wins', () => {
    const { stack, rotation } = inRegion('eu-west-1', { defaultSesSmtpRegions: ['us-east-1', 'eu-central-1'] });
    expect(defaultRegions(stack, rotation)).toBe('["us-east-1","eu-central-1"]');
  });
});

describe('schedules', () => {
  const scheduleOf = (userName: string) => {
    const all = built.template.findResources('AWS::Scheduler::Schedule');
    return Object.values(all).find((s) => (s.Properties.Description as string).endsWith(` ${userName}`))?.Properties;
  };

  test('each scheduled user starts the state machine with its own execution input', () => {
    const smRef = { Ref: built.stack.getLogicalId(built.rotation.stateMachine.node.defaultChild as never) };
    const app = scheduleOf('app-smtp');
    expect(app).toMatchObject({ ScheduleExpression: 'rate(30 days)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: smRef } });
    expect(JSON.parse(joinTokens(app?.Target.Input))).toEqual({
      userName: 'app-smtp',
      delivery: { type: 'secretsManager', secretId: ref({ node: { defaultChild: built.secret.node.defaultChild } }) },
      newKeyStatus: 'Active',
      oldKey: { action: 'delete', gracePeriodSeconds: 3600, deletionDelaySeconds: 86400, requireUnusedSeconds: 0 },
      dryRun: false,
    });
    const ci = scheduleOf('ci-deployer');
    expect(ci).toMatchObject({ ScheduleExpression: 'cron(0 6 1 * ? *)', FlexibleTimeWindow: { Mode: 'OFF' } });
    expect(JSON.parse(ci?.Target.Input as string)).toEqual({
      userName: 'ci-deployer',
      delivery: { type: 'pgp', pgpKey: EXAMPLE_PGP_PUBLIC_KEY },
      sesSmtpRegions: [],
      newKeyStatus: 'Active',
      oldKey: { action: 'deactivate', gracePeriodSeconds: 604800, deletionDelaySeconds: 86400, requireUnusedSeconds: 0 },
      dryRun: false,
    });
  });

  test('schedules retry StartExecution for an hour, with a role that can only start this state machine', () => {
    const roleArn = { 'Fn::GetAtt': [built.stack.getLogicalId(built.rotation.scheduleRole.node.defaultChild as never), 'Arn'] };
    built.template.resourcePropertiesCountIs(
      'AWS::Scheduler::Schedule',
      { Target: { RoleArn: roleArn, RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 } } },
      2,
    );
    expect(statementsOf(built, built.rotation.scheduleRole)).toEqual([
      { actions: ['states:StartExecution'], resources: [`<${built.stack.getLogicalId(built.rotation.stateMachine.node.defaultChild as never)}>`] },
    ]);
    const role = built.template.toJSON().Resources[built.stack.getLogicalId(built.rotation.scheduleRole.node.defaultChild as never)];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
  });

  test('a user without schedule gets none (on demand only)', () => {
    const b = buildStack((secret) => ({ ...typicalProps(secret), users: [{ userName: 'manual', delivery: { secret } }] }));
    b.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  test('a dead-letter queue, when given, receives undeliverable starts', () => {
    const app = newApp();
    const stack = newStack(app);
    const dlq = new Queue(stack, 'Dlq');
    new AccessKeyRotation(stack, 'R', { ...typicalProps(new Secret(stack, 'S')), scheduleDeadLetterQueue: dlq });
    Template.fromStack(stack).resourcePropertiesCountIs(
      'AWS::Scheduler::Schedule',
      { Target: { DeadLetterConfig: { Arn: { 'Fn::GetAtt': [stack.getLogicalId(dlq.node.defaultChild as never), 'Arn'] } } } },
      2,
    );
  });
});

describe('Secrets Manager rotation', () => {
  test('the secret is rotated by the rotation Lambda on its own schedule, without rotating at deployment', () => {
    const fnArn = { 'Fn::GetAtt': [built.stack.getLogicalId((built.rotation.rotationFunctions[0] as NodejsFunction).node.defaultChild as never), 'Arn'] };
    built.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: built.stack.getLogicalId(legacySecret.node.defaultChild as never) },
      RotationLambdaARN: fnArn,
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
  });

  test('only Secrets Manager, for this secret and this account, may invoke the rotation Lambda', () => {
    built.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceArn: { Ref: built.stack.getLogicalId(legacySecret.node.defaultChild as never) },
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
    built.template.resourceCountIs('AWS::Lambda::Permission', 1);
  });

  test('the rotation schedule waits for the function (Secrets Manager test-invokes it on creation)', () => {
    const schedule = Object.values(built.template.findResources('AWS::SecretsManager::RotationSchedule'))[0] as { DependsOn?: string[] };
    expect(schedule.DependsOn).toEqual(
      expect.arrayContaining([built.stack.getLogicalId((built.rotation.rotationFunctions[0] as NodejsFunction).node.defaultChild as never)]),
    );
  });

  test('rotateImmediately: true rotates once at deployment', () => {
    const b = buildStack((secret) => typicalProps(secret), {
      configure: (rotation, stack) =>
        rotation.addSecretsManagerRotation(new Secret(stack, 'Now'), { userName: 'app-smtp', automaticallyAfter: Duration.days(30), rotateImmediately: true }),
    });
    b.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotateImmediatelyOnUpdate: true });
  });

  test('one rotation Lambda per old-key action, shared by the secrets that use it', () => {
    const b = buildStack((secret) => typicalProps(secret), {
      configure: (rotation, stack) => {
        rotation.addSecretsManagerRotation(new Secret(stack, 'A'), { userName: 'app-smtp', automaticallyAfter: Duration.days(30) });
        rotation.addSecretsManagerRotation(new Secret(stack, 'B'), { userName: 'ci-deployer', automaticallyAfter: Duration.days(30) });
        rotation.addSecretsManagerRotation(new Secret(stack, 'C'), { userName: 'app-smtp', automaticallyAfter: Duration.days(30), oldKeyAction: 'delete' });
      },
    });
    expect(b.rotation.rotationFunctions).toHaveLength(2);
    b.template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
    b.template.resourceCountIs('AWS::Lambda::Permission', 3);
  });
});

describe('grants', () => {
  test('grantStartExecution allows states:StartExecution on this state machine only', () => {
    const app = newApp();
    const stack = newStack(app);
    const rotation = new AccessKeyRotation(stack, 'R', typicalProps(new Secret(stack, 'S')));
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    rotation.grantStartExecution(role);

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as never) }],
      PolicyDocument: {
        Statement: [{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: stack.getLogicalId(rotation.stateMachine.node.defaultChild as never) } }],
      },
    });
  });

  test('grantReadExecutions adds kms:Decrypt limited to the state machine encryption context', () => {
    const app = newApp();
    const stack = newStack(app);
    const rotation = new AccessKeyRotation(stack, 'R', typicalProps(new Secret(stack, 'S')));
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    rotation.grantReadExecutions(role);

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as never) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['states:DescribeExecution', 'states:GetExecutionHistory']) }),
          Match.objectLike({
            Action: 'kms:Decrypt',
            Condition: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': { Ref: stack.getLogicalId(rotation.stateMachine.node.defaultChild as never) } } },
          }),
        ]),
      },
    });
  });
});

describe('bundles', () => {
  const bundleOf = (fn: NodejsFunction): string => {
    const resource = built.template.toJSON().Resources[built.stack.getLogicalId(fn.node.defaultChild as never)];
    return path.join(cdkOut, resource.Metadata['aws:asset:path'] as string, 'index.js');
  };

  test('every Lambda bundle loads with require() in a fresh Node.js process', () => {
    const files = [...Object.values(built.rotation.functions), ...built.rotation.rotationFunctions].map(bundleOf);
    const result = spawnSync(process.execPath, ['-e', `for (const f of ${JSON.stringify(files)}) { const m = require(f); if (typeof m.handler !== 'function') throw new Error(f + ': no handler'); }`], {
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1' },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  test('a bundled handler still throws keyrotate errors under their class names (Retry/Catch match them)', () => {
    // Minification would rename classes; Step Functions matches `errorType` = error.name.
    const file = bundleOf(built.rotation.functions.verifyNewKey);
    const script = `
      const { handler } = require(${JSON.stringify(file)});
      const context = { functionName: 'VerifyNewKey', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 30000 };
      handler({ plan: {} }, context).then(
        () => { console.log('resolved'); },
        (error) => { console.log(error.name); },
      );`;
    const result = spawnSync(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      encoding: 'utf8',
    });
    // No KEYROTATE_KMS_KEY_ID: the handler fails with the typed error naming the variable.
    expect(result.stdout.trim().split('\n').pop()).toBe('ConfigurationError');
  });

  test('the bundles are minified CommonJS without source maps', () => {
    const text = readFileSync(bundleOf(built.rotation.functions.plan), 'utf8');
    // esbuild marks each input file with a `// path` comment unless it minifies.
    expect(text).not.toMatch(/^\/\/ (lambdas|node_modules)\//m);
    expect(text).toMatch(/module\.exports|exports\./);
    expect(text).not.toContain('sourceMappingURL');
  });

  test('openpgp is bundled into EncryptForPgp only', () => {
    const withOpenpgp = [...Object.entries(built.rotation.functions), ['secretsManagerRotation', built.rotation.rotationFunctions[0]] as const]
      .filter(([, fn]) => readFileSync(bundleOf(fn as NodejsFunction), 'utf8').includes('OpenPGP.js'))
      .map(([name]) => name);
    expect(withOpenpgp).toEqual(['encryptForPgp']);
  });
});

describe('the construct in a stack with an explicit environment', () => {
  test('names the state machine and scopes ARNs to that account', () => {
    const app = newApp();
    const stack = newStack(app, { env: { account: '123456789012', region: 'eu-west-1' } });
    const rotation = new AccessKeyRotation(stack, 'R', {
      ...typicalProps(new Secret(stack, 'S')),
      users: [{ userName: 'app-smtp', schedule: ScheduleExpression.rate(Duration.days(30)), delivery: { pgpKey: 'keybase:alice' } }],
      stateMachineName: 'keyrotate-prod',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'keyrotate-prod' });
    const policy = JSON.stringify(template.toJSON().Resources[stack.getLogicalId((rotation.functions.createKey.role as iam.Role).node.defaultChild as never)]);
    expect(policy).toBeDefined();
    expect(JSON.stringify(template.toJSON())).toContain(':123456789012:user/app-smtp');
  });
});

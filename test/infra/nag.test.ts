/**
 * cdk-nag 3 (AwsSolutions pack, a CDK policy validation plugin): the example app and other
 * configurations synthesize without an unacknowledged finding; an added violation does fail the
 * synthesis (so the check is live); every acknowledgement is specific and has a reason. The last
 * test runs the real entry point (`cdk.json` → infra/app.ts) in a subprocess, with bundling.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AccessKeyRotation } from '../../infra/access-key-rotation';
import { PROJECT_ROOT } from '../../infra/bundling';
import { KeyRotateExampleStack } from '../../infra/example-stack';
import { typicalProps } from './helpers';

const outdirs: string[] = [];

function nagApp(): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'keyrotate-nag-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/** Synthesizes (which throws on an error finding) and returns the AwsSolutions findings left. */
function findings(app: App): string[] {
  const assembly = app.synth();
  const file = path.join(assembly.directory, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  return report.pluginReports
    .filter((r) => r.pluginName === 'AwsSolutions')
    .flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`));
}

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

test('the example stack has no unacknowledged AwsSolutions finding, error or warning', () => {
  // Prepare
  const app = nagApp();
  new KeyRotateExampleStack(app, 'KeyRotateExample');

  // Act / Assess
  expect(findings(app)).toEqual([]);
});

test('other scopes, a customer managed secret key and a deleting rotation pass too', () => {
  // Prepare
  const app = nagApp();
  const stack = new Stack(app, 'Other', { env: { account: '123456789012', region: 'eu-west-1' } });
  const secretKey = new Key(stack, 'SecretKey', { enableKeyRotation: true });
  const secret = new Secret(stack, 'Secret', { encryptionKey: secretKey });
  const rotation = new AccessKeyRotation(stack, 'Rotation', {
    ...typicalProps(secret),
    scope: { userNames: ['app-smtp', 'ci-deployer'], pathPrefix: '/service/', tag: { key: 'keyrotate', value: 'on' } },
  });
  const rotated = new Secret(stack, 'Rotated');
  rotation.addSecretsManagerRotation(rotated, { userName: 'svc', automaticallyAfter: Duration.days(30), oldKeyAction: 'delete' });
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'Rotated by the keyrotate state machine on its schedule.' });

  // Act / Assess
  expect(findings(app)).toEqual([]);
});

test('fails synthesis when a finding is not acknowledged (the check is live)', () => {
  // Prepare
  const app = nagApp();
  const stack = new KeyRotateExampleStack(app, 'KeyRotateExample');
  const role = new iam.Role(stack, 'Careless', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['iam:DeleteAccessKey'], resources: ['*'] }));

  // Act / Assess
  expect(() => app.synth()).toThrow(/KeyRotateExample\/Careless\/DefaultPolicy[\s\S]*AwsSolutions-IAM5\[Resource::\*\]/);
});

test('the example template carries no secret material: its secrets only name their user', () => {
  // Prepare
  const app = nagApp();
  new KeyRotateExampleStack(app, 'KeyRotateExample');

  // Act
  const template = app.synth().getStackByName('KeyRotateExample').template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

  // Assess
  const secrets = Object.values(template.Resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
  expect(secrets.map((s) => JSON.parse(s.Properties.SecretString as string))).toEqual([{ userName: 'app-smtp' }, { userName: 'legacy-sftp' }]);
  // (`secretAccessKey` does appear: as the name of a KMS encryption-context purpose, not a value.)
  const text = JSON.stringify(template);
  expect(/AKIA[0-9A-Z]{16}|PRIVATE KEY|GenerateSecretString/.exec(text)).toBeNull();
});

test('every acknowledgement names one finding and gives a reason', () => {
  // Prepare
  const app = nagApp();
  const stack = new KeyRotateExampleStack(app, 'KeyRotateExample');
  const acknowledgements: [string, string][] = [];
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) acknowledgements.push(...Object.entries(entry.data as Record<string, string>));
    }
    construct.node.children.forEach(visit);
  };

  // Act
  visit(stack);

  // Assess
  expect(acknowledgements.length).toBeGreaterThan(0);
  for (const [id, reason] of acknowledgements) {
    expect(id).toMatch(/AwsSolutions-(IAM5\[Resource::.+\]|SMG4)$/);
    expect(reason.length).toBeGreaterThan(40);
  }
});

test('the example app (cdk.json → infra/app.ts) synthesizes with bundling and the nag plugin', () => {
  // Prepare
  const outdir = mkdtempSync(path.join(tmpdir(), 'keyrotate-app-'));
  outdirs.push(outdir);
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { app: string };
  expect(cdkJson.app).toBe('npx tsx infra/app.ts');

  // Act
  const started = Date.now();
  const result = spawnSync('npx', ['tsx', 'infra/app.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_OUTDIR: outdir },
    encoding: 'utf8',
    timeout: 110_000,
  });
  const ms = Date.now() - started;

  // Assess
  expect(result.stderr).not.toMatch(/AwsSolutions|Error/);
  expect(result.status).toBe(0);
  const template = JSON.parse(readFileSync(path.join(outdir, 'KeyRotateExample.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
  expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(11);
  expect(readdirSync(outdir).filter((f) => f.startsWith('asset.'))).toHaveLength(11);
  console.log(`infra/app.ts synthesized (11 bundles, cdk-nag) in ${ms} ms`);
}, 120_000);

/**
 * `keyrotate rotate --local` and `keyrotate demo`, end to end: the CLI drives the local engine
 * against a standalone endpoint (as `keyrotate local-aws` runs it, through AWS_ENDPOINT_URL)
 * or the embedded one.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type LocalAws, startLocalAws } from '../../local/aws';
import type { LocalRotationEngine } from '../../local/engine/rotation-engine';
import { createDemoCommand, defaultDemoDependencies } from '../../cli/commands/demo';
import { main } from '../../cli/main';
import { memoryIo } from '../helpers/memory-io';

jest.setTimeout(120_000);

describe('keyrotate rotate --local', () => {
  let aws: LocalAws;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    aws = await startLocalAws({ region: 'eu-west-1' });
    env = { AWS_ENDPOINT_URL: aws.endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    const sm = new SecretsManagerClient({ endpoint: aws.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await sm.send(new CreateSecretCommand({ Name: 'mailer/smtp' }));
    sm.destroy();
  });

  afterAll(async () => {
    await aws?.stop();
  });

  it('rotates a user of the endpoint AWS_ENDPOINT_URL names, with progress on stderr and attributes on stdout', async () => {
    // Prepare
    aws.iam.createUser('mailer');
    const old = aws.iam.createAccessKey('mailer');
    const io = memoryIo('', env);

    // Act
    const code = await main(['rotate', '--local', '--user', 'mailer', '--secret-id', 'mailer/smtp', '--grace', '15m', '--wait-ms', '5'], io);
    const keys = aws.iam.listAccessKeys('mailer');
    const again = memoryIo('', env);
    const secondCode = await main(['rotate', '--local', '--user', 'mailer', '--secret-id', 'mailer/smtp', '--json'], again);

    // Assess
    expect({ code, err: code === 0 ? '' : io.err() }).toEqual({ code: 0, err: '' });
    const err = io.err();
    expect(err).toContain(`Local engine: endpoint ${aws.endpoint} (AWS_ENDPOINT_URL)`);
    expect(err).toMatch(/▸ Plan +task\n/);
    expect(err).toMatch(/✓ WaitGracePeriod +\d+ ms\n/);
    expect(err).toMatch(/Rotation succeeded in .* \(14 states, 14 state transitions, 8 Lambda invocations\)/);
    const out = io.out();
    expect(out).toMatch(/^id {16}= "AKIA[A-Z0-9]{16}"$/m);
    expect(out).toContain('user              = "mailer"');
    expect(out).toContain(`previous_key      = { id = "${old.accessKeyId}", action = "deleted" }`);
    expect(out).not.toContain(old.secretAccessKey);
    // The second run reused what the first provisioned on the endpoint (KMS key alias, lock table).
    expect(secondCode).toBe(0);
    const second = JSON.parse(again.out()) as { id: string; previousKey: { id: string } };
    expect(keys).toHaveLength(1);
    expect(second.previousKey.id).toBe(keys[0]?.accessKeyId);
    expect(aws.iam.listAccessKeys('mailer').map((k) => k.accessKeyId)).toEqual([second.id]);
    const secretValue = aws.secretsManager.getSecretString('mailer/smtp') ?? '';
    const stored = JSON.parse(secretValue) as { secretAccessKey: string };
    expect(again.out()).not.toContain(stored.secretAccessKey);
    expect(again.err()).not.toContain(stored.secretAccessKey);
  });

  it('prints the plan of a dry run and changes nothing', async () => {
    // Prepare
    aws.iam.createUser('planned');
    const old = aws.iam.createAccessKey('planned');
    const io = memoryIo('', env);

    // Act
    const code = await main(['rotate', '--local', '--user', 'planned', '--pgp-key', 'keybase:alice', '--dry-run'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^old_access_key_id += "${old.accessKeyId}"$`, 'm'));
    expect(io.out()).toMatch(/^dry_run += true$/m);
    expect(io.err()).toMatch(/Dry run succeeded in .*: nothing was changed/);
    expect(io.err()).toMatch(/✓ DryRunSucceeded +\d+ ms/);
    expect(aws.iam.listAccessKeys('planned').map((k) => k.accessKeyId)).toEqual([old.accessKeyId]);
  });

  it('exits 1 with the typed error and its message when the rotation fails', async () => {
    // Prepare
    const io = memoryIo('', env);

    // Act
    const code = await main(['rotate', '--local', '--user', 'nobody', '--pgp-key', 'keybase:alice'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toContain("keyrotate rotate: UserNotFoundError: IAM user 'nobody' does not exist");
  });
});

describe('keyrotate demo', () => {
  it('runs the four triggers end to end, prints the summary table and no plaintext secret', async () => {
    // Prepare
    let engine: LocalRotationEngine | undefined;
    const command = createDemoCommand({
      ...defaultDemoDependencies,
      startEngine: async (options) => {
        engine = await defaultDemoDependencies.startEngine(options);
        return engine;
      },
    });
    const io = memoryIo();

    // Act
    const code = await command.run([], io);

    // Assess
    expect(code).toBe(0);
    const out = io.out();
    expect(out).toMatch(/on demand → Secrets Manager +AKIA\w{16} +AKIA\w{16} deleted/);
    expect(out).toMatch(/on demand → PGP +AKIA\w{16} +AKIA\w{16} deactivated/);
    expect(out).toMatch(/Secrets Manager rotation +AKIA\w{16} +AKIA\w{16} deactivated +\S+ m?s +4 rotation steps/);
    expect(out).toMatch(/schedule rate\(30 days\) +AKIA\w{16} +AKIA\w{16} deleted/);
    expect(out).toContain('✓ encrypted_secret decrypts with openpgp');
    expect(out).toMatch(/✓ the decrypted secret belongs to AKIA\w{16}: signed with it, STS answers arn:aws:iam::000000000000:user\/demo\/demo-ci/);
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) expect(out).toMatch(new RegExp(`✓ ${step} +\\d`));
    const local = engine?.localAws;
    if (!local) throw new Error('the demo did not start the embedded endpoint');
    const storedSecrets = ['demo/app-credentials', 'demo/legacy-credentials', 'demo/mailer-smtp'].map(
      (name) => JSON.parse(local.secretsManager.getSecretString(name) ?? '{}') as { secretAccessKey: string; sesSmtpPasswords: Record<string, string> },
    );
    for (const stored of storedSecrets) {
      for (const secret of [stored.secretAccessKey, ...Object.values(stored.sesSmtpPasswords)]) {
        expect(out).not.toContain(secret);
        expect(io.err()).not.toContain(secret);
      }
    }
  });
});

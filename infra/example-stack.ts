/**
 * `KeyRotateExample`: one stack that shows each way to use the construct.
 * - `app-smtp`: scheduled every 30 days, delivered into a Secrets Manager secret, with an SES
 *   SMTP password for the stack's region (the default).
 * - `ci-deployer`: scheduled on the first of each month, encrypted to a PGP public key (the
 *   ciphertext is in the execution output, as Terraform's `encrypted_secret`).
 * - `legacy-sftp`: rotated by Secrets Manager itself (`addSecretsManagerRotation`).
 *
 * The IAM users are not created here: keyrotate rotates the keys of users that already exist.
 * Environment-agnostic (no account or region): `cdk synth` works offline on a fresh clone.
 */
import { Duration, SecretValue, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AccessKeyRotation } from './access-key-rotation';
import { EXAMPLE_PGP_PUBLIC_KEY } from './example-pgp-key';

export class KeyRotateExampleStack extends Stack {
  public readonly rotation: AccessKeyRotation;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // The secret names its user before the first rotation; keyrotate writes the rest.
    const appSmtpSecret = new Secret(this, 'AppSmtpSecret', {
      description: 'keyrotate example: access key and SES SMTP password of IAM user app-smtp',
      secretObjectValue: { userName: SecretValue.unsafePlainText('app-smtp') },
    });
    const legacySftpSecret = new Secret(this, 'LegacySftpSecret', {
      description: 'keyrotate example: access key of IAM user legacy-sftp (Secrets Manager rotation)',
      secretObjectValue: { userName: SecretValue.unsafePlainText('legacy-sftp') },
    });

    this.rotation = new AccessKeyRotation(this, 'KeyRotation', {
      users: [
        {
          userName: 'app-smtp',
          schedule: ScheduleExpression.rate(Duration.days(30)),
          delivery: { secret: appSmtpSecret },
        },
        {
          userName: 'ci-deployer',
          schedule: ScheduleExpression.cron({ minute: '0', hour: '6', day: '1' }),
          delivery: { pgpKey: EXAMPLE_PGP_PUBLIC_KEY },
          sesSmtpRegions: [],
          // PGP delivery: the new key reaches its owner through a person, so keep the old one
          // usable for a week, then Inactive (restorable) for another week.
          oldKey: { gracePeriod: Duration.days(7), deletionDelay: Duration.days(7) },
        },
      ],
      scope: { userNames: ['app-smtp', 'ci-deployer', 'legacy-sftp'] },
      gracePeriod: Duration.hours(1),
      deletionDelay: Duration.days(1),
    });
    this.rotation.addSecretsManagerRotation(legacySftpSecret, {
      userName: 'legacy-sftp',
      automaticallyAfter: Duration.days(30),
    });

    // AwsSolutions-SMG4 asks every secret to have a Secrets Manager rotation schedule.
    Validations.of(appSmtpSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotated by the keyrotate state machine on its EventBridge schedule (users[0].schedule), not by Secrets Manager.',
    });
  }
}

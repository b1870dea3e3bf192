/**
 * Builds test stacks around the real AccessKeyRotation construct. Bundling (esbuild, ~0.5 s per
 * Lambda) is skipped unless asked for: the template is the same, only the asset hashes differ.
 */
import { App, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { AccessKeyRotation, type AccessKeyRotationProps } from '../../infra/access-key-rotation';
import { EXAMPLE_PGP_PUBLIC_KEY } from '../../infra/example-pgp-key';

export interface TestStack {
  readonly app: App;
  readonly stack: Stack;
  readonly secret: ISecret;
  readonly rotation: AccessKeyRotation;
  readonly template: Template;
}

export function newApp(options: { bundle?: boolean; outdir?: string } = {}): App {
  return new App({
    outdir: options.outdir,
    context: {
      // [] = bundle no stack (the CDK's own switch, as `cdk synth --exclusively` uses).
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      'aws:cdk:enable-asset-metadata': true,
    },
  });
}

export function newStack(app: App, stackProps: StackProps = {}): Stack {
  return new Stack(app, 'TestStack', stackProps);
}

/** Props of a typical deployment: a scheduled Secrets Manager user and a scheduled PGP user. */
export function typicalProps(secret: ISecret): AccessKeyRotationProps {
  return {
    users: [
      { userName: 'app-smtp', schedule: ScheduleExpression.rate(Duration.days(30)), delivery: { secret } },
      {
        userName: 'ci-deployer',
        schedule: ScheduleExpression.cron({ minute: '0', hour: '6', day: '1' }),
        delivery: { pgpKey: EXAMPLE_PGP_PUBLIC_KEY },
        sesSmtpRegions: [],
        oldKey: { gracePeriod: Duration.days(7), action: 'deactivate' },
      },
    ],
    gracePeriod: Duration.hours(1),
    deletionDelay: Duration.days(1),
  };
}

export function buildStack(
  props: (secret: ISecret) => AccessKeyRotationProps = typicalProps,
  options: { bundle?: boolean; stackProps?: StackProps; configure?: (rotation: AccessKeyRotation, stack: Stack) => void } = {},
): TestStack {
  const app = newApp({ bundle: options.bundle });
  const stack = newStack(app, options.stackProps);
  const secret = new Secret(stack, 'AppSmtpSecret');
  const rotation = new AccessKeyRotation(stack, 'KeyRotation', props(secret));
  options.configure?.(rotation, stack);
  return { app, stack, secret, rotation, template: Template.fromStack(stack) };
}

/**
 * The example CDK app (`cdk.json` runs it): the KeyRotateExample stack, checked by cdk-nag's
 * AwsSolutions pack. A finding that is not acknowledged (each acknowledgement carries its
 * reason) fails the synthesis.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KeyRotateExampleStack } from './example-stack';

const app = new App();
new KeyRotateExampleStack(app, 'KeyRotateExample', {
  description: 'keyrotate example: safe rotation of IAM user access keys (Step Functions, Lambda, Scheduler)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

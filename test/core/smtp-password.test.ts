import { createHmac } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { getSigningKey } from '@smithy/signature-v4';
import { ValidationError } from '../../lambdas/core/errors';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';

describe('deriveSmtpPasswordV4', () => {
  it.each([
    // Published test vectors of the Terraform AWS provider (aws_iam_access_key ses_smtp_password_v4).
    ['eu-central-1', 'BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2'],
    ['us-west-1', 'BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj'],
  ])('matches the Terraform provider vector for %s', (region, expected) => {
    // Act
    const password = deriveSmtpPasswordV4('some+secret+key', region);

    // Assess
    expect(password).toBe(expected);
  });

  it('equals version byte 0x04 + HMAC("SendRawEmail") under the SigV4 signing key of the AWS SDK', async () => {
    // Prepare: an independent SigV4 implementation (Smithy) derives the signing key for the
    // fixed date 11111111, the region and the ses service.
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const signingKey = await getSigningKey(Sha256, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret }, '11111111', 'ap-northeast-3', 'ses');
    const expected = Buffer.concat([Buffer.from([0x04]), createHmac('sha256', signingKey).update('SendRawEmail').digest()]).toString('base64');

    // Act
    const password = deriveSmtpPasswordV4(secret, 'ap-northeast-3');

    // Assess
    expect(password).toBe(expected);
    expect(Buffer.from(password, 'base64')).toHaveLength(33);
    expect(Buffer.from(password, 'base64')[0]).toBe(0x04);
  });

  it('gives a different password per region and per secret', () => {
    // Act
    const passwords = new Set([
      deriveSmtpPasswordV4('secret-a', 'eu-west-1'),
      deriveSmtpPasswordV4('secret-a', 'eu-west-2'),
      deriveSmtpPasswordV4('secret-b', 'eu-west-1'),
    ]);

    // Assess
    expect(passwords.size).toBe(3);
  });

  it('computes for a region string it does not know, as Terraform does', () => {
    // Act
    const password = deriveSmtpPasswordV4('some+secret+key', 'xx-nowhere-9');

    // Assess
    // The version byte 0x04 encodes as 'B' followed by a character from A to P.
    expect(password).toMatch(/^B[A-P]/);
    expect(Buffer.from(password, 'base64')).toHaveLength(33);
  });

  it('fails when the secret is empty, naming the field', () => {
    // Act
    const act = () => deriveSmtpPasswordV4('', 'eu-west-1');

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow('invalid secretAccessKey: must not be empty');
  });

  it('fails when the region is empty, and the error does not carry the secret', () => {
    // Prepare
    const secret = 'do-not-leak-this-secret';

    // Act
    let caught: unknown;
    try {
      deriveSmtpPasswordV4(secret, '');
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe('region');
    expect(JSON.stringify({ message: (caught as Error).message, stack: (caught as Error).stack })).not.toContain(secret);
  });
});

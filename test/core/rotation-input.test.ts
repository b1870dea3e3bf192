import { ValidationError } from '../../lambdas/core/errors';
import { DEFAULT_OLD_KEY_POLICY, parseRotationInput } from '../../lambdas/core/rotation-input';

const config = { defaultSesSmtpRegions: ['eu-west-1'] };
const valid = { userName: 'loadbalancer', delivery: { type: 'secretsManager', secretId: 'keyrotate/loadbalancer' } };

function fieldOf(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseRotationInput', () => {
  test('applies every default to a minimal input', () => {
    // Prepare
    const input = valid;

    // Act
    const request = parseRotationInput(input, config);

    // Assess
    expect(request).toEqual({
      userName: 'loadbalancer',
      delivery: { type: 'secretsManager', secretId: 'keyrotate/loadbalancer' },
      sesSmtpRegions: ['eu-west-1'],
      newKeyStatus: 'Active',
      oldKey: DEFAULT_OLD_KEY_POLICY,
      dryRun: false,
    });
  });

  test('keeps every field of a full input', () => {
    // Prepare
    const input = {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      oldAccessKeyId: 'AKIAI44QH8DHBEXAMPLE',
      delivery: { type: 'pgp', pgpKey: 'keybase:alice' },
      sesSmtpRegions: ['us-east-1', 'eu-west-1', 'us-east-1'],
      newKeyStatus: 'Inactive',
      dryRun: true,
    };

    // Act
    const request = parseRotationInput(input, config);

    // Assess
    expect(request).toEqual({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      oldAccessKeyId: 'AKIAI44QH8DHBEXAMPLE',
      delivery: { type: 'pgp', pgpKey: 'keybase:alice' },
      sesSmtpRegions: ['us-east-1', 'eu-west-1'],
      newKeyStatus: 'Inactive',
      oldKey: DEFAULT_OLD_KEY_POLICY,
      dryRun: true,
    });
  });

  test('an explicit old-key policy is kept', () => {
    // Prepare
    const input = { ...valid, oldKey: { action: 'delete', gracePeriodSeconds: 3600, deletionDelaySeconds: 86400, requireUnusedSeconds: 600 } };

    // Act
    const request = parseRotationInput(input, config);

    // Assess
    expect(request.oldKey).toEqual({ action: 'delete', gracePeriodSeconds: 3600, deletionDelaySeconds: 86400, requireUnusedSeconds: 600 });
  });

  test('sesSmtpRegions [] means no SMTP password', () => {
    // Prepare
    const input = { ...valid, sesSmtpRegions: [] };

    // Act
    const request = parseRotationInput(input, config);

    // Assess
    expect(request.sesSmtpRegions).toEqual([]);
  });

  test('an unlisted but well-formed region passes only with allowUnlistedSesRegions', () => {
    // Prepare
    const input = { ...valid, sesSmtpRegions: ['ap-southeast-7'] };

    // Act
    const strict = () => parseRotationInput(input, config);
    const allowed = parseRotationInput({ ...input, allowUnlistedSesRegions: true }, config);

    // Assess
    expect(fieldOf(strict)).toBe('sesSmtpRegions');
    expect(allowed.sesSmtpRegions).toEqual(['ap-southeast-7']);
  });

  test('secret ARNs are accepted as secretId', () => {
    // Prepare
    const secretId = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keyrotate/lb-AbCdEf';

    // Act
    const request = parseRotationInput({ ...valid, delivery: { type: 'secretsManager', secretId } }, config);

    // Assess
    expect(request.delivery).toEqual({ type: 'secretsManager', secretId });
  });

  test('an armored PGP key may span lines', () => {
    // Prepare
    const armored = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n';

    // Act
    const act = () => parseRotationInput({ userName: 'x', delivery: { type: 'pgp', pgpKey: armored } }, config);

    // Assess: whatever the PGP parser thinks of the body, line breaks are not the complaint.
    try {
      act();
    } catch (error) {
      expect((error as Error).message).not.toMatch(/control characters/);
    }
  });

  const huge = 'a'.repeat(70_000);
  // [name, input, field named by the error]
  const rejected: Array<[string, unknown, string]> = [
    ['not an object', ['userName'], 'input'],
    ['null', null, 'input'],
    ['a string', '{"userName":"x"}', 'input'],
    ['an unknown top-level field (typo)', { ...valid, dryrun: true }, 'dryrun'],
    ['an unknown nested field in oldKey (typo)', { ...valid, oldKey: { gracePeriodSecond: 60 } }, 'oldKey.gracePeriodSecond'],
    ['an unknown field in delivery', { userName: 'x', delivery: { type: 'secretsManager', secretId: 's', kmsKeyId: 'k' } }, 'delivery.kmsKeyId'],
    ['a pgpKey on secretsManager delivery', { userName: 'x', delivery: { type: 'secretsManager', secretId: 's', pgpKey: 'keybase:a' } }, 'delivery.pgpKey'],
    ['neither userName nor accessKeyId', { delivery: valid.delivery }, 'userName'],
    ['both userName and accessKeyId', { ...valid, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, 'accessKeyId'],
    ['a numeric userName', { ...valid, userName: 42 }, 'userName'],
    ['an empty userName', { ...valid, userName: '' }, 'userName'],
    ['a userName with a slash', { ...valid, userName: 'team/lb' }, 'userName'],
    ['a userName longer than 64', { ...valid, userName: 'u'.repeat(65) }, 'userName'],
    ['a userName with a control character', { ...valid, userName: 'lb\u0000' }, 'userName'],
    ['a userName with a newline', { ...valid, userName: 'lb\nadmin' }, 'userName'],
    ['a lowercase access key id', { accessKeyId: 'akiaiosfodnn7example', delivery: valid.delivery }, 'accessKeyId'],
    ['a too short access key id', { accessKeyId: 'AKIA1234', delivery: valid.delivery }, 'accessKeyId'],
    ['a temporary (ASIA) access key id', { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', delivery: valid.delivery }, 'accessKeyId'],
    ['a secret access key pasted as oldAccessKeyId', { ...valid, oldAccessKeyId: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, 'oldAccessKeyId'],
    ['a missing delivery', { userName: 'x' }, 'delivery'],
    ['a delivery that is a string', { userName: 'x', delivery: 'secretsManager' }, 'delivery'],
    ['an unknown delivery type', { userName: 'x', delivery: { type: 'email' } }, 'delivery.type'],
    ['a missing secretId', { userName: 'x', delivery: { type: 'secretsManager' } }, 'delivery.secretId'],
    ['an empty secretId', { userName: 'x', delivery: { type: 'secretsManager', secretId: '' } }, 'delivery.secretId'],
    ['a secretId with a space', { userName: 'x', delivery: { type: 'secretsManager', secretId: 'my secret' } }, 'delivery.secretId'],
    ['a secretId over 2048 characters', { userName: 'x', delivery: { type: 'secretsManager', secretId: 's'.repeat(2049) } }, 'delivery.secretId'],
    ['an ARN of another service as secretId', { userName: 'x', delivery: { type: 'secretsManager', secretId: 'arn:aws:s3:::bucket' } }, 'delivery.secretId'],
    ['a missing pgpKey', { userName: 'x', delivery: { type: 'pgp' } }, 'delivery.pgpKey'],
    ['a pgpKey of an unknown form', { userName: 'x', delivery: { type: 'pgp', pgpKey: 'gitlab:alice' } }, 'delivery.pgpKey'],
    ['a bad keybase name', { userName: 'x', delivery: { type: 'pgp', pgpKey: 'keybase:a/../b' } }, 'delivery.pgpKey'],
    ['an oversized pgpKey', { userName: 'x', delivery: { type: 'pgp', pgpKey: huge } }, 'delivery.pgpKey'],
    ['a truncated inline pgpKey', { userName: 'x', delivery: { type: 'pgp', pgpKey: Buffer.from([0xc6, 0x10, 4, 1]).toString('base64') } }, 'delivery.pgpKey'],
    [
      'an armored pgpKey whose body is not base64',
      { userName: 'x', delivery: { type: 'pgp', pgpKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjME*not-a-key\n-----END PGP PUBLIC KEY BLOCK-----\n' } },
      'delivery.pgpKey',
    ],
    ['sesSmtpRegions as a string', { ...valid, sesSmtpRegions: 'eu-west-1' }, 'sesSmtpRegions'],
    ['a misspelt SES region', { ...valid, sesSmtpRegions: ['eu-west-l'] }, 'sesSmtpRegions'],
    ['a non-string SES region', { ...valid, sesSmtpRegions: [1] }, 'sesSmtpRegions[0]'],
    ['too many SES regions', { ...valid, sesSmtpRegions: Array.from({ length: 33 }, () => 'eu-west-1') }, 'sesSmtpRegions'],
    ['allowUnlistedSesRegions as a string', { ...valid, allowUnlistedSesRegions: 'yes' }, 'allowUnlistedSesRegions'],
    ['newKeyStatus in lower case', { ...valid, newKeyStatus: 'active' }, 'newKeyStatus'],
    ['newKeyStatus Inactive with Secrets Manager delivery', { ...valid, newKeyStatus: 'Inactive' }, 'newKeyStatus'],
    ['an oldKey policy with newKeyStatus Inactive', { userName: 'x', delivery: { type: 'pgp', pgpKey: 'keybase:alice' }, newKeyStatus: 'Inactive', oldKey: { action: 'delete' } }, 'oldKey'],
    ['oldKey as an array', { ...valid, oldKey: [] }, 'oldKey'],
    ['an unknown oldKey.action', { ...valid, oldKey: { action: 'destroy' } }, 'oldKey.action'],
    ['negative grace period', { ...valid, oldKey: { gracePeriodSeconds: -1 } }, 'oldKey.gracePeriodSeconds'],
    ['fractional grace period', { ...valid, oldKey: { gracePeriodSeconds: 1.5 } }, 'oldKey.gracePeriodSeconds'],
    ['grace period as a string', { ...valid, oldKey: { gracePeriodSeconds: '60' } }, 'oldKey.gracePeriodSeconds'],
    ['grace period over a year', { ...valid, oldKey: { gracePeriodSeconds: 31_536_001 } }, 'oldKey.gracePeriodSeconds'],
    ['deletion delay over a year', { ...valid, oldKey: { deletionDelaySeconds: 31_536_001 } }, 'oldKey.deletionDelaySeconds'],
    ['requireUnusedSeconds not a number', { ...valid, oldKey: { requireUnusedSeconds: null } }, 'oldKey.requireUnusedSeconds'],
    ['a deletion delay with action deactivate', { ...valid, oldKey: { action: 'deactivate', deletionDelaySeconds: 60 } }, 'oldKey.deletionDelaySeconds'],
    ['grace + deletion delay over a year', { ...valid, oldKey: { gracePeriodSeconds: 31_536_000, deletionDelaySeconds: 1 } }, 'oldKey'],
    ['dryRun as a string', { ...valid, dryRun: 'true' }, 'dryRun'],
  ];

  test.each(rejected)('fails on %s, naming the field', (_name, input, field) => {
    // Prepare
    const act = () => parseRotationInput(input, config);

    // Act
    const named = fieldOf(act);

    // Assess
    expect(named).toBe(field);
  });

  test('the bounds themselves are accepted (0 and a year)', () => {
    // Prepare
    const input = { ...valid, oldKey: { gracePeriodSeconds: 0, deletionDelaySeconds: 31_536_000, requireUnusedSeconds: 31_536_000 } };

    // Act
    const request = parseRotationInput(input, config);

    // Assess
    expect(request.oldKey.deletionDelaySeconds).toBe(31_536_000);
  });

  test('error messages never echo the value (a pasted secret stays out of logs)', () => {
    // Prepare
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const inputs = [
      { ...valid, oldAccessKeyId: secret },
      { accessKeyId: secret, delivery: valid.delivery },
      { userName: secret, delivery: valid.delivery },
      { ...valid, delivery: { type: 'secretsManager', secretId: `${secret} ` } },
    ];

    // Act
    const messages = inputs.map((input) => {
      try {
        parseRotationInput(input, config);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    });

    // Assess
    expect(messages.every((m) => m.length > 0)).toBe(true);
    for (const message of messages) expect(message).not.toContain(secret);
  });

  test('an unknown field name is shown bounded and printable', () => {
    // Prepare
    const input = { ...valid, ['x'.repeat(500) + '\u0007']: 1 };

    // Act
    const field = fieldOf(() => parseRotationInput(input, config));

    // Assess
    expect(field.length).toBeLessThanOrEqual(41);
  });
});

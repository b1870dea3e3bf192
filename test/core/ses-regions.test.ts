import { ValidationError } from '../../lambdas/core/errors';
import { SES_SMTP_REGIONS, checkSesSmtpRegions } from '../../lambdas/core/ses-regions';

describe('SES_SMTP_REGIONS', () => {
  it('is sorted and has no duplicates', () => {
    // Assess
    expect([...SES_SMTP_REGIONS]).toEqual([...SES_SMTP_REGIONS].sort());
    expect(new Set(SES_SMTP_REGIONS).size).toBe(SES_SMTP_REGIONS.length);
  });

  it.each([
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-west-3',
    'eu-central-1', 'eu-north-1', 'eu-south-1', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2',
    'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ca-central-1', 'sa-east-1', 'us-gov-west-1',
  ])('includes %s, which has an SES SMTP endpoint', (region) => {
    // Assess
    expect(SES_SMTP_REGIONS).toContain(region);
  });

  it('cannot be changed at run time', () => {
    // Act
    const act = () => (SES_SMTP_REGIONS as string[]).push('xx-evil-1');

    // Assess
    expect(act).toThrow(TypeError);
  });
});

describe('checkSesSmtpRegions', () => {
  it('returns the regions deduplicated, in the order given', () => {
    // Act
    const regions = checkSesSmtpRegions(['eu-west-3', 'us-west-1', 'eu-west-3', 'ap-northeast-3'], 'sesSmtpRegions', false);

    // Assess
    expect(regions).toEqual(['eu-west-3', 'us-west-1', 'ap-northeast-3']);
  });

  it('accepts an empty list (no SMTP password asked for)', () => {
    // Act
    const regions = checkSesSmtpRegions([], 'sesSmtpRegions', false);

    // Assess
    expect(regions).toEqual([]);
  });

  it('fails when a region has no SES SMTP endpoint, naming the field and the region and listing the valid ones', () => {
    // Act
    let caught: unknown;
    try {
      checkSesSmtpRegions(['eu-west-1', 'eu-west-l'], 'sesSmtpRegions', false);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.field).toBe('sesSmtpRegions');
    expect(error.message).toContain("'eu-west-l'");
    expect(error.message).toContain(SES_SMTP_REGIONS.join(', '));
  });

  it('fails for a region AWS has but SES SMTP does not list (cn-north-1)', () => {
    // Act
    const act = () => checkSesSmtpRegions(['cn-north-1'], 'sesSmtpRegions', false);

    // Assess
    expect(act).toThrow("invalid sesSmtpRegions: 'cn-north-1' is not a region with an SES SMTP endpoint");
  });

  it('accepts an unlisted but well-formed region when allowUnlisted is set', () => {
    // Act
    const regions = checkSesSmtpRegions(['ap-southeast-7', 'us-gov-west-1', 'eu-west-1'], 'sesSmtpRegions', true);

    // Assess
    expect(regions).toEqual(['ap-southeast-7', 'us-gov-west-1', 'eu-west-1']);
  });

  it.each(['EU-WEST-1', 'euwest1', 'eu-west', 'eu-west-1 ', 'e-west-1', '../etc-1', ''])(
    'fails for the malformed region %j even when allowUnlisted is set',
    (region) => {
      // Act
      const act = () => checkSesSmtpRegions([region], 'sesSmtpRegions', true);

      // Assess
      expect(act).toThrow(ValidationError);
      expect(act).toThrow('is not an AWS region name');
    },
  );

  it('fails when an entry is not a string', () => {
    // Act
    const act = () => checkSesSmtpRegions([42 as unknown as string], 'sesSmtpRegions', false);

    // Assess
    expect(act).toThrow('invalid sesSmtpRegions: every region must be a string');
  });

  it('fails when the value is not an array', () => {
    // Act
    const act = () => checkSesSmtpRegions('eu-west-1' as unknown as string[], 'sesSmtpRegions', false);

    // Assess
    expect(act).toThrow('invalid sesSmtpRegions: must be an array of region names');
  });

  it('quotes a huge bad value only in part', () => {
    // Prepare
    const huge = `x${'a'.repeat(10_000)}`;

    // Act
    let message = '';
    try {
      checkSesSmtpRegions([huge], 'sesSmtpRegions', false);
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toContain(`'x${'a'.repeat(39)}…'`);
    expect(message.length).toBeLessThan(1000);
  });
});

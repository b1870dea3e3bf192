import { envConfig } from '../../lambdas/adapters/env-config';
import { ConfigurationError } from '../../lambdas/core/errors';

describe('envConfig', () => {
  it('reads every KEYROTATE_* variable', () => {
    // Prepare
    const config = envConfig({
      KEYROTATE_KMS_KEY_ID: 'alias/keyrotate',
      KEYROTATE_LOCK_TABLE: 'keyrotate-locks',
      KEYROTATE_SCOPE: '{"userNames":["smtp"],"pathPrefix":"/service/","tag":{"key":"rotate","value":"yes"}}',
      KEYROTATE_DEFAULT_SES_REGIONS: '["eu-west-1","us-east-1"]',
      KEYROTATE_VERIFY_SECONDS: '45',
      KEYROTATE_ROTATION_OLD_KEY_ACTION: 'delete',
      KEYROTATE_ROTATION_LOCK_SECONDS: '900',
      KEYROTATE_KEYBASE_URL: 'http://127.0.0.1:4010/',
    });

    // Act + Assess
    expect(config.kmsKeyId()).toBe('alias/keyrotate');
    expect(config.lockTable()).toBe('keyrotate-locks');
    expect(config.scope()).toEqual({ userNames: ['smtp'], pathPrefix: '/service/', tag: { key: 'rotate', value: 'yes' } });
    expect(config.defaultSesRegions()).toEqual(['eu-west-1', 'us-east-1']);
    expect(config.verifySeconds()).toBe(45);
    expect(config.rotationOldKeyAction()).toBe('delete');
    expect(config.rotationLockSeconds()).toBe(900);
    expect(config.keybaseUrl()).toBe('http://127.0.0.1:4010');
  });

  it('applies the documented defaults', () => {
    const config = envConfig({ AWS_REGION: 'eu-north-1' });

    expect(config.defaultSesRegions()).toEqual(['eu-north-1']);
    expect(config.verifySeconds()).toBe(20);
    expect(config.rotationOldKeyAction()).toBe('deactivate');
    expect(config.rotationLockSeconds()).toBe(3600);
    expect(config.keybaseUrl()).toBe('https://keybase.io');
    expect(envConfig({}).defaultSesRegions()).toEqual([]);
  });

  it('only complains about a variable when it is read', () => {
    const config = envConfig({ KEYROTATE_KMS_KEY_ID: 'k' });

    expect(config.kmsKeyId()).toBe('k');
    expect(() => config.lockTable()).toThrow(ConfigurationError);
  });

  it.each([
    ['KEYROTATE_KMS_KEY_ID', '', (c: ReturnType<typeof envConfig>) => c.kmsKeyId(), 'is not set'],
    ['KEYROTATE_LOCK_TABLE', 'no spaces allowed', (c: ReturnType<typeof envConfig>) => c.lockTable(), 'is not a DynamoDB table'],
    ['KEYROTATE_SCOPE', '{not json', (c: ReturnType<typeof envConfig>) => c.scope(), 'must be an object'],
    ['KEYROTATE_SCOPE', '{"users":["a"]}', (c: ReturnType<typeof envConfig>) => c.scope(), 'KEYROTATE_SCOPE.users: unknown field'],
    ['KEYROTATE_SCOPE', '{"pathPrefix":"service"}', (c: ReturnType<typeof envConfig>) => c.scope(), 'pathPrefix'],
    ['KEYROTATE_SCOPE', '{"userNames":"smtp"}', (c: ReturnType<typeof envConfig>) => c.scope(), 'userNames'],
    ['KEYROTATE_SCOPE', '{"tag":{"key":"a"}}', (c: ReturnType<typeof envConfig>) => c.scope(), 'tag'],
    ['KEYROTATE_DEFAULT_SES_REGIONS', '["Europe"]', (c: ReturnType<typeof envConfig>) => c.defaultSesRegions(), 'region names'],
    ['KEYROTATE_VERIFY_SECONDS', '1.5', (c: ReturnType<typeof envConfig>) => c.verifySeconds(), "got '1.5'"],
    ['KEYROTATE_VERIFY_SECONDS', '0', (c: ReturnType<typeof envConfig>) => c.verifySeconds(), 'from 1 to 900'],
    ['KEYROTATE_ROTATION_OLD_KEY_ACTION', 'keep', (c: ReturnType<typeof envConfig>) => c.rotationOldKeyAction(), "'deactivate' or 'delete'"],
    ['KEYROTATE_ROTATION_LOCK_SECONDS', 'ten', (c: ReturnType<typeof envConfig>) => c.rotationLockSeconds(), 'whole number'],
    ['KEYROTATE_KEYBASE_URL', 'ftp://keybase.io', (c: ReturnType<typeof envConfig>) => c.keybaseUrl(), 'http(s)'],
  ])('fails when %s is %j, naming the variable', (variable, value, read, detail) => {
    // Prepare
    const config = envConfig({ [variable]: value });

    // Act
    const error = (() => {
      try {
        read(config);
      } catch (e) {
        return e;
      }
      return undefined;
    })();

    // Assess
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ name: 'ConfigurationError', variable });
    expect((error as Error).message).toContain(`environment variable ${variable}: `);
    expect((error as Error).message).toContain(detail);
  });

  it('reads each variable once per container', () => {
    const env: NodeJS.ProcessEnv = { KEYROTATE_VERIFY_SECONDS: '30' };
    const config = envConfig(env);

    expect(config.verifySeconds()).toBe(30);
    env.KEYROTATE_VERIFY_SECONDS = '60';
    expect(config.verifySeconds()).toBe(30);
  });
});

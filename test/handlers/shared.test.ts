import { lambdaContext } from './lambda-env';
import { KeyNotPropagatedError, SecretMismatchError } from '../../lambdas/core/errors';
import { safeIdentifiers, stepHandler, withheldError } from '../../lambdas/handlers/shared';
import { captureOutput, type Captured } from './capture';

let output: Captured;

beforeEach(() => {
  output = captureOutput();
});

afterEach(() => output.restore());

describe('safeIdentifiers', () => {
  it('copies identifier fields of known objects and nothing else', () => {
    // Prepare
    const event = {
      plan: { rotationId: 'r1', userName: 'smtp', oldAccessKeyId: 'AKIAOLD', delivery: { type: 'pgp', pgpKey: 'keybase:alice' } },
      newKey: { accessKeyId: 'AKIANEW', status: 'Active', sealedSecret: 'c2VhbGVk' },
      secretAccessKey: 'plain',
      delivery: { type: 'pgp', encryptedSecret: 'wcBMA', keyFingerprint: 'abcd' },
      error: { Error: 'VerificationFailedError', Cause: '{"errorMessage":"…"}' },
      smtp: { regions: ['eu-west-1'], sealedPasswords: 'c2VhbGVk' },
    };

    // Act
    const picked = safeIdentifiers(event);

    // Assess
    expect(picked).toEqual({
      plan: { rotationId: 'r1', userName: 'smtp', oldAccessKeyId: 'AKIAOLD', delivery: { type: 'pgp' } },
      newKey: { accessKeyId: 'AKIANEW', status: 'Active' },
      delivery: { type: 'pgp', keyFingerprint: 'abcd' },
      error: { Error: 'VerificationFailedError' },
    });
  });

  it('never copies an object or a non-string array under an identifier name', () => {
    expect(safeIdentifiers({ userName: { secretAccessKey: 'x' }, regions: [{ a: 1 }], id: 'AKIA1' })).toEqual({ id: 'AKIA1' });
    expect(safeIdentifiers('not an object')).toEqual({});
  });
});

describe('withheldError', () => {
  it('keeps the name and the stack frames, and withholds a message that may quote a secret', () => {
    // Prepare
    let parseError: unknown;
    try {
      JSON.parse('SECRETVALUE{');
    } catch (error) {
      parseError = error;
    }

    // Act
    const safe = withheldError('StoreSecret', parseError);

    // Assess
    expect(safe.name).toBe('SyntaxError');
    expect(safe.message).toBe('unexpected SyntaxError in StoreSecret; its message is withheld because it may quote secret data');
    expect(`${safe.message}\n${safe.stack}`).not.toContain('SECRETVALUE');
    expect(safe.stack?.split('\n').slice(1).every((line) => /^\s+at /.test(line))).toBe(true);
    expect(safe.stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('names a thrown non-Error value Error', () => {
    expect(withheldError('Plan', 'a string').name).toBe('Error');
  });
});

describe('stepHandler', () => {
  it('rethrows a KeyRotateError unchanged and logs its name, message and transience', async () => {
    const typed = new KeyNotPropagatedError('AKIANEW');
    const handler = stepHandler('VerifyNewKey', () => ({}), () => Promise.reject(typed));

    await expect(handler({ plan: { rotationId: 'r1' } }, lambdaContext())).rejects.toBe(typed);

    const [line] = output.logLines();
    expect(line).toMatchObject({
      level: 'ERROR',
      message: 'VerifyNewKey failed',
      errorName: 'KeyNotPropagatedError',
      errorMessage: typed.message,
      transient: true,
      event: { plan: { rotationId: 'r1' } },
    });
  });

  it('never logs the cause of an error', async () => {
    const typed = new SecretMismatchError('secret s holds no key', { cause: new Error('SDK said: the value was SECRETVALUE') });
    const handler = stepHandler('Plan', () => ({}), () => Promise.reject(typed));

    await expect(handler({}, lambdaContext())).rejects.toBe(typed);

    expect(output.text()).toContain('SecretMismatchError');
    expect(output.text()).not.toContain('SECRETVALUE');
  });

  it('rethrows any other error under its own name with the message withheld', async () => {
    const handler = stepHandler('StoreSecret', () => ({}), async () => {
      throw new TypeError('cannot read SECRETVALUE');
    });

    const error = (await handler({}, lambdaContext()).catch((e: unknown) => e)) as Error;

    expect(error.name).toBe('TypeError');
    expect(error.message).not.toContain('SECRETVALUE');
    expect(output.text()).not.toContain('SECRETVALUE');
    expect(output.logLines()[0]).toMatchObject({ errorName: 'TypeError', stack: expect.stringContaining('at ') });
  });

  it('builds the dependencies once per container, on the first invocation', async () => {
    const build = jest.fn(() => ({ built: true }));
    const handler = stepHandler('Plan', build, async (deps) => deps);

    expect(build).not.toHaveBeenCalled();
    await handler({}, lambdaContext());
    await handler({}, lambdaContext());

    expect(build).toHaveBeenCalledTimes(1);
  });
});

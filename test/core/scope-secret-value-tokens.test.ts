import { SecretMismatchError, UserOutOfScopeError, ValidationError } from '../../lambdas/core/errors';
import type { IamUser } from '../../lambdas/core/ports';
import { assertUserInScope, describeScope, isUserInScope, parseUserScope } from '../../lambdas/core/scope';
import { buildSecretValue, parseSecretValue, secretValueRegions, serializeSecretValue } from '../../lambdas/core/secret-value';
import { clientRequestTokenFor } from '../../lambdas/core/tokens';

function user(userName: string, path = '/', tags: Record<string, string> = {}): IamUser {
  return { userName, path, tags, arn: `arn:aws:iam::123456789012:user${path}${userName}` };
}

describe('scope', () => {
  test.each([
    ['a listed name', { userNames: ['lb'] }, user('lb'), true],
    ['an unlisted name', { userNames: ['lb'] }, user('other'), false],
    ['a path under the prefix', { pathPrefix: '/service/' }, user('lb', '/service/mail/'), true],
    ['a path outside the prefix', { pathPrefix: '/service/' }, user('lb', '/human/'), false],
    ['the tag with the right value', { tag: { key: 'keyrotate', value: 'yes' } }, user('lb', '/', { keyrotate: 'yes' }), true],
    ['the tag with another value', { tag: { key: 'keyrotate', value: 'yes' } }, user('lb', '/', { keyrotate: 'no' }), false],
    ['any rule of several', { userNames: ['a'], tag: { key: 'k', value: 'v' } }, user('b', '/', { k: 'v' }), true],
    ['an empty scope', {}, user('lb'), false],
  ])('%s', (_name, scope, candidate, expected) => {
    // Prepare / Act
    const inScope = isUserInScope(candidate, scope);

    // Assess
    expect(inScope).toBe(expected);
  });

  test('assertUserInScope names the user and the scope', () => {
    // Prepare
    const scope = { pathPrefix: '/service/' };

    // Act
    const act = () => assertUserInScope(user('admin'), scope);

    // Assess
    expect(act).toThrow(UserOutOfScopeError);
    expect(act).toThrow(/'admin'.*path prefix \/service\//);
  });

  test('describeScope of an empty scope says nobody is in it', () => {
    // Prepare / Act
    const text = describeScope({});

    // Assess
    expect(text).toBe('no user is in scope');
  });

  test('parseUserScope accepts every rule', () => {
    // Prepare
    const value = { userNames: ['lb'], pathPrefix: '/service/', tag: { key: 'keyrotate', value: 'true' } };

    // Act
    const scope = parseUserScope(value);

    // Assess
    expect(scope).toEqual(value);
  });

  test.each([
    ['an array', [], 'KEYROTATE_SCOPE'],
    ['an unknown rule', { users: ['lb'] }, 'KEYROTATE_SCOPE.users'],
    ['a bad user name', { userNames: ['a b'] }, 'KEYROTATE_SCOPE.userNames'],
    ['a path without slashes', { pathPrefix: 'service' }, 'KEYROTATE_SCOPE.pathPrefix'],
    ['a tag without value', { tag: { key: 'k' } }, 'KEYROTATE_SCOPE.tag'],
  ])('parseUserScope fails on %s', (_name, value, field) => {
    // Prepare
    const act = () => parseUserScope(value);

    // Act / Assess
    expect(act).toThrow(ValidationError);
    try {
      act();
    } catch (error) {
      expect((error as ValidationError).field).toBe(field);
    }
  });
});

describe('secret value', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const parts = {
    userName: 'lb',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: secret,
    createDate: '2026-03-02T09:00:00Z',
    smtpPasswords: { 'us-east-1': 'pw-us', 'eu-west-1': 'pw-eu' },
  };

  test('build puts the first region into the Terraform-style single fields', () => {
    // Prepare / Act
    const value = buildSecretValue(parts);

    // Assess
    expect(value).toEqual({
      userName: 'lb',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: secret,
      sesSmtpPasswordV4: 'pw-us',
      sesSmtpRegion: 'us-east-1',
      sesSmtpPasswords: { 'us-east-1': 'pw-us', 'eu-west-1': 'pw-eu' },
      createDate: '2026-03-02T09:00:00Z',
    });
  });

  test('without regions there is no single SMTP field', () => {
    // Prepare / Act
    const value = buildSecretValue({ ...parts, smtpPasswords: {} });

    // Assess
    expect(value).not.toHaveProperty('sesSmtpPasswordV4');
    expect(value).not.toHaveProperty('sesSmtpRegion');
    expect(value.sesSmtpPasswords).toEqual({});
  });

  test('serialize is stable and parse reads it back', () => {
    // Prepare
    const value = buildSecretValue(parts);

    // Act
    const text = serializeSecretValue(value);
    const again = serializeSecretValue({ ...value });
    const parsed = parseSecretValue(text, 'sec');

    // Assess
    expect(again).toBe(text);
    expect(Object.keys(JSON.parse(text) as object)).toEqual([
      'userName', 'accessKeyId', 'secretAccessKey', 'sesSmtpPasswordV4', 'sesSmtpRegion', 'sesSmtpPasswords', 'createDate',
    ]);
    expect(parsed).toEqual({ kind: 'full', value });
    expect(secretValueRegions(value)).toEqual(['us-east-1', 'eu-west-1']);
  });

  test('a seed names the user, optionally with regions', () => {
    // Prepare / Act
    const bare = parseSecretValue('{"userName":"lb"}', 'sec');
    const withRegions = parseSecretValue('{"userName":"lb","sesSmtpRegions":[]}', 'sec');

    // Assess
    expect(bare).toEqual({ kind: 'seed', userName: 'lb' });
    expect(withRegions).toEqual({ kind: 'seed', userName: 'lb', sesSmtpRegions: [] });
  });

  const full = JSON.parse(serializeSecretValue(buildSecretValue(parts))) as Record<string, unknown>;
  test.each([
    ['not JSON', `not json ${secret}`],
    ['a JSON array', '[]'],
    ['no userName', JSON.stringify({ ...full, userName: undefined })],
    ['a seed with an extra field', JSON.stringify({ userName: 'lb', password: secret })],
    ['a full value with an extra field', JSON.stringify({ ...full, note: 'x' })],
    ['a bad access key id', JSON.stringify({ ...full, accessKeyId: 'nope' })],
    ['an empty secret', JSON.stringify({ ...full, secretAccessKey: '' })],
    ['a bad date', JSON.stringify({ ...full, createDate: 'yesterday' })],
    ['SMTP fields that disagree', JSON.stringify({ ...full, sesSmtpPasswordV4: 'other' })],
    ['passwords without the single fields', JSON.stringify({ ...full, sesSmtpPasswordV4: undefined, sesSmtpRegion: undefined })],
    ['seed regions that are not strings', '{"userName":"lb","sesSmtpRegions":[1]}'],
  ])('parse fails on %s without quoting the value', (_name, text) => {
    // Prepare
    const act = () => parseSecretValue(text, 'sec');

    // Act
    let message = '';
    try {
      act();
    } catch (error) {
      expect(error).toBeInstanceOf(SecretMismatchError);
      message = (error as Error).message;
    }

    // Assess
    expect(message).toMatch(/^secret 'sec' does not hold keyrotate's value/);
    expect(message).not.toContain(secret);
  });
});

describe('clientRequestTokenFor', () => {
  test('is a stable, UUID-shaped, rotation-specific token', () => {
    // Prepare
    const id = 'rotation-2026-03-02';

    // Act
    const first = clientRequestTokenFor(id);
    const second = clientRequestTokenFor(id);
    const other = clientRequestTokenFor(`${id}x`);

    // Assess
    expect(first).toBe(second);
    expect(first).not.toBe(other);
    expect(first).toHaveLength(36);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

import * as openpgp from 'openpgp';
import { HttpsPgpKeyFetcher } from '../../lambdas/adapters/https-pgp-key-fetcher';
import { PgpKeyError, PgpKeyFetchError, ValidationError } from '../../lambdas/core/errors';
import {
  type ResolvedPgpKey,
  displayUrl,
  encryptForPgpKey,
  fetchUrlProblem,
  isLoopbackHost,
  parsePgpKeySpec,
  resolvePgpKey,
} from '../../lambdas/core/pgp';
import type { PgpKeyFetcher } from '../../lambdas/core/ports';
import { type GpgKeyring, type GpgTestKey, type KeyServer, createGpgKeyring, keybaseAnswer, startKeyServer } from '../helpers/pgp-keys';

/** An in-memory fetcher: answers by URL, records what was asked. */
class MemoryFetcher implements PgpKeyFetcher {
  readonly urls: string[] = [];
  constructor(private readonly answers: Record<string, string | Error>) {}
  async fetchText(url: string): Promise<string> {
    this.urls.push(url);
    const answer = this.answers[url];
    if (answer === undefined) throw new PgpKeyFetchError(displayUrl(url), 'HTTP 404 (not found)');
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

const noNetwork = new MemoryFetcher({});
const options = { keybaseUrl: 'https://keybase.example' };
const KEYBASE_ALICE = 'https://keybase.example/_/api/1.0/user/lookup.json?usernames=alice&fields=public_keys';

/** Runs `act` and returns what it threw (fails the test when it throws nothing). */
async function caught(act: () => unknown): Promise<Error> {
  try {
    await act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Tag of the first OpenPGP packet of a binary message. */
function firstTag(bytes: Buffer): number {
  const header = bytes[0] ?? 0;
  return (header & 0x40) !== 0 ? header & 0x3f : (header >> 2) & 0x0f;
}

let keys: GpgKeyring;

beforeAll(() => {
  keys = createGpgKeyring();
});

afterAll(() => {
  keys?.dispose();
});

describe('parsePgpKeySpec', () => {
  it('recognises base64 of a binary key, ignoring whitespace and newlines (Terraform form)', () => {
    // Prepare
    const wrapped = keys.rsa.base64.replace(/(.{64})/g, '$1\n  ');

    // Act
    const spec = parsePgpKeySpec(`\n${wrapped}\n`);

    // Assess
    expect(spec).toEqual({ form: 'base64-binary' });
  });

  it('recognises an armored key and base64 of an armored key', () => {
    // Act
    const armored = parsePgpKeySpec(keys.curve.armored);
    const base64Armored = parsePgpKeySpec(Buffer.from(keys.curve.armored).toString('base64'));

    // Assess
    expect(armored).toEqual({ form: 'armored' });
    expect(base64Armored).toEqual({ form: 'base64-armored' });
  });

  it('recognises keybase:NAME without touching the network', () => {
    // Act
    const spec = parsePgpKeySpec('keybase:alice_01');

    // Assess
    expect(spec).toEqual({ form: 'keybase', name: 'alice_01' });
  });

  it('maps github:NAME to https://github.com/NAME.gpg', () => {
    // Act
    const spec = parsePgpKeySpec('github:octo-cat');

    // Assess
    expect(spec).toEqual({ form: 'github', name: 'octo-cat', url: 'https://github.com/octo-cat.gpg' });
  });

  it('replaces every %s of an external URL by the URL-encoded name', () => {
    // Act
    const spec = parsePgpKeySpec('external:ops+keys@example.com|https://keys.example.com/pks/%s/key?owner=%s');

    // Assess
    expect(spec).toEqual({
      form: 'external',
      name: 'ops+keys@example.com',
      url: 'https://keys.example.com/pks/ops%2Bkeys%40example.com/key?owner=ops%2Bkeys%40example.com',
    });
  });

  it.each(['http://127.0.0.1:8080/%s.asc', 'http://127.3.4.5/%s', 'http://localhost/%s', 'http://[::1]:9/%s'])(
    'accepts plain http for the loopback URL %s',
    (url) => {
      // Act
      const spec = parsePgpKeySpec(`external:alice|${url}`);

      // Assess
      expect(spec.form).toBe('external');
    },
  );

  it.each([
    ['external:alice|http://keys.example.com/%s', 'PGP key (external): plain http is refused for keys.example.com; use https'],
    ['external:alice|ftp://keys.example.com/%s', 'PGP key (external): only https URLs are allowed (got ftp:)'],
    ['external:alice|/relative/%s', 'PGP key (external): the URL after | is not an absolute https URL'],
    ['external:alice', 'PGP key (external): expected external:NAME|URL'],
    ['external:../etc|https://keys.example.com/%s', "PGP key (external): invalid name '../etc'"],
    ['external:a/b|https://keys.example.com/%s', "PGP key (external): invalid name 'a/b'"],
    ['external:.hidden|https://keys.example.com/%s', "PGP key (external): invalid name '.hidden'"],
    ['external:|https://keys.example.com/%s', "PGP key (external): invalid name ''"],
    ['keybase:a', "PGP key (keybase): invalid Keybase user name 'a'"],
    ['keybase:alice/../bob', "PGP key (keybase): invalid Keybase user name 'alice/../bob'"],
    ['keybase:abcdefghijklmnopq', "PGP key (keybase): invalid Keybase user name 'abcdefghijklmnopq'"],
    ['github:-octo', "PGP key (github): invalid GitHub user name '-octo'"],
    ['github:octo--cat', "PGP key (github): invalid GitHub user name 'octo--cat'"],
    ['github:octo/cat', "PGP key (github): invalid GitHub user name 'octo/cat'"],
    [`github:${'a'.repeat(40)}`, 'PGP key (github): invalid GitHub user name'],
  ])('fails for %j', (spec, message) => {
    // Act
    const act = () => parsePgpKeySpec(spec);

    // Assess
    expect(act).toThrow(PgpKeyError);
    expect(act).toThrow(message);
  });

  it('fails for base64 that is not an OpenPGP public key packet sequence', () => {
    // Act
    const act = () => parsePgpKeySpec(Buffer.from('just some text, not a key').toString('base64'));

    // Assess
    expect(act).toThrow('PGP key (base64-binary): not an OpenPGP public key packet sequence');
  });

  it('fails for a secret key, binary or armored, asking for the public key', () => {
    // Act
    const binary = () => parsePgpKeySpec(keys.rsaSecretBinary.toString('base64'));
    const armored = () => parsePgpKeySpec(keys.rsaSecretArmored);

    // Assess
    expect(binary).toThrow('PGP key (base64-binary): is a secret key; give the public key');
    expect(armored).toThrow('PGP key (armored): is a private key block; give the public key');
  });

  it('fails for an armored block that is not a public key block', () => {
    // Act
    const act = () => parsePgpKeySpec('-----BEGIN PGP MESSAGE-----\n\nwcBMA\n-----END PGP MESSAGE-----');

    // Assess
    expect(act).toThrow('PGP key (armored): is an armored "MESSAGE", not a PUBLIC KEY BLOCK');
  });

  it('fails with a ValidationError naming the field for an unknown form', () => {
    // Act
    const error = (() => {
      try {
        parsePgpKeySpec('gitlab:alice', 'delivery.pgpKey');
      } catch (e) {
        return e;
      }
      return undefined;
    })();

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('delivery.pgpKey');
    expect((error as Error).message).toContain("unknown PGP key form 'gitlab:'");
    expect((error as Error).message).toContain('keybase:NAME, external:NAME|URL or github:NAME');
  });

  it('fails with a ValidationError for an empty key and for text that is no form at all', () => {
    // Act
    const empty = () => parsePgpKeySpec('   ', '--pgp-key');
    const text = () => parsePgpKeySpec('not a key!');

    // Assess
    expect(empty).toThrow('invalid --pgp-key: must not be empty');
    expect(text).toThrow('invalid delivery.pgpKey: not a recognised PGP key form');
  });

  it('never echoes huge input in its error', () => {
    // Prepare
    const huge = `keybase:${'x'.repeat(100_000)}`;

    // Act
    const error = (() => {
      try {
        parsePgpKeySpec(huge);
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    })();

    // Assess
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('fetch URL policy', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['[::1]', true],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
    ['[::2]', false],
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    // Assess
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it('allows https anywhere and http to loopback only; URLs are displayed without query or credentials', () => {
    // Assess
    expect(fetchUrlProblem(new URL('https://keys.example.com/a'))).toBeNull();
    expect(fetchUrlProblem(new URL('http://127.0.0.1/a'))).toBeNull();
    expect(fetchUrlProblem(new URL('http://example.com/a'))).toBe('plain http is refused for example.com; use https');
    expect(fetchUrlProblem(new URL('file:///etc/passwd'))).toBe('only https URLs are allowed (got file:)');
    expect(displayUrl('https://user:pw@keys.example.com/a/b?token=t')).toBe('https://keys.example.com/a/b');
  });
});

describe('resolvePgpKey and encryptForPgpKey with inline keys', () => {
  const forms: Array<[string, (key: GpgTestKey) => string, string]> = [
    ['base64 of the binary export', (key) => key.base64, 'base64-binary'],
    ['the armored export', (key) => key.armored, 'armored'],
    ['base64 of the armored export', (key) => Buffer.from(key.armored).toString('base64'), 'base64-armored'],
  ];
  const kinds: Array<[string, (ring: GpgKeyring) => GpgTestKey]> = [
    ['RSA', (ring) => ring.rsa],
    ['Curve25519', (ring) => ring.curve],
  ];

  describe.each(kinds)('%s key', (_kind, pick) => {
    it.each(forms)('from %s: fingerprint equals gpg, and gpg --decrypt recovers the plaintext', async (_name, spec, form) => {
      // Prepare
      const key = pick(keys);
      const plaintext = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

      // Act
      const resolved = await resolvePgpKey(spec(key), noNetwork, options);
      const encrypted = await encryptForPgpKey(plaintext, resolved);

      // Assess
      expect(resolved.form).toBe(form);
      expect(resolved.fingerprint).toBe(key.fingerprint);
      expect(resolved.fingerprint).toMatch(/^[0-9a-f]{40}$/);
      expect(encrypted).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(keys.decrypt(Buffer.from(encrypted, 'base64')).toString('utf8')).toBe(plaintext);
      expect(noNetwork.urls).toEqual([]);
    });
  });

  it('writes a binary message that starts with a public-key encrypted session key packet', async () => {
    // Prepare
    const resolved = await resolvePgpKey(keys.rsa.base64, noNetwork, options);

    // Act
    const encrypted = Buffer.from(await encryptForPgpKey('secret', resolved), 'base64');

    // Assess
    expect(firstTag(encrypted)).toBe(1);
  });

  it('writes an unsigned message', async () => {
    // Prepare
    const resolved = await resolvePgpKey(keys.rsa.armored, noNetwork, options);
    const privateKey = await openpgp.readPrivateKey({ armoredKey: keys.rsaSecretArmored });

    // Act
    const encrypted = await encryptForPgpKey('secret', resolved);

    // Assess
    const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(Buffer.from(encrypted, 'base64')) });
    const { data, signatures } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary' });
    expect(Buffer.from(data as Uint8Array).toString('utf8')).toBe('secret');
    expect(signatures).toEqual([]);
  });

  it('gives ASCII armor with armor: true, which gpg decrypts too', async () => {
    // Prepare
    const resolved = await resolvePgpKey(keys.curve.base64, noNetwork, options);

    // Act
    const armored = await encryptForPgpKey('armored secret', resolved, { armor: true });

    // Assess
    expect(armored.startsWith('-----BEGIN PGP MESSAGE-----')).toBe(true);
    expect(keys.decrypt(armored).toString('utf8')).toBe('armored secret');
  });

  it('keeps the plaintext byte for byte: line endings and non-ASCII characters', async () => {
    // Prepare
    const resolved = await resolvePgpKey(keys.curve.armored, noNetwork, options);
    const plaintext = 'line 1\nline 2\r\nünïcödé ✓\n';

    // Act
    const encrypted = await encryptForPgpKey(plaintext, resolved);

    // Assess
    expect(keys.decrypt(Buffer.from(encrypted, 'base64')).equals(Buffer.from(plaintext, 'utf8'))).toBe(true);
  });

  it('encrypts to a fresh session key every time', async () => {
    // Prepare
    const resolved = await resolvePgpKey(keys.curve.armored, noNetwork, options);

    // Act
    const first = await encryptForPgpKey('same', resolved);
    const second = await encryptForPgpKey('same', resolved);

    // Assess
    expect(first).not.toBe(second);
  });

  it('returns a self-contained armored public key that resolves to the same fingerprint', async () => {
    // Prepare
    const resolved = await resolvePgpKey(keys.rsa.base64, noNetwork, options);

    // Act
    const again = await resolvePgpKey(resolved.armoredPublicKey, noNetwork, options);

    // Assess
    expect(resolved.armoredPublicKey.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')).toBe(true);
    expect(again.fingerprint).toBe(keys.rsa.fingerprint);
  });

  it('fails for a key without an encryption subkey, saying so', async () => {
    // Act
    const error = await caught(() => resolvePgpKey(keys.signOnly.base64, noNetwork, options));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toBe(
      `PGP key (base64-binary): key ${keys.signOnly.fingerprint} cannot encrypt: it has no valid encryption subkey ` +
        '(signing-only, or the subkey is expired or revoked)',
    );
  });

  it('fails for a revoked key, saying so', async () => {
    // Act
    const error = await caught(() => resolvePgpKey(keys.revoked.armored, noNetwork, options));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toBe(`PGP key (armored): key ${keys.revoked.fingerprint} is revoked and cannot be used for encryption`);
  });

  it('accepts a key before it expires and fails for it afterwards, saying so', async () => {
    // Prepare
    const later = new Date(Date.now() + 2 * 24 * 3600 * 1000);

    // Act
    const now = await resolvePgpKey(keys.expiring.base64, noNetwork, options);
    const error = await caught(() => resolvePgpKey(keys.expiring.base64, noNetwork, { ...options, now: later }));

    // Assess
    expect(now.fingerprint).toBe(keys.expiring.fingerprint);
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toMatch(
      new RegExp(`^PGP key \\(base64-binary\\): key ${keys.expiring.fingerprint} expired on \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z and cannot be used for encryption$`),
    );
  });

  it('fails for a bundle of several keys, binary or armored', async () => {
    // Prepare
    const binaryBundle = Buffer.concat([keys.rsa.binary, keys.curve.binary]).toString('base64');
    const armoredBundle = `${keys.rsa.armored}\n${keys.curve.armored}`;

    // Act
    const binary = await caught(() => resolvePgpKey(binaryBundle, noNetwork, options));
    const armored = await caught(() => resolvePgpKey(armoredBundle, noNetwork, options));

    // Assess
    expect(binary.message).toBe(
      `PGP key (base64-binary): contains 2 keys (${keys.rsa.fingerprint}, ${keys.curve.fingerprint}); exactly one is expected`,
    );
    expect(armored.message).toBe('PGP key (armored): holds 2 public key blocks; exactly one key is expected');
  });

  it('fails for a truncated key with a PgpKeyError naming the form', async () => {
    // Prepare
    const truncated = keys.rsa.binary.subarray(0, 40).toString('base64');

    // Act
    const error = await caught(() => resolvePgpKey(truncated, noNetwork, options));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toMatch(/^PGP key \(base64-binary\): not an OpenPGP public key packet sequence/);
  });

  it('wraps an encryption failure in a PgpKeyError naming the key', async () => {
    // Prepare: a resolved key whose armor was damaged in transit.
    const broken: ResolvedPgpKey = { form: 'armored', fingerprint: 'ab'.repeat(20), armoredPublicKey: 'garbage' };

    // Act
    const error = await caught(() => encryptForPgpKey('secret', broken));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toMatch(new RegExp(`^PGP key \\(armored\\): cannot encrypt to key ${'ab'.repeat(20)}: `));
    expect(error.message).not.toContain('secret');
  });
});

describe('resolvePgpKey with remote forms (in-memory fetcher)', () => {
  it('looks a keybase: user up at KEYBASE_URL/_/api/1.0/user/lookup.json and uses the primary bundle', async () => {
    // Prepare
    const fetcher = new MemoryFetcher({ [KEYBASE_ALICE]: keybaseAnswer(keys.curve.armored) });

    // Act
    const resolved = await resolvePgpKey('keybase:alice', fetcher, { keybaseUrl: 'https://keybase.example/' });

    // Assess
    expect(fetcher.urls).toEqual([KEYBASE_ALICE]);
    expect(resolved).toMatchObject({ form: 'keybase', fingerprint: keys.curve.fingerprint });
  });

  it.each([
    [
      'a non-zero status',
      JSON.stringify({ status: { code: 100, name: 'INPUT_ERROR', desc: 'bad list value' } }),
      "PGP key (keybase): looking up 'alice': Keybase answered INPUT_ERROR (code 100): 'bad list value'",
    ],
    ['them: [null] (unknown user)', JSON.stringify({ status: { code: 0, name: 'OK' }, them: [null] }), "PGP key (keybase): no Keybase user named 'alice'"],
    ['an empty them', JSON.stringify({ status: { code: 0, name: 'OK' }, them: [] }), "PGP key (keybase): no Keybase user named 'alice'"],
    [
      'a user without a primary key',
      JSON.stringify({ status: { code: 0, name: 'OK' }, them: [{ id: 'x', public_keys: {} }] }),
      "PGP key (keybase): Keybase user 'alice' has no primary public key",
    ],
    [
      'a primary key that is not OpenPGP',
      JSON.stringify({ status: { code: 0, name: 'OK' }, them: [{ public_keys: { primary: { bundle: '0120abcdef' } } }] }),
      "PGP key (keybase): the primary key of Keybase user 'alice' is not an OpenPGP public key",
    ],
    ['something that is not JSON', '<html>maintenance</html>', "PGP key (keybase): looking up 'alice': Keybase did not answer with JSON"],
  ])('fails for a Keybase answer with %s', async (_case, answer, message) => {
    // Prepare
    const fetcher = new MemoryFetcher({ [KEYBASE_ALICE]: answer });

    // Act
    const error = await caught(() => resolvePgpKey('keybase:alice', fetcher, options));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toBe(message);
  });

  it('fails when the Keybase bundle holds several keys', async () => {
    // Prepare
    const fetcher = new MemoryFetcher({ [KEYBASE_ALICE]: keybaseAnswer(`${keys.rsa.armored}${keys.curve.armored}`) });

    // Act
    const error = await caught(() => resolvePgpKey('keybase:alice', fetcher, options));

    // Assess
    expect(error.message).toBe('PGP key (keybase): holds 2 public key blocks; exactly one key is expected');
  });

  it('names the form and the user when the fetch fails', async () => {
    // Prepare
    const fetcher = new MemoryFetcher({ [KEYBASE_ALICE]: new PgpKeyFetchError('https://keybase.example/_/api/1.0/user/lookup.json', 'timed out after 10000 ms') });

    // Act
    const error = await caught(() => resolvePgpKey('keybase:alice', fetcher, options));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toBe(
      "PGP key (keybase): looking up 'alice': cannot fetch https://keybase.example/_/api/1.0/user/lookup.json: timed out after 10000 ms",
    );
    expect(error.cause).toBeInstanceOf(PgpKeyFetchError);
  });

  it('fetches github:NAME from the configurable GitHub base URL', async () => {
    // Prepare
    const fetcher = new MemoryFetcher({ 'https://ghe.example.com/octocat.gpg': keys.rsa.armored });

    // Act
    const resolved = await resolvePgpKey('github:octocat', fetcher, { ...options, githubUrl: 'https://ghe.example.com' });

    // Assess
    expect(resolved).toMatchObject({ form: 'github', fingerprint: keys.rsa.fingerprint });
  });

  it('defaults the GitHub base URL to https://github.com', async () => {
    // Prepare
    const fetcher = new MemoryFetcher({ 'https://github.com/octocat.gpg': keys.curve.armored });

    // Act
    const resolved = await resolvePgpKey('github:octocat', fetcher, options);

    // Assess
    expect(fetcher.urls).toEqual(['https://github.com/octocat.gpg']);
    expect(resolved.fingerprint).toBe(keys.curve.fingerprint);
  });

  it('fails for a GitHub user without keys (an armored block with no key in it)', async () => {
    // Prepare: what GitHub serves for a user who uploaded no GPG key.
    const empty = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nNote: This user hasn't uploaded any GPG keys.\n\n\n=twTO\n-----END PGP PUBLIC KEY BLOCK-----\n";
    const fetcher = new MemoryFetcher({ 'https://github.com/nokeys.gpg': empty });

    // Act
    const error = await caught(() => resolvePgpKey('github:nokeys', fetcher, options));

    // Assess
    expect(error.message).toBe('PGP key (github): contains no public key');
  });

  it('fails for a GitHub user with several keys', async () => {
    // Prepare: GitHub serves all of a user's keys in one armored block.
    const armored = openpgp.armor(openpgp.enums.armor.publicKey, new Uint8Array(Buffer.concat([keys.rsa.binary, keys.curve.binary])));
    const fetcher = new MemoryFetcher({ 'https://github.com/two.gpg': armored });

    // Act
    const error = await caught(() => resolvePgpKey('github:two', fetcher, options));

    // Assess
    expect(error.message).toMatch(/^PGP key \(github\): contains 2 keys \(.*\); exactly one is expected$/);
  });

  it('accepts a base64 key from an external URL and labels its errors with the external form', async () => {
    // Prepare
    const url = 'https://keys.example.com/ops.b64';
    const good = new MemoryFetcher({ [url]: keys.rsa.base64 });
    const bad = new MemoryFetcher({ [url]: keys.rsaSecretArmored });

    // Act
    const resolved = await resolvePgpKey('external:ops|https://keys.example.com/%s.b64', good, options);
    const error = await caught(() => resolvePgpKey('external:ops|https://keys.example.com/%s.b64', bad, options));

    // Assess
    expect(resolved).toMatchObject({ form: 'external', fingerprint: keys.rsa.fingerprint });
    expect(error.message).toBe('PGP key (external): the fetched document is a private key block; give the public key (gpg --armor --export)');
  });

  it('fails when an external URL serves base64 that is no key packet', async () => {
    // Prepare
    const fetcher = new MemoryFetcher({ 'https://keys.example.com/ops': Buffer.from('plain words').toString('base64') });

    // Act
    const error = await caught(() => resolvePgpKey('external:ops|https://keys.example.com/%s', fetcher, options));

    // Assess
    expect(error.message).toBe('PGP key (external): the fetched document is not an OpenPGP public key packet sequence');
  });

  it('fails when an external URL serves something that is no key at all', async () => {
    // Prepare
    const fetcher = new MemoryFetcher({ 'https://keys.example.com/ops': '<html>Not here</html>' });

    // Act
    const error = await caught(() => resolvePgpKey('external:ops|https://keys.example.com/%s', fetcher, options));

    // Assess
    expect(error.message).toBe('PGP key (external): the fetched document is neither an armored nor a base64 OpenPGP public key');
  });

  it('reports a 404 with the form and the URL', async () => {
    // Act
    const error = await caught(() => resolvePgpKey('github:ghost', noNetwork, options));

    // Assess
    expect(error.message).toBe("PGP key (github): fetching the keys of 'ghost': cannot fetch https://github.com/ghost.gpg: HTTP 404 (not found)");
  });
});

describe('resolvePgpKey with remote forms over HTTP (HttpsPgpKeyFetcher, local server)', () => {
  let server: KeyServer;

  beforeAll(async () => {
    server = await startKeyServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/_/api/1.0/user/lookup.json' && url.searchParams.get('usernames') === 'alice') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(keybaseAnswer(keys.rsa.armored));
      } else if (url.pathname === '/_/api/1.0/user/lookup.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: { code: 0, name: 'OK' }, them: [null] }));
      } else if (url.pathname === '/octocat.gpg') {
        res.writeHead(200, { 'content-type': 'application/pgp-keys' }).end(keys.curve.armored);
      } else if (url.pathname === '/pks/ops%40example.com.asc') {
        res.writeHead(200).end(keys.rsa.armored);
      } else {
        res.writeHead(404).end();
      }
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('resolves keybase:, github: and external: keys', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher({ timeoutMs: 5000 });
    const remote = { keybaseUrl: server.url, githubUrl: server.url };

    // Act
    const keybase = await resolvePgpKey('keybase:alice', fetcher, remote);
    const github = await resolvePgpKey('github:octocat', fetcher, remote);
    const external = await resolvePgpKey(`external:ops@example.com|${server.url}/pks/%s.asc`, fetcher, remote);

    // Assess
    expect([keybase.fingerprint, github.fingerprint, external.fingerprint]).toEqual([keys.rsa.fingerprint, keys.curve.fingerprint, keys.rsa.fingerprint]);
    expect(server.requests).toEqual([
      '/_/api/1.0/user/lookup.json?usernames=alice&fields=public_keys',
      '/octocat.gpg',
      '/pks/ops%40example.com.asc',
    ]);
    expect(keys.decrypt(Buffer.from(await encryptForPgpKey('via keybase', keybase), 'base64')).toString()).toBe('via keybase');
  });

  it('fails clearly for an unknown Keybase user and a missing GitHub user', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher({ timeoutMs: 5000 });
    const remote = { keybaseUrl: server.url, githubUrl: server.url };

    // Act
    const keybase = await caught(() => resolvePgpKey('keybase:ghost', fetcher, remote));
    const github = await caught(() => resolvePgpKey('github:ghost', fetcher, remote));

    // Assess
    expect(keybase.message).toBe("PGP key (keybase): no Keybase user named 'ghost'");
    expect(github.message).toBe(`PGP key (github): fetching the keys of 'ghost': cannot fetch ${server.url}/ghost.gpg: HTTP 404 (not found)`);
  });
});

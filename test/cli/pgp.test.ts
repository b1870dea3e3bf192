import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { type GpgKeyring, type KeyServer, createGpgKeyring, keybaseAnswer, startKeyServer } from '../helpers/pgp-keys';
import { memoryIo } from '../helpers/memory-io';

let keys: GpgKeyring;
let dir: string;
let server: KeyServer;

beforeAll(async () => {
  keys = createGpgKeyring();
  dir = mkdtempSync(join(tmpdir(), 'kr-cli-pgp-'));
  server = await startKeyServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/_/api/1.0/user/lookup.json' && url.searchParams.get('usernames') === 'alice') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(keybaseAnswer(keys.curve.armored));
    } else if (url.pathname === '/octocat.gpg') {
      res.writeHead(200).end(keys.rsa.armored);
    } else {
      res.writeHead(404).end();
    }
  });
});

afterAll(async () => {
  await server?.close();
  keys?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('keyrotate pgp-encrypt', () => {
  it('encrypts stdin to a base64 key: base64 of a binary message on stdout, which gpg decrypts', async () => {
    // Prepare
    const io = memoryIo('the secret\n');

    // Act
    const code = await main(['pgp-encrypt', '--pgp-key', keys.rsa.base64], io);

    // Assess
    expect(code).toBe(0);
    expect(io.err()).toBe('');
    expect(io.out()).toMatch(/^[A-Za-z0-9+/]+={0,2}\n$/);
    expect(keys.decrypt(Buffer.from(io.out().trim(), 'base64')).toString('utf8')).toBe('the secret\n');
  });

  it('prints an ASCII-armored message with --armor', async () => {
    // Prepare
    const io = memoryIo('armored secret');

    // Act
    const code = await main(['pgp-encrypt', '--armor', '--pgp-key', keys.curve.armored], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out().startsWith('-----BEGIN PGP MESSAGE-----')).toBe(true);
    expect(io.out().endsWith('-----END PGP MESSAGE-----\n')).toBe(true);
    expect(keys.decrypt(io.out()).toString('utf8')).toBe('armored secret');
  });

  it('reads the key from @FILE, including a binary gpg --export file', async () => {
    // Prepare
    const file = join(dir, 'curve.gpg');
    writeFileSync(file, keys.curve.binary);
    const io = memoryIo('from a file');

    // Act
    const code = await main(['pgp-encrypt', `--pgp-key=@${file}`], io);

    // Assess
    expect(code).toBe(0);
    expect(keys.decrypt(Buffer.from(io.out().trim(), 'base64')).toString('utf8')).toBe('from a file');
  });

  it('fails for a malformed key: the error on stderr, nothing on stdout, non-zero exit', async () => {
    // Prepare
    const io = memoryIo('the secret');

    // Act
    const code = await main(['pgp-encrypt', '--pgp-key', Buffer.from('definitely not a key').toString('base64')], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toBe('keyrotate pgp-encrypt: PgpKeyError: PGP key (base64-binary): not an OpenPGP public key packet sequence\n');
  });

  it('fails for a key that cannot encrypt, printing nothing on stdout', async () => {
    // Prepare
    const io = memoryIo('the secret');

    // Act
    const code = await main(['pgp-encrypt', '--pgp-key', keys.signOnly.armored], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('has no valid encryption subkey');
    expect(io.err()).not.toContain('the secret');
  });

  it('refuses the plaintext as an argument without echoing it', async () => {
    // Prepare
    const io = memoryIo('');

    // Act
    const code = await main(['pgp-encrypt', '--pgp-key', keys.rsa.base64, 'my-plaintext-secret'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('the plaintext is read from standard input');
    expect(io.err()).not.toContain('my-plaintext-secret');
  });

  it.each([
    ['no --pgp-key', [], '--pgp-key is required'],
    ['a missing key file', ['--pgp-key', '@/nonexistent/key.asc'], "--pgp-key: cannot read key file '/nonexistent/key.asc' (ENOENT)"],
    ['@ without a file name', ['--pgp-key', '@'], '--pgp-key @FILE: the file name is missing'],
  ])('fails with usage exit code 2 for %s', async (_case, args, message) => {
    // Prepare
    const io = memoryIo('the secret');

    // Act
    const code = await main(['pgp-encrypt', ...args], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain(message);
  });

  it('fails when stdin is empty', async () => {
    // Prepare
    const io = memoryIo('');

    // Act
    const code = await main(['pgp-encrypt', '--pgp-key', keys.rsa.base64], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('nothing to encrypt: standard input is empty');
  });

  it('documents every key form, @FILE and how to decrypt in --help', async () => {
    // Prepare
    const io = memoryIo();

    // Act
    await main(['pgp-encrypt', '--help'], io);

    // Assess
    for (const text of ['keybase:NAME', 'external:NAME|URL', 'github:NAME', '@FILE', 'armored', '--armor', 'base64 -d < secret.b64 | gpg --decrypt']) {
      expect(io.out()).toContain(text);
    }
  });
});

describe('keyrotate pgp-fingerprint', () => {
  it.each([
    ['an armored RSA key', (ring: GpgKeyring) => ring.rsa.armored, (ring: GpgKeyring) => ring.rsa.fingerprint],
    ['a base64 Curve25519 key', (ring: GpgKeyring) => ring.curve.base64, (ring: GpgKeyring) => ring.curve.fingerprint],
  ])('prints the fingerprint gpg shows for %s', async (_case, spec, fingerprint) => {
    // Prepare
    const io = memoryIo();

    // Act
    const code = await main(['pgp-fingerprint', '--pgp-key', spec(keys)], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe(`${fingerprint(keys)}\n`);
  });

  it('reads an armored key from @FILE', async () => {
    // Prepare
    const file = join(dir, 'rsa.asc');
    writeFileSync(file, keys.rsa.armored);
    const io = memoryIo();

    // Act
    const code = await main(['pgp-fingerprint', '--pgp-key', `@${file}`], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe(`${keys.rsa.fingerprint}\n`);
  });

  it('looks keybase: keys up at KEYROTATE_KEYBASE_URL', async () => {
    // Prepare
    const io = memoryIo('', { KEYROTATE_KEYBASE_URL: server.url });

    // Act
    const code = await main(['pgp-fingerprint', '--pgp-key', 'keybase:alice'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe(`${keys.curve.fingerprint}\n`);
    expect(server.requests).toContain('/_/api/1.0/user/lookup.json?usernames=alice&fields=public_keys');
  });

  it('fetches github: keys from KEYROTATE_GITHUB_URL', async () => {
    // Prepare
    const io = memoryIo('', { KEYROTATE_GITHUB_URL: server.url });

    // Act
    const code = await main(['pgp-fingerprint', '--pgp-key', 'github:octocat'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe(`${keys.rsa.fingerprint}\n`);
  });

  it('fails for an unknown form naming the option, with nothing on stdout', async () => {
    // Prepare
    const io = memoryIo();

    // Act
    const code = await main(['pgp-fingerprint', '--pgp-key', 'gitlab:alice'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toContain("ValidationError: invalid --pgp-key: unknown PGP key form 'gitlab:'");
  });

  it('fails for a revoked key', async () => {
    // Prepare
    const io = memoryIo();

    // Act
    const code = await main(['pgp-fingerprint', '--pgp-key', keys.revoked.base64], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('is revoked and cannot be used for encryption');
  });

  it('has no --armor option', async () => {
    // Prepare
    const io = memoryIo();

    // Act
    const code = await main(['pgp-fingerprint', '--armor', '--pgp-key', keys.rsa.base64], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain("Unknown option '--armor'");
  });
});

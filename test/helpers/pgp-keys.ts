/**
 * Real test keys from the installed GnuPG, generated once per suite in a throw-away
 * GNUPGHOME, so tests prove interoperability with the tool users decrypt with.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GpgTestKey {
  /** Primary key fingerprint as `gpg --with-colons` prints it, lowercased. */
  readonly fingerprint: string;
  /** `gpg --export` output. */
  readonly binary: Buffer;
  /** `gpg --armor --export` output. */
  readonly armored: string;
  /** Terraform's `pgp_key` form: base64 of the binary export. */
  readonly base64: string;
}

export interface GpgKeyring {
  readonly home: string;
  /** RSA 2048 primary + RSA 2048 encryption subkey. */
  readonly rsa: GpgTestKey;
  /** Ed25519 primary + Curve25519 encryption subkey (`future-default`). */
  readonly curve: GpgTestKey;
  /** Ed25519 primary only: can sign, cannot encrypt. */
  readonly signOnly: GpgTestKey;
  /** Curve25519 key that expires one day after generation. */
  readonly expiring: GpgTestKey;
  /** Curve25519 key with its revocation certificate imported. */
  readonly revoked: GpgTestKey;
  /** `gpg --armor --export-secret-keys` of the RSA key. */
  readonly rsaSecretArmored: string;
  /** `gpg --export-secret-keys` of the RSA key. */
  readonly rsaSecretBinary: Buffer;
  /** Decrypts an OpenPGP message (binary or armored) with `gpg --decrypt`. */
  decrypt(message: Buffer | string): Buffer;
  /** Removes the keyring and stops its gpg-agent. */
  dispose(): void;
}

function gpg(home: string, args: string[], input?: Buffer | string): Buffer {
  return execFileSync('gpg', ['--homedir', home, '--batch', '--no-tty', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

function fingerprintOf(home: string, userId: string): string {
  const colons = gpg(home, ['--with-colons', '--list-keys', `=${userId}`]).toString('utf8');
  const fpr = colons.split('\n').find((line) => line.startsWith('fpr:'));
  const value = fpr?.split(':')[9];
  if (!value) throw new Error(`gpg printed no fingerprint for ${userId}`);
  return value.toLowerCase();
}

function generate(home: string, userId: string, algo: string, usage: string, expire: string): string {
  gpg(home, ['--quick-gen-key', userId, algo, usage, expire]);
  return fingerprintOf(home, userId);
}

function exportKey(home: string, fingerprint: string): GpgTestKey {
  const binary = gpg(home, ['--export', fingerprint]);
  const armored = gpg(home, ['--armor', '--export', fingerprint]).toString('utf8');
  return { fingerprint, binary, armored, base64: binary.toString('base64') };
}

/** Generates the test keys (a few seconds at most: RSA 2048 and Curve25519 only). */
export function createGpgKeyring(): GpgKeyring {
  const home = mkdtempSync(join(tmpdir(), 'kr-gpg-'));
  // With an explicit algorithm GnuPG creates only the primary key (sign + certify): the
  // encryption subkey is added separately, as `gpg --full-gen-key` would.
  const rsaFpr = generate(home, 'RSA Test <rsa@example.com>', 'rsa2048', 'default', 'never');
  gpg(home, ['--quick-add-key', rsaFpr, 'rsa2048', 'encr', 'never']);
  const curveFpr = generate(home, 'Curve Test <curve@example.com>', 'future-default', 'default', 'never');
  const signFpr = generate(home, 'Sign Only <sign@example.com>', 'ed25519', 'sign', 'never');
  const expFpr = generate(home, 'Expiring <expiring@example.com>', 'future-default', 'default', '1d');
  const revFpr = generate(home, 'Revoked <revoked@example.com>', 'future-default', 'default', 'never');

  // GnuPG writes a revocation certificate for every new key; its armor line is escaped with a
  // leading ':' so it cannot be imported by accident. Unescape and import it to revoke the key.
  const revocation = readFileSync(join(home, 'openpgp-revocs.d', `${revFpr.toUpperCase()}.rev`), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
  const revocationFile = join(home, 'revoke.asc');
  writeFileSync(revocationFile, revocation);
  gpg(home, ['--import', revocationFile]);

  return {
    home,
    rsa: exportKey(home, rsaFpr),
    curve: exportKey(home, curveFpr),
    signOnly: exportKey(home, signFpr),
    expiring: exportKey(home, expFpr),
    revoked: exportKey(home, revFpr),
    rsaSecretArmored: gpg(home, ['--armor', '--export-secret-keys', rsaFpr]).toString('utf8'),
    rsaSecretBinary: gpg(home, ['--export-secret-keys', rsaFpr]),
    decrypt: (message) => gpg(home, ['--decrypt'], message),
    dispose: () => {
      try {
        execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

export interface KeyServer {
  /** `http://127.0.0.1:PORT` (plain http is allowed for loopback addresses only). */
  readonly url: string;
  /** Every request path with its query string, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** A local HTTP server standing in for Keybase, GitHub or a key server, on 127.0.0.1. */
export async function startKeyServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<KeyServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Keybase `user/lookup.json` answer for one user whose primary key is `bundle`. */
export function keybaseAnswer(bundle: string): string {
  return JSON.stringify({
    status: { code: 0, name: 'OK' },
    them: [{ id: '0123456789abcdef0123456789abcd19', public_keys: { primary: { kid: '0101abcd', key_type: 1, bundle } } }],
  });
}

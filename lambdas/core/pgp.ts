/**
 * Reading PGP public keys in every form Terraform's `pgp_key` and its users need, and
 * encryption to them in Terraform's `encrypted_secret` format (base64 of an unsigned, binary
 * OpenPGP message). Remote forms are fetched through the PgpKeyFetcher port; nothing here
 * touches the network or the environment itself.
 *
 * The syntax of a spec (forms, names, URLs, the structure of an inline key) is in
 * ./pgp-key-spec, which has no openpgp: Plan validates input with it and its bundle stays
 * small. Its names are re-exported here for the callers that resolve and encrypt too.
 *
 * Errors say which form was recognised and what is wrong with it; they quote user input only
 * in short, truncated excerpts (a key can be kilobytes of base64).
 */
import * as openpgp from 'openpgp';
import { PgpKeyError, PgpKeyFetchError, describeError } from './errors';
import {
  DEFAULT_GITHUB_URL,
  DEFAULT_PGP_KEY_FIELD,
  PUBLIC_KEY_BLOCK,
  type PgpKeyForm,
  type PgpKeyMaterial,
  assertOnePublicKeyBlock,
  classifyPgpKeySpec,
  displayUrl,
  githubKeyUrl,
  pgpKeyMaterialFromText,
  quoteInput,
} from './pgp-key-spec';
import type { PgpKeyFetcher } from './ports';

export {
  DEFAULT_GITHUB_URL,
  DEFAULT_KEYBASE_URL,
  type PgpKeyForm,
  type PgpKeySpec,
  displayUrl,
  fetchUrlProblem,
  isLoopbackHost,
  parsePgpKeySpec,
} from './pgp-key-spec';

export interface ResolvedPgpKey {
  readonly form: PgpKeyForm;
  /** The primary key's fingerprint, lowercase hex without spaces (Terraform's `key_fingerprint`). */
  readonly fingerprint: string;
  /** The one public key, re-armored (self-contained, so it can travel between Lambdas). */
  readonly armoredPublicKey: string;
}

export interface ResolvePgpKeyOptions {
  /** Keybase base URL, e.g. `https://keybase.io` (handlers read KEYROTATE_KEYBASE_URL). */
  readonly keybaseUrl: string;
  /** Base URL of `github:NAME` keys (`<githubUrl>/NAME.gpg`). @default DEFAULT_GITHUB_URL */
  readonly githubUrl?: string;
  /** The time at which the key must be valid (not expired, not revoked). @default the current time */
  readonly now?: Date;
  /** The input field ValidationErrors name (`--pgp-key` on the CLI). @default 'delivery.pgpKey' */
  readonly field?: string;
}

function keybaseLookupUrl(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/_/api/1.0/user/lookup.json?usernames=${encodeURIComponent(name)}&fields=public_keys`;
}

async function fetchKeyText(form: PgpKeyForm, fetcher: PgpKeyFetcher, url: string, what: string): Promise<string> {
  try {
    return await fetcher.fetchText(url);
  } catch (error) {
    const reason = error instanceof PgpKeyFetchError ? error.message : `cannot fetch ${displayUrl(url)}: ${describeError(error)}`;
    throw new PgpKeyError(form, `${what}: ${reason.slice(0, 300)}`, { cause: error });
  }
}

/** The primary PGP bundle of a Keybase user/lookup.json answer (`them[0].public_keys.primary.bundle`). */
function keybaseBundle(answer: string, name: string): string {
  let body: unknown;
  try {
    body = JSON.parse(answer);
  } catch {
    throw new PgpKeyError('keybase', `looking up '${name}': Keybase did not answer with JSON`);
  }
  const root = (body ?? {}) as { status?: { code?: unknown; name?: unknown; desc?: unknown }; them?: unknown };
  const status = root.status;
  if (!status || status.code !== 0) {
    const label = typeof status?.name === 'string' ? status.name : 'no status';
    const code = typeof status?.code === 'number' ? ` (code ${status.code})` : '';
    const desc = typeof status?.desc === 'string' ? `: ${quoteInput(status.desc, 80)}` : '';
    throw new PgpKeyError('keybase', `looking up '${name}': Keybase answered ${label}${code}${desc}`);
  }
  const them = Array.isArray(root.them) ? (root.them as unknown[]) : [];
  const user = them[0] as { public_keys?: { primary?: { bundle?: unknown } } } | null | undefined;
  if (!user) throw new PgpKeyError('keybase', `no Keybase user named '${name}'`);
  const bundle = user.public_keys?.primary?.bundle;
  if (typeof bundle !== 'string' || bundle.length === 0) {
    throw new PgpKeyError('keybase', `Keybase user '${name}' has no primary public key`);
  }
  if (!bundle.includes(PUBLIC_KEY_BLOCK)) {
    throw new PgpKeyError('keybase', `the primary key of Keybase user '${name}' is not an OpenPGP public key`);
  }
  return bundle;
}

/** Material fetched for a remote form: armored (GitHub, Keybase) or base64 (external servers). */
function remoteMaterial(form: PgpKeyForm, text: string): PgpKeyMaterial {
  const found = pgpKeyMaterialFromText(text, { form, prefix: 'the fetched document ' });
  if (!found) throw new PgpKeyError(form, 'the fetched document is neither an armored nor a base64 OpenPGP public key');
  return found.material;
}

/** The binary packets of the material; armor is removed first so an empty block is recognised. */
async function packetsOf(form: PgpKeyForm, material: PgpKeyMaterial): Promise<Uint8Array> {
  if ('binary' in material) return material.binary;
  assertOnePublicKeyBlock(form, material.armored);
  try {
    const { data } = await openpgp.unarmor(material.armored);
    return data as Uint8Array;
  } catch (error) {
    throw new PgpKeyError(form, 'not a readable ASCII-armored block', { cause: error });
  }
}

async function readOneKey(form: PgpKeyForm, material: PgpKeyMaterial): Promise<openpgp.Key> {
  const packets = await packetsOf(form, material);
  // GitHub answers a user without keys with an armored block that holds no packet at all.
  if (packets.length === 0) throw new PgpKeyError(form, 'contains no public key');
  let keys: openpgp.Key[];
  try {
    keys = await openpgp.readKeys({ binaryKeys: packets });
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (message.includes('No key packet found')) throw new PgpKeyError(form, 'contains no public key', { cause: error });
    throw new PgpKeyError(form, `not an OpenPGP public key packet sequence (${message.slice(0, 120) || 'unreadable'})`, { cause: error });
  }
  if (keys.length === 0) throw new PgpKeyError(form, 'contains no public key');
  if (keys.length > 1) {
    const listed = keys.slice(0, 5).map((k) => k.getFingerprint());
    throw new PgpKeyError(form, `contains ${keys.length} keys (${listed.join(', ')}${keys.length > 5 ? ', …' : ''}); exactly one is expected`);
  }
  const key = keys[0] as openpgp.Key;
  if (key.isPrivate()) throw new PgpKeyError(form, 'is a private key; give the public key only');
  return key;
}

/** Rejects keys that cannot receive an encrypted message, saying why. */
async function checkCanEncrypt(form: PgpKeyForm, key: openpgp.Key, now: Date): Promise<void> {
  const fingerprint = key.getFingerprint();
  if (await key.isRevoked(undefined, undefined, now)) {
    throw new PgpKeyError(form, `key ${fingerprint} is revoked and cannot be used for encryption`);
  }
  let expires: Date | number | null;
  try {
    expires = await key.getExpirationTime();
  } catch {
    expires = null;
  }
  if (expires instanceof Date && expires.getTime() <= now.getTime()) {
    throw new PgpKeyError(form, `key ${fingerprint} expired on ${expires.toISOString()} and cannot be used for encryption`);
  }
  try {
    await key.getEncryptionKey(undefined, now);
  } catch (error) {
    throw new PgpKeyError(
      form,
      `key ${fingerprint} cannot encrypt: it has no valid encryption subkey (signing-only, or the subkey is expired or revoked)`,
      { cause: error },
    );
  }
}

/** Resolves any form to one public key (fetching remote forms through the port). */
export async function resolvePgpKey(spec: string, fetcher: PgpKeyFetcher, options: ResolvePgpKeyOptions): Promise<ResolvedPgpKey> {
  const classified = classifyPgpKeySpec(spec, options.field ?? DEFAULT_PGP_KEY_FIELD);
  const { form } = classified;
  let material: PgpKeyMaterial;
  if (form === 'keybase') {
    const name = classified.name as string;
    const answer = await fetchKeyText(form, fetcher, keybaseLookupUrl(options.keybaseUrl, name), `looking up '${name}'`);
    material = { armored: keybaseBundle(answer, name) };
  } else if (form === 'github') {
    const name = classified.name as string;
    const url = githubKeyUrl(options.githubUrl ?? DEFAULT_GITHUB_URL, name);
    material = remoteMaterial(form, await fetchKeyText(form, fetcher, url, `fetching the keys of '${name}'`));
  } else if (form === 'external') {
    const name = classified.name as string;
    material = remoteMaterial(form, await fetchKeyText(form, fetcher, classified.url as string, `fetching the key of '${name}'`));
  } else {
    material = classified.material as PgpKeyMaterial;
  }
  const key = await readOneKey(form, material);
  await checkCanEncrypt(form, key, options.now ?? new Date());
  return { form, fingerprint: key.getFingerprint(), armoredPublicKey: key.armor() };
}

// A rotation encrypts the secret and one password per region to the same key: parse it once.
const parsedKeys = new WeakMap<ResolvedPgpKey, Promise<openpgp.Key>>();

function parsedKey(key: ResolvedPgpKey): Promise<openpgp.Key> {
  let parsed = parsedKeys.get(key);
  if (!parsed) {
    parsed = openpgp.readKey({ armoredKey: key.armoredPublicKey });
    parsedKeys.set(key, parsed);
  }
  return parsed;
}

/**
 * Unsigned binary OpenPGP message, base64 (Terraform's encrypted_secret); armor=true gives ASCII
 * armor instead. The plaintext goes in as binary literal data (UTF-8 bytes), so `gpg --decrypt`
 * gives back exactly the same bytes: text mode would rewrite line endings.
 */
export async function encryptForPgpKey(plaintext: string, key: ResolvedPgpKey, options?: { armor?: boolean }): Promise<string> {
  try {
    const encryptionKeys = await parsedKey(key);
    const message = await openpgp.createMessage({ binary: new Uint8Array(Buffer.from(plaintext, 'utf8')) });
    if (options?.armor) return await openpgp.encrypt({ message, encryptionKeys, format: 'armored' });
    const binary = await openpgp.encrypt({ message, encryptionKeys, format: 'binary' });
    return Buffer.from(binary).toString('base64');
  } catch (error) {
    // openpgp messages describe the key, never the plaintext; keep only a short excerpt anyway.
    const detail = error instanceof Error ? error.message.slice(0, 120) : 'unknown error';
    throw new PgpKeyError(key.form, `cannot encrypt to key ${key.fingerprint}: ${detail}`, { cause: error });
  }
}

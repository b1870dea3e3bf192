/**
 * PGP public keys in every form Terraform's `pgp_key` and its users need, and encryption to
 * them in Terraform's `encrypted_secret` format (base64 of an unsigned, binary OpenPGP
 * message). Remote forms are fetched through the PgpKeyFetcher port; nothing here touches the
 * network or the environment itself.
 *
 * Errors say which form was recognised and what is wrong with it; they quote user input only
 * in short, truncated excerpts (a key can be kilobytes of base64).
 */
import * as openpgp from 'openpgp';
import { PgpKeyError, PgpKeyFetchError, ValidationError, describeError } from './errors';
import type { PgpKeyFetcher } from './ports';

export type PgpKeyForm = 'base64-binary' | 'armored' | 'base64-armored' | 'keybase' | 'external' | 'github';

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

export const DEFAULT_KEYBASE_URL = 'https://keybase.io';
export const DEFAULT_GITHUB_URL = 'https://github.com';

/** The field named by ValidationErrors when the caller does not say (the execution input path). */
const DEFAULT_FIELD = 'delivery.pgpKey';

const FORMS_HELP =
  'expected base64 of a binary public key, an armored public key (or base64 of one), ' +
  'keybase:NAME, external:NAME|URL or github:NAME';

const ARMOR_BEGIN = '-----BEGIN PGP ';
const PUBLIC_KEY_BLOCK = '-----BEGIN PGP PUBLIC KEY BLOCK-----';

// Keybase: 2–16 characters, letters, digits, underscore. GitHub: 1–39 alphanumerics or single
// hyphens, not at either end. External names go into a URL, so they get a conservative
// charset and no dot runs (no `..` path traversal after URL normalisation).
const KEYBASE_NAME = /^[A-Za-z0-9_]{2,16}$/;
const GITHUB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const EXTERNAL_NAME = /^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,127}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Key material once the form is known: armored text or the binary packets. */
type Material = { readonly armored: string } | { readonly binary: Uint8Array };

interface Classified {
  readonly form: PgpKeyForm;
  readonly name?: string;
  readonly url?: string;
  readonly material?: Material;
}

/** A short, printable excerpt of user input for messages: never a huge or multi-line echo. */
function quote(value: string, max = 40): string {
  const printable = value.slice(0, max).replace(/[^\x20-\x7e]/g, '?');
  return `'${printable}${value.length > max ? '…' : ''}'`;
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** True for the hosts plain http is allowed to (tests and local runs only): 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Why a URL may not be fetched, or null when it may: https only, plain http for loopback hosts. */
export function fetchUrlProblem(url: URL): string | null {
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname) ? null : `plain http is refused for ${url.hostname}; use https`;
  }
  return `only https URLs are allowed (got ${url.protocol})`;
}

/** A URL as shown in messages: origin and path, no credentials and no query string. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Reads the first packet header: is this a public key (tag 6), a secret key (tag 5), or neither? */
function firstPacketTag(bytes: Uint8Array): number | null {
  const header = bytes[0];
  if (header === undefined || (header & 0x80) === 0) return null;
  // New-format headers carry the tag in the low 6 bits, old-format ones in bits 2–5.
  return (header & 0x40) !== 0 ? header & 0x3f : (header >> 2) & 0x0f;
}

/** Where key material came from, for error messages: inline input, or a remote form's answer. */
interface Origin {
  readonly form?: PgpKeyForm;
  readonly prefix: string;
}

const INLINE: Origin = { prefix: '' };

function checkBinary(form: PgpKeyForm, origin: Origin, bytes: Uint8Array): Material {
  const tag = firstPacketTag(bytes);
  const label = origin.form ?? form;
  if (tag === 5) {
    throw new PgpKeyError(label, `${origin.prefix}is a secret key; give the public key (gpg --export, not --export-secret-keys)`);
  }
  if (tag !== 6) {
    throw new PgpKeyError(label, `${origin.prefix ? `${origin.prefix}is ` : ''}not an OpenPGP public key packet sequence`);
  }
  return { binary: bytes };
}

function checkArmored(form: PgpKeyForm, origin: Origin, text: string): Material {
  const type = /-----BEGIN PGP ([A-Z0-9 ,/]+)-----/.exec(text)?.[1];
  const label = origin.form ?? form;
  if (type === 'PRIVATE KEY BLOCK') {
    throw new PgpKeyError(label, `${origin.prefix}is a private key block; give the public key (gpg --armor --export)`);
  }
  if (type !== 'PUBLIC KEY BLOCK') {
    const found = type ? `an armored "${type}"` : 'an armored block without a valid header';
    throw new PgpKeyError(label, `${origin.prefix}is ${found}, not a PUBLIC KEY BLOCK`);
  }
  return { armored: text };
}

/**
 * Key material given inline or fetched: armored, base64 of armored, or base64 of binary.
 * Null when the text is none of them.
 */
function materialFromText(text: string, origin: Origin): { form: PgpKeyForm; material: Material } | null {
  const trimmed = text.trim();
  if (trimmed.includes(ARMOR_BEGIN)) return { form: 'armored', material: checkArmored('armored', origin, trimmed) };
  const compact = trimmed.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact) || compact.length % 4 === 1) return null;
  const bytes = Buffer.from(compact, 'base64');
  const decoded = bytes.toString('utf8').trim();
  if (decoded.startsWith(ARMOR_BEGIN)) {
    return { form: 'base64-armored', material: checkArmored('base64-armored', origin, decoded) };
  }
  return { form: 'base64-binary', material: checkBinary('base64-binary', origin, new Uint8Array(bytes)) };
}

function classify(spec: unknown, field: string): Classified {
  if (typeof spec !== 'string') throw new ValidationError(field, `must be a string; ${FORMS_HELP}`);
  const text = spec.trim();
  if (text.length === 0) throw new ValidationError(field, `must not be empty; ${FORMS_HELP}`);

  if (text.startsWith('keybase:')) {
    const name = text.slice('keybase:'.length);
    if (!KEYBASE_NAME.test(name)) {
      throw new PgpKeyError('keybase', `invalid Keybase user name ${quote(name)}: 2 to 16 letters, digits or underscores`);
    }
    return { form: 'keybase', name };
  }
  if (text.startsWith('github:')) {
    const name = text.slice('github:'.length);
    if (!GITHUB_NAME.test(name)) {
      throw new PgpKeyError('github', `invalid GitHub user name ${quote(name)}: 1 to 39 letters, digits or single inner hyphens`);
    }
    return { form: 'github', name, url: githubKeyUrl(DEFAULT_GITHUB_URL, name) };
  }
  if (text.startsWith('external:')) return classifyExternal(text.slice('external:'.length));

  // Armor headers and base64 never contain "word:" at the start; anything else that does is a
  // typo of a remote form (or an unsupported one) and deserves a clear answer.
  const prefix = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(text)?.[0];
  if (prefix !== undefined) throw new ValidationError(field, `unknown PGP key form ${quote(prefix, 20)}; ${FORMS_HELP}`);

  const inline = materialFromText(text, INLINE);
  if (!inline) throw new ValidationError(field, `not a recognised PGP key form; ${FORMS_HELP}`);
  return inline;
}

function classifyExternal(rest: string): Classified {
  const bar = rest.indexOf('|');
  if (bar < 0) throw new PgpKeyError('external', 'expected external:NAME|URL');
  const name = rest.slice(0, bar);
  const template = rest.slice(bar + 1);
  if (!EXTERNAL_NAME.test(name) || name.includes('..')) {
    throw new PgpKeyError('external', `invalid name ${quote(name)}: 1 to 128 letters, digits or _ . @ + - (no slashes, no '..')`);
  }
  const url = template.split('%s').join(encodeURIComponent(name));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PgpKeyError('external', 'the URL after | is not an absolute https URL');
  }
  const problem = fetchUrlProblem(parsed);
  if (problem) throw new PgpKeyError('external', problem);
  return { form: 'external', name, url: parsed.toString() };
}

function githubKeyUrl(base: string, name: string): string {
  return `${trimSlashes(base)}/${encodeURIComponent(name)}.gpg`;
}

function keybaseLookupUrl(base: string, name: string): string {
  return `${trimSlashes(base)}/_/api/1.0/user/lookup.json?usernames=${encodeURIComponent(name)}&fields=public_keys`;
}

/**
 * Syntax-only classification, no network: used to validate input early. Throws
 * PgpKeyError(form, detail) for a recognised form with a problem, ValidationError(field, …)
 * when no form matches. `field` names the input field (default `delivery.pgpKey`).
 */
export function parsePgpKeySpec(spec: string, field: string = DEFAULT_FIELD): { form: PgpKeyForm; url?: string; name?: string } {
  const { form, url, name } = classify(spec, field);
  return { form, ...(url !== undefined ? { url } : {}), ...(name !== undefined ? { name } : {}) };
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
    const desc = typeof status?.desc === 'string' ? `: ${quote(status.desc, 80)}` : '';
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
function remoteMaterial(form: PgpKeyForm, text: string): Material {
  const found = materialFromText(text, { form, prefix: 'the fetched document ' });
  if (!found) throw new PgpKeyError(form, 'the fetched document is neither an armored nor a base64 OpenPGP public key');
  return found.material;
}

/** The binary packets of the material; armor is removed first so an empty block is recognised. */
async function packetsOf(form: PgpKeyForm, material: Material): Promise<Uint8Array> {
  if ('binary' in material) return material.binary;
  const blocks = material.armored.split(PUBLIC_KEY_BLOCK).length - 1;
  if (blocks > 1) throw new PgpKeyError(form, `holds ${blocks} public key blocks; exactly one key is expected`);
  try {
    const { data } = await openpgp.unarmor(material.armored);
    return data as Uint8Array;
  } catch (error) {
    throw new PgpKeyError(form, 'not a readable ASCII-armored block', { cause: error });
  }
}

async function readOneKey(form: PgpKeyForm, material: Material): Promise<openpgp.Key> {
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
  const classified = classify(spec, options.field ?? DEFAULT_FIELD);
  const { form } = classified;
  let material: Material;
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
    material = classified.material as Material;
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

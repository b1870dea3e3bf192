/**
 * The syntax of a PGP key spec (Terraform's `pgp_key` forms): which form it is, the remote name
 * and URL, and for an inline key a structural check of its OpenPGP packets. No openpgp, no
 * network: Plan validates its input with this module alone, so its bundle stays free of the
 * OpenPGP library (about 350 KB). Reading the key itself, checking that it can encrypt, and
 * encrypting to it are in ./pgp, which only EncryptForPgp (and the CLI) loads.
 *
 * The packet check covers the framing of RFC 9580 section 4.2 (old and new packet headers,
 * every length, nothing truncated, nothing left over) and the first packet, which must be a
 * public key (tag 6). Everything a key's content can get wrong is left to ./pgp.
 *
 * Errors say which form was recognised and what is wrong with it; they quote user input only
 * in short, truncated excerpts (a key can be kilobytes of base64).
 */
import { PgpKeyError, ValidationError } from './errors';

export type PgpKeyForm = 'base64-binary' | 'armored' | 'base64-armored' | 'keybase' | 'external' | 'github';

/** What parsePgpKeySpec tells about a spec: its form, and for remote forms the name and URL. */
export interface PgpKeySpec {
  readonly form: PgpKeyForm;
  readonly url?: string;
  readonly name?: string;
}

/** Key material once the form is known: armored text or the binary packets. */
export type PgpKeyMaterial = { readonly armored: string } | { readonly binary: Uint8Array };

/** A spec with, for inline forms, its (structurally checked) material. */
export interface ClassifiedPgpKeySpec extends PgpKeySpec {
  readonly material?: PgpKeyMaterial;
}

/** Where key material came from, for error messages: inline input, or a remote form's answer. */
export interface PgpKeyOrigin {
  /** The remote form whose answer this is; absent for inline input. */
  readonly form?: PgpKeyForm;
  /** Put before the complaint, e.g. `the fetched document `. */
  readonly prefix: string;
}

export const DEFAULT_KEYBASE_URL = 'https://keybase.io';
export const DEFAULT_GITHUB_URL = 'https://github.com';

/** The field named by ValidationErrors when the caller does not say (the execution input path). */
export const DEFAULT_PGP_KEY_FIELD = 'delivery.pgpKey';

export const PUBLIC_KEY_BLOCK = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const PUBLIC_KEY_BLOCK_END = '-----END PGP PUBLIC KEY BLOCK-----';
const ARMOR_BEGIN = '-----BEGIN PGP ';

const FORMS_HELP =
  'expected base64 of a binary public key, an armored public key (or base64 of one), ' +
  'keybase:NAME, external:NAME|URL or github:NAME';

const NOT_A_PACKET_SEQUENCE = 'not an OpenPGP public key packet sequence';
const UNREADABLE_ARMOR = 'not a readable ASCII-armored block';

// Keybase: 2–16 characters, letters, digits, underscore. GitHub: 1–39 alphanumerics or single
// hyphens, not at either end. External names go into a URL, so they get a conservative
// charset and no dot runs (no `..` path traversal after URL normalisation).
const KEYBASE_NAME = /^[A-Za-z0-9_]{2,16}$/;
const GITHUB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const EXTERNAL_NAME = /^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]{0,127}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The optional CRC-24 line that ends an armor body (RFC 9580 section 6.1). */
const ARMOR_CHECKSUM = /^=[A-Za-z0-9+/]{4}$/;

const TAG_SECRET_KEY = 5;
const TAG_PUBLIC_KEY = 6;

/** A short, printable excerpt of user input for messages: never a huge or multi-line echo. */
export function quoteInput(value: string, max = 40): string {
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

/** `<githubUrl>/NAME.gpg`, where GitHub serves a user's public keys. */
export function githubKeyUrl(base: string, name: string): string {
  return `${trimSlashes(base)}/${encodeURIComponent(name)}.gpg`;
}

/** Big-endian unsigned integer of `count` bytes at `offset` (the caller checked they exist). */
function uint(bytes: Uint8Array, offset: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i += 1) value = value * 256 + (bytes[offset + i] ?? 0);
  return value;
}

type PacketWalk = { readonly tags: readonly number[] } | { readonly problem: string };

/**
 * Walks the packet headers (RFC 9580 section 4.2): every packet must have a valid header and
 * a length that fits, and the last one must end where the data ends. A key uses no partial body
 * lengths (they are for streamed data packets only); an old-format indeterminate length runs to
 * the end of the data, as RFC 9580 allows for the last packet.
 */
function walkPackets(bytes: Uint8Array): PacketWalk {
  const tags: number[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const header = bytes[offset] ?? 0;
    const number = tags.length + 1;
    if ((header & 0x80) === 0) return { problem: `packet ${number} has no packet header` };
    let tag: number;
    let headerLength: number;
    let bodyLength: number;
    if ((header & 0x40) !== 0) {
      // New format: the tag in the low 6 bits, then a 1-, 2- or 5-octet length.
      tag = header & 0x3f;
      const first = bytes[offset + 1];
      if (first === undefined) return { problem: `packet ${number} is truncated` };
      if (first < 192) {
        headerLength = 2;
        bodyLength = first;
      } else if (first < 224) {
        headerLength = 3;
        if (offset + headerLength > bytes.length) return { problem: `packet ${number} is truncated` };
        bodyLength = (first - 192) * 256 + (bytes[offset + 2] ?? 0) + 192;
      } else if (first === 255) {
        headerLength = 6;
        if (offset + headerLength > bytes.length) return { problem: `packet ${number} is truncated` };
        bodyLength = uint(bytes, offset + 2, 4);
      } else {
        return { problem: `packet ${number} has a partial body length, which no key packet uses` };
      }
    } else {
      // Old format: the tag in bits 2-5, the length type in bits 0-1 (1, 2, 4 octets or indeterminate).
      tag = (header >> 2) & 0x0f;
      const lengthType = header & 0x03;
      if (lengthType === 3) {
        headerLength = 1;
        bodyLength = bytes.length - offset - 1;
      } else {
        const octets = 1 << lengthType;
        headerLength = 1 + octets;
        if (offset + headerLength > bytes.length) return { problem: `packet ${number} is truncated` };
        bodyLength = uint(bytes, offset + 1, octets);
      }
    }
    if (tag === 0) return { problem: `packet ${number} has the reserved tag 0` };
    if (offset + headerLength + bodyLength > bytes.length) return { problem: `packet ${number} is truncated` };
    tags.push(tag);
    offset += headerLength + bodyLength;
  }
  return { tags };
}

/** The packets must be a public key first (not a secret key), correctly framed to the end. */
function checkPackets(form: PgpKeyForm, origin: PgpKeyOrigin, bytes: Uint8Array): void {
  const label = origin.form ?? form;
  const notASequence = `${origin.prefix ? `${origin.prefix}is ` : ''}${NOT_A_PACKET_SEQUENCE}`;
  const header = bytes[0];
  if (header === undefined || (header & 0x80) === 0) throw new PgpKeyError(label, notASequence);
  // New-format headers carry the tag in the low 6 bits, old-format ones in bits 2–5.
  const firstTag = (header & 0x40) !== 0 ? header & 0x3f : (header >> 2) & 0x0f;
  if (firstTag === TAG_SECRET_KEY) {
    throw new PgpKeyError(label, `${origin.prefix}is a secret key; give the public key (gpg --export, not --export-secret-keys)`);
  }
  if (firstTag !== TAG_PUBLIC_KEY) throw new PgpKeyError(label, notASequence);
  const walk = walkPackets(bytes);
  if ('problem' in walk) throw new PgpKeyError(label, `${notASequence} (${walk.problem})`);
}

/** One key, one block: several blocks are several keys, of which keyrotate cannot pick one. */
export function assertOnePublicKeyBlock(form: PgpKeyForm, armored: string): void {
  const blocks = armored.split(PUBLIC_KEY_BLOCK).length - 1;
  if (blocks > 1) throw new PgpKeyError(form, `holds ${blocks} public key blocks; exactly one key is expected`);
}

/**
 * The packets inside a PUBLIC KEY BLOCK (RFC 9580 section 6.2): the BEGIN and END lines on
 * lines of their own, armor headers (`Comment: …`), then base64 lines and an optional checksum
 * line. Lenient about layout, as openpgp's reader is (blank lines, surrounding blanks, CRLF,
 * any armor header, a missing or wrong checksum, which RFC 9580 says not to reject on); strict
 * about content: only base64 in the body (openpgp would skip other characters and misread the
 * rest). What gpg and openpgp write always passes.
 */
function armoredPackets(label: PgpKeyForm, origin: PgpKeyOrigin, text: string): Uint8Array {
  const lines = text.split(/\r\n|\r|\n/).map((line) => line.trim());
  const begin = lines.indexOf(PUBLIC_KEY_BLOCK);
  const end = lines.indexOf(PUBLIC_KEY_BLOCK_END, begin + 1);
  if (begin < 0 || end < 0) {
    throw new PgpKeyError(label, `${origin.prefix}is ${UNREADABLE_ARMOR} (the BEGIN and END lines must stand on lines of their own)`);
  }
  const inner = lines.slice(begin + 1, end);
  let first = 0;
  while (first < inner.length && inner[first] !== '' && inner[first]?.includes(':')) first += 1;
  const data = inner.slice(first).filter((line) => line !== '');
  const last = data[data.length - 1];
  if (last !== undefined && ARMOR_CHECKSUM.test(last)) data.pop();
  const body = data.join('');
  if (body.length > 0 && (!BASE64.test(body) || body.length % 4 === 1)) {
    throw new PgpKeyError(label, `${origin.prefix}is ${UNREADABLE_ARMOR} (its body is not base64)`);
  }
  return new Uint8Array(Buffer.from(body, 'base64'));
}

function checkArmored(form: PgpKeyForm, origin: PgpKeyOrigin, text: string): PgpKeyMaterial {
  const type = /-----BEGIN PGP ([A-Z0-9 ,/]+)-----/.exec(text)?.[1];
  const label = origin.form ?? form;
  if (type === 'PRIVATE KEY BLOCK') {
    throw new PgpKeyError(label, `${origin.prefix}is a private key block; give the public key (gpg --armor --export)`);
  }
  if (type !== 'PUBLIC KEY BLOCK') {
    const found = type ? `an armored "${type}"` : 'an armored block without a valid header';
    throw new PgpKeyError(label, `${origin.prefix}is ${found}, not a PUBLIC KEY BLOCK`);
  }
  assertOnePublicKeyBlock(label, text);
  const packets = armoredPackets(label, origin, text);
  // GitHub answers a user without keys with an armored block that holds no packet at all.
  if (packets.length === 0) throw new PgpKeyError(label, 'contains no public key');
  checkPackets(form, origin, packets);
  return { armored: text };
}

/**
 * Key material given inline or fetched: armored, base64 of armored, or base64 of binary,
 * structurally checked. Null when the text is none of them.
 * @throws PgpKeyError (labelled with `origin.form` when given) for a recognised form with a problem
 */
export function pgpKeyMaterialFromText(text: string, origin: PgpKeyOrigin): { form: PgpKeyForm; material: PgpKeyMaterial } | null {
  const trimmed = text.trim();
  if (trimmed.includes(ARMOR_BEGIN)) return { form: 'armored', material: checkArmored('armored', origin, trimmed) };
  const compact = trimmed.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact) || compact.length % 4 === 1) return null;
  const bytes = Buffer.from(compact, 'base64');
  const decoded = bytes.toString('utf8').trim();
  if (decoded.startsWith(ARMOR_BEGIN)) {
    return { form: 'base64-armored', material: checkArmored('base64-armored', origin, decoded) };
  }
  const binary = new Uint8Array(bytes);
  checkPackets('base64-binary', origin, binary);
  return { form: 'base64-binary', material: { binary } };
}

function classifyExternal(rest: string): ClassifiedPgpKeySpec {
  const bar = rest.indexOf('|');
  if (bar < 0) throw new PgpKeyError('external', 'expected external:NAME|URL');
  const name = rest.slice(0, bar);
  const template = rest.slice(bar + 1);
  if (!EXTERNAL_NAME.test(name) || name.includes('..')) {
    throw new PgpKeyError('external', `invalid name ${quoteInput(name)}: 1 to 128 letters, digits or _ . @ + - (no slashes, no '..')`);
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

/**
 * The form of a spec with its name and URL (remote forms) or its checked material (inline
 * forms). What parsePgpKeySpec answers, plus the material ./pgp reads the key from.
 * @throws PgpKeyError(form, detail), ValidationError(field, …) as parsePgpKeySpec
 */
export function classifyPgpKeySpec(spec: unknown, field: string = DEFAULT_PGP_KEY_FIELD): ClassifiedPgpKeySpec {
  if (typeof spec !== 'string') throw new ValidationError(field, `must be a string; ${FORMS_HELP}`);
  const text = spec.trim();
  if (text.length === 0) throw new ValidationError(field, `must not be empty; ${FORMS_HELP}`);

  if (text.startsWith('keybase:')) {
    const name = text.slice('keybase:'.length);
    if (!KEYBASE_NAME.test(name)) {
      throw new PgpKeyError('keybase', `invalid Keybase user name ${quoteInput(name)}: 2 to 16 letters, digits or underscores`);
    }
    return { form: 'keybase', name };
  }
  if (text.startsWith('github:')) {
    const name = text.slice('github:'.length);
    if (!GITHUB_NAME.test(name)) {
      throw new PgpKeyError('github', `invalid GitHub user name ${quoteInput(name)}: 1 to 39 letters, digits or single inner hyphens`);
    }
    return { form: 'github', name, url: githubKeyUrl(DEFAULT_GITHUB_URL, name) };
  }
  if (text.startsWith('external:')) return classifyExternal(text.slice('external:'.length));

  // Armor headers and base64 never contain "word:" at the start; anything else that does is a
  // typo of a remote form (or an unsupported one) and deserves a clear answer.
  const prefix = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(text)?.[0];
  if (prefix !== undefined) throw new ValidationError(field, `unknown PGP key form ${quoteInput(prefix, 20)}; ${FORMS_HELP}`);

  const inline = pgpKeyMaterialFromText(text, { prefix: '' });
  if (!inline) throw new ValidationError(field, `not a recognised PGP key form; ${FORMS_HELP}`);
  return inline;
}

/**
 * Syntax-only classification, no network and no OpenPGP library: used to validate input early.
 * An inline key is checked structurally (armor, packet framing, a public key first); whether
 * it can encrypt is checked when it is resolved. Throws PgpKeyError(form, detail) for a
 * recognised form with a problem, ValidationError(field, …) when no form matches. `field` names
 * the input field (default `delivery.pgpKey`).
 */
export function parsePgpKeySpec(spec: string, field: string = DEFAULT_PGP_KEY_FIELD): PgpKeySpec {
  const { form, url, name } = classifyPgpKeySpec(spec, field);
  return { form, ...(url !== undefined ? { url } : {}), ...(name !== undefined ? { name } : {}) };
}

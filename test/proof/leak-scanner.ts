/**
 * Finds secrets in text, in the forms a careless program would write them: plain, JSON-escaped,
 * URL-encoded, hex, and base64 / base64url of the plain or JSON-escaped form, the latter at every
 * byte alignment, so a secret inside a base64-encoded document (a JSON blob, a log line) is found
 * too, not only a secret encoded on its own.
 *
 * Pure: the leak-scan suite collects the corpus and the secrets, this module only searches.
 */

export type Encoding =
  | 'plain'
  | 'json-escaped'
  | 'url-encoded'
  | 'url-encoded-lowercase'
  | 'hex'
  | 'hex-uppercase'
  | 'base64'
  | 'base64url'
  | 'base64-of-json-escaped'
  | 'base64url-of-json-escaped';

export const ENCODINGS: readonly Encoding[] = [
  'plain',
  'json-escaped',
  'url-encoded',
  'url-encoded-lowercase',
  'hex',
  'hex-uppercase',
  'base64',
  'base64url',
  'base64-of-json-escaped',
  'base64url-of-json-escaped',
];

export interface Needle {
  readonly encoding: Encoding;
  readonly text: string;
}

/** Text that is written somewhere by the product, named by where it came from. */
export interface CorpusEntry {
  readonly source: string;
  readonly text: string;
}

export interface Leak {
  readonly source: string;
  readonly encoding: Encoding;
  /** Which secret (its label, never the value). */
  readonly secret: string;
}

/** Needles shorter than this would match by chance; every real secret here is 40+ characters. */
const MIN_NEEDLE = 16;

function jsonEscaped(secret: string): string {
  return JSON.stringify(secret).slice(1, -1);
}

function base64url(b64: string): string {
  return b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The base64 text of `bytes` as it appears inside the base64 of a longer document, for each of
 * the three positions the first byte can take in a 3-byte group: drop 0, 1 or 2 leading bytes
 * so the rest starts on a group boundary, and keep only whole groups (the last, partial group
 * depends on the bytes that follow).
 */
function alignedBase64(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let skip = 0; skip < 3; skip += 1) {
    const rest = bytes.subarray(skip);
    const whole = rest.subarray(0, rest.length - (rest.length % 3));
    if (whole.length > 0) out.push(whole.toString('base64'));
  }
  return out;
}

/** Every form of `secret` the scanner looks for. */
export function needlesOf(secret: string): Needle[] {
  const plain = Buffer.from(secret, 'utf8');
  const escaped = jsonEscaped(secret);
  const needles: Needle[] = [
    { encoding: 'plain', text: secret },
    { encoding: 'json-escaped', text: escaped },
    { encoding: 'url-encoded', text: encodeURIComponent(secret) },
    { encoding: 'url-encoded-lowercase', text: encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()) },
    { encoding: 'hex', text: plain.toString('hex') },
    { encoding: 'hex-uppercase', text: plain.toString('hex').toUpperCase() },
  ];
  for (const b64 of alignedBase64(plain)) {
    needles.push({ encoding: 'base64', text: b64 }, { encoding: 'base64url', text: base64url(b64) });
  }
  for (const b64 of alignedBase64(Buffer.from(escaped, 'utf8'))) {
    needles.push({ encoding: 'base64-of-json-escaped', text: b64 }, { encoding: 'base64url-of-json-escaped', text: base64url(b64) });
  }
  // Forms that coincide (a secret without characters to escape) are searched once.
  const seen = new Set<string>();
  return needles.filter((n) => n.text.length >= MIN_NEEDLE && !seen.has(n.text) && seen.add(n.text));
}

/**
 * Every place a secret appears in the corpus, in any encoding. `secrets` maps a label (what a
 * report may show) to the value (what is searched for).
 */
export function findLeaks(corpus: readonly CorpusEntry[], secrets: ReadonlyMap<string, string>): Leak[] {
  const leaks: Leak[] = [];
  for (const [label, value] of secrets) {
    const needles = needlesOf(value);
    for (const entry of corpus) {
      const hit = needles.find((n) => entry.text.includes(n.text));
      if (hit) leaks.push({ source: entry.source, encoding: hit.encoding, secret: label });
    }
  }
  return leaks;
}

/** The text a careless program would write for `secret` in `encoding`, inside `context`. */
export function plant(secret: string, encoding: Encoding, context: { before: string; after: string }): string {
  const { before, after } = context;
  const doc = (inner: string) => `${before}${inner}${after}`;
  switch (encoding) {
    case 'plain':
      return doc(secret);
    case 'json-escaped':
      return JSON.stringify({ log: doc(secret) });
    case 'url-encoded':
      return `https://example.com/?q=${encodeURIComponent(doc(secret))}`;
    case 'url-encoded-lowercase':
      return encodeURIComponent(doc(secret)).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    case 'hex':
      return Buffer.from(doc(secret)).toString('hex');
    case 'hex-uppercase':
      return Buffer.from(doc(secret)).toString('hex').toUpperCase();
    case 'base64':
      return Buffer.from(doc(secret)).toString('base64');
    case 'base64url':
      return base64url(Buffer.from(doc(secret)).toString('base64'));
    case 'base64-of-json-escaped':
      return Buffer.from(JSON.stringify({ value: doc(secret) })).toString('base64');
    case 'base64url-of-json-escaped':
      return base64url(Buffer.from(JSON.stringify({ value: doc(secret) })).toString('base64'));
  }
}

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `YYYYMMDD/REGION/SERVICE/aws4_request` */
  readonly scope: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** What the verifier needs of an HTTP request, exactly as it arrived. */
export interface SignedRequest {
  readonly method: string;
  /** The request target as sent: raw path and query string, still percent-encoded. */
  readonly url: string;
  /** Node's `rawHeaders`: names and values alternating, duplicates kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

const AUTH = /^AWS4-HMAC-SHA256\s+(.*)$/;

/** Parses the header; `undefined` when it is not a well-formed SigV4 header. */
export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  const m = header === undefined ? null : AUTH.exec(header.trim());
  if (!m || m[1] === undefined) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || credential.length !== 5 || credential[4] !== 'aws4_request' || !signedHeaders || !signature) return undefined;
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    scope: credential.slice(1).join('/'),
    date,
    region,
    service,
    signedHeaders: signedHeaders.split(';'),
    signature: signature.toLowerCase(),
  };
}

/** RFC 3986 encoding, as SigV4 requires (unreserved characters stay as they are). */
function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The canonical URI: the path as sent, URI-encoded once more segment by segment. Clients sign
 * the path they put on the wire with this extra encoding (every service but S3), so encoding
 * the received path reproduces what they signed.
 */
function canonicalUri(rawPath: string): string {
  if (rawPath === '' || rawPath === '/') return '/';
  return rawPath
    .split('/')
    .map((segment) => uriEscape(segment))
    .join('/');
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      return [uriEscape(safeDecode(name)), uriEscape(safeDecode(value))] as const;
    })
    .filter(([name]) => name !== 'X-Amz-Signature')
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function canonicalHeaders(rawHeaders: readonly string[], signed: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const list = values.get(name) ?? [];
    list.push((rawHeaders[i + 1] as string).trim().replace(/\s+/g, ' '));
    values.set(name, list);
  }
  return signed.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('');
}

function headerValue(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) return rawHeaders[i + 1];
  }
  return undefined;
}

/**
 * Recomputes the SigV4 signature of `request` with `secretAccessKey` and compares it with the
 * one the client sent (constant time). Follows the spec: canonical request (method, URI,
 * query, signed headers, payload hash), string to sign, HMAC chain over the credential scope.
 */
export function verifySignature(request: SignedRequest, auth: SigV4Authorization, secretAccessKey: string): boolean {
  const amzDate = headerValue(request.rawHeaders, 'x-amz-date');
  if (amzDate === undefined || !amzDate.startsWith(auth.date)) return false;
  const queryAt = request.url.indexOf('?');
  const rawPath = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : request.url.slice(queryAt + 1);
  const payloadHash = sha256Hex(request.body);
  // A declared payload hash is part of what was signed, so it must also be the body's own hash,
  // or the body could be swapped under a valid signature. (UNSIGNED-PAYLOAD is an S3 feature;
  // the services emulated here sign the payload.)
  const declared = headerValue(request.rawHeaders, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== payloadHash) return false;
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders(request.rawHeaders, auth.signedHeaders),
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, auth.scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex'), 'utf8');
  const actual = Buffer.from(auth.signature, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

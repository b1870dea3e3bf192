import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseAuthorization, verifySignature } from '../../../local/aws/protocol/sigv4';

const credentials = { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

interface Wire {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

/** Signs a request with the SDK's own signer and returns it as it would arrive on the wire. */
async function signed(input: { method?: string; path?: string; query?: Record<string, string | string[]>; headers?: Record<string, string>; body?: string; service?: string }): Promise<Wire> {
  const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: input.service ?? 'sts', sha256: Sha256 });
  const request = await signer.sign({
    method: input.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: input.path ?? '/',
    query: input.query ?? {},
    headers: { host: '127.0.0.1:4566', 'content-type': 'application/x-www-form-urlencoded', ...input.headers },
    body: input.body ?? '',
  });
  const query = Object.entries(input.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((value) => `${encodeURIComponent(k)}=${encodeURIComponent(value)}`))
    .join('&');
  return {
    method: request.method,
    url: `${request.path}${query ? `?${query}` : ''}`,
    rawHeaders: Object.entries(request.headers).flat(),
    body: Buffer.from(input.body ?? ''),
  };
}

function verify(wire: Wire, secret = credentials.secretAccessKey): boolean {
  const auth = parseAuthorization(wire.rawHeaders[wire.rawHeaders.findIndex((h) => h.toLowerCase() === 'authorization') + 1]);
  if (!auth) throw new Error('no Authorization header');
  return verifySignature(wire, auth, secret);
}

describe('SigV4 verification', () => {
  it('parses the Authorization header into key id, scope and signed headers', async () => {
    // Prepare
    const wire = await signed({ body: 'Action=GetCallerIdentity&Version=2011-06-15' });

    // Act
    const auth = parseAuthorization(wire.rawHeaders[wire.rawHeaders.indexOf('authorization') + 1]);

    // Assess
    expect(auth).toMatchObject({ accessKeyId: credentials.accessKeyId, region: 'eu-west-1', service: 'sts' });
    expect(auth?.scope).toMatch(/^\d{8}\/eu-west-1\/sts\/aws4_request$/);
    expect(auth?.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
  });

  it('accepts what the SDK signer signed: a form POST', async () => {
    // Act / Assess
    expect(verify(await signed({ body: 'Action=GetCallerIdentity&Version=2011-06-15' }))).toBe(true);
  });

  it('accepts an encoded path, a query string with repeated and reserved characters, and folded header whitespace', async () => {
    // Prepare
    const wire = await signed({
      method: 'GET',
      path: '/a%20b/c',
      query: { z: 'last', 'a key': ['2', '1'], q: "it's (x)*!" },
      headers: { 'x-amz-meta': '  spaced    value  ' },
    });

    // Act / Assess
    expect(verify(wire)).toBe(true);
  });

  it('rejects a wrong secret', async () => {
    // Act / Assess
    expect(verify(await signed({ body: 'Action=GetCallerIdentity' }), `${credentials.secretAccessKey}x`)).toBe(false);
  });

  it('rejects a changed body, a changed signed header and a changed query', async () => {
    // Prepare
    const wire = await signed({ method: 'POST', query: { a: '1' }, body: 'Action=GetCallerIdentity', headers: { 'x-amz-target': 'x.Y' } });
    const target = wire.rawHeaders.indexOf('x-amz-target') + 1;

    // Act
    const body = verify({ ...wire, body: Buffer.from('Action=GetCallerIdentitz') });
    const header = verify({ ...wire, rawHeaders: wire.rawHeaders.map((h, i) => (i === target ? 'x.Z' : h)) });
    const query = verify({ ...wire, url: wire.url.replace('a=1', 'a=2') });

    // Assess
    expect([body, header, query]).toEqual([false, false, false]);
  });

  it('ignores headers that were not signed', async () => {
    // Prepare
    const wire = await signed({ body: 'Action=GetCallerIdentity' });

    // Act / Assess
    expect(verify({ ...wire, rawHeaders: [...wire.rawHeaders, 'user-agent', 'changed-on-the-way'] })).toBe(true);
  });

  it('returns undefined for a header that is not SigV4', () => {
    // Act / Assess
    expect(parseAuthorization('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(parseAuthorization('AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/sts, SignedHeaders=host, Signature=ab')).toBeUndefined();
    expect(parseAuthorization(undefined)).toBeUndefined();
  });
});

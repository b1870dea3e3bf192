import type { ServerResponse } from 'node:http';
import { HttpsPgpKeyFetcher } from '../../lambdas/adapters/https-pgp-key-fetcher';
import { PgpKeyFetchError } from '../../lambdas/core/errors';
import { type KeyServer, startKeyServer } from '../helpers/pgp-keys';

/** Runs `act` and returns what it threw (fails the test when it throws nothing). */
async function caught(act: () => Promise<unknown>): Promise<Error> {
  try {
    await act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Streams `total` bytes in 16 KiB chunks without a Content-Length header. */
function streamBytes(res: ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const chunk = Buffer.alloc(16 * 1024, 'a');
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += part.length;
      if (!res.write(part)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

describe('HttpsPgpKeyFetcher', () => {
  let server: KeyServer;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    server = await startKeyServer((req, res) => {
      const path = req.url ?? '/';
      if (path === '/key.asc') {
        res.writeHead(200, { 'content-type': 'application/pgp-keys' }).end('-----BEGIN PGP PUBLIC KEY BLOCK-----\n…');
      } else if (path === '/missing') {
        res.writeHead(404).end('not here');
      } else if (path === '/broken') {
        res.writeHead(500).end();
      } else if (path === '/hang') {
        held.push(res); // never answers
      } else if (path === '/trickle') {
        res.writeHead(200);
        res.write('-----BEGIN'); // headers and a little body, then nothing
        held.push(res);
      } else if (path === '/exactly-1k') {
        streamBytes(res, 1024);
      } else if (path === '/huge-streamed') {
        streamBytes(res, 5 * 1024 * 1024);
      } else if (path === '/huge-declared') {
        res.writeHead(200, { 'content-length': String(5 * 1024 * 1024) });
        res.write('x');
        held.push(res);
      } else if (path === '/redirect-local') {
        res.writeHead(302, { location: '/key.asc' }).end();
      } else if (path === '/redirect-plain-http') {
        res.writeHead(302, { location: 'http://keys.example.com/key.asc' }).end();
      } else if (path === '/redirect-loop') {
        res.writeHead(302, { location: '/redirect-loop' }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });

  afterAll(async () => {
    for (const res of held) res.destroy();
    await server?.close();
  });

  it('returns the body of a loopback http answer', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();

    // Act
    const text = await fetcher.fetchText(`${server.url}/key.asc`);

    // Assess
    expect(text).toBe('-----BEGIN PGP PUBLIC KEY BLOCK-----\n…');
  });

  it.each([
    ['http://keys.example.com/alice.asc', 'cannot fetch http://keys.example.com/alice.asc: plain http is refused for keys.example.com; use https'],
    ['http://10.0.0.1/alice.asc', 'cannot fetch http://10.0.0.1/alice.asc: plain http is refused for 10.0.0.1; use https'],
    ['ftp://keys.example.com/alice.asc', 'cannot fetch ftp://keys.example.com/alice.asc: only https URLs are allowed (got ftp:)'],
    ['file:///etc/passwd', 'cannot fetch file:///etc/passwd: only https URLs are allowed (got file:)'],
    ['not a url', 'cannot fetch (invalid URL): not an absolute URL'],
  ])('refuses %s before sending anything', async (url, message) => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();
    const before = server.requests.length;

    // Act
    const error = await caught(() => fetcher.fetchText(url));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyFetchError);
    expect(error.message).toBe(message);
    expect(server.requests.length).toBe(before);
  });

  it('reports a 404 clearly, showing the URL without its query string', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/missing?token=do-not-show`));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyFetchError);
    expect(error.message).toBe(`cannot fetch ${server.url}/missing: HTTP 404 (not found)`);
  });

  it('reports any other non-OK status with its code', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/broken`));

    // Assess
    expect(error.message).toBe(`cannot fetch ${server.url}/broken: HTTP 500 Internal Server Error`);
  });

  it('times out when the server never answers', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher({ timeoutMs: 200 });
    const started = Date.now();

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/hang`));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyFetchError);
    expect(error.message).toBe(`cannot fetch ${server.url}/hang: timed out after 200 ms`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('times out when the body stops half way', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher({ timeoutMs: 200 });

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/trickle`));

    // Assess
    expect(error.message).toBe(`cannot fetch ${server.url}/trickle: timed out after 200 ms`);
  });

  it('accepts an answer of exactly maxBytes', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher({ maxBytes: 1024 });

    // Act
    const text = await fetcher.fetchText(`${server.url}/exactly-1k`);

    // Assess
    expect(text).toHaveLength(1024);
  });

  it('stops reading a streamed answer (no Content-Length) once it exceeds maxBytes', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher({ maxBytes: 1023 });

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/exactly-1k`));

    // Assess
    expect(error.message).toBe(`cannot fetch ${server.url}/exactly-1k: answer larger than 1023 bytes`);
  });

  it('caps at 1 MiB by default', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/huge-streamed`));

    // Assess
    expect(error.message).toBe(`cannot fetch ${server.url}/huge-streamed: answer larger than 1048576 bytes`);
  });

  it('refuses at once an answer whose Content-Length exceeds maxBytes', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher({ timeoutMs: 5000 });

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/huge-declared`));

    // Assess
    expect(error.message).toBe(`cannot fetch ${server.url}/huge-declared: answer larger than 1048576 bytes`);
  });

  it('follows a redirect that stays within the policy', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();

    // Act
    const text = await fetcher.fetchText(`${server.url}/redirect-local`);

    // Assess
    expect(text.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')).toBe(true);
  });

  it('refuses a redirect to plain http on another host', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/redirect-plain-http`));

    // Assess
    expect(error.message).toBe(
      `cannot fetch ${server.url}/redirect-plain-http: redirected to http://keys.example.com/key.asc: plain http is refused for keys.example.com; use https`,
    );
  });

  it('gives up after 5 redirects', async () => {
    // Prepare
    const fetcher = new HttpsPgpKeyFetcher();
    const before = server.requests.length;

    // Act
    const error = await caught(() => fetcher.fetchText(`${server.url}/redirect-loop`));

    // Assess
    expect(error.message).toBe(`cannot fetch ${server.url}/redirect-loop: more than 5 redirects`);
    expect(server.requests.length - before).toBe(6);
  });

  it('reports a refused connection as a network error with its code', async () => {
    // Prepare: a port nothing listens on (the server's, after it is closed).
    const closed = await startKeyServer((_req, res) => res.end());
    await closed.close();
    const fetcher = new HttpsPgpKeyFetcher();

    // Act
    const error = await caught(() => fetcher.fetchText(`${closed.url}/key.asc`));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyFetchError);
    expect(error.message).toBe(`cannot fetch ${closed.url}/key.asc: network error (ECONNREFUSED)`);
  });

  it.each([
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['maxBytes -1', { maxBytes: -1 }],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }],
  ])('fails when constructed with %s', (_name, options) => {
    // Act
    const act = () => new HttpsPgpKeyFetcher(options);

    // Assess
    expect(act).toThrow(RangeError);
  });
});

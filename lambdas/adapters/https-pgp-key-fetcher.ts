/**
 * PgpKeyFetcher over the global fetch: the only network access of PGP key resolution
 * (keybase:, external:, github:). A key server is someone else's machine, so every answer is
 * bounded: https only, a deadline for the whole exchange, and a size cap counted while the
 * body streams in (a lying or absent Content-Length cannot get around it).
 */
import { PgpKeyFetchError } from '../core/errors';
import { displayUrl, fetchUrlProblem } from '../core/pgp-key-spec';
import type { PgpKeyFetcher } from '../core/ports';

export interface HttpsPgpKeyFetcherOptions {
  /** Deadline for connecting, the headers and the whole body. @default 10000 (10 s) */
  readonly timeoutMs?: number;
  /** Largest accepted answer in bytes; a key bundle is a few KiB. @default 1048576 (1 MiB) */
  readonly maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;
const ACCEPT = 'application/pgp-keys, application/json, text/plain, */*';

export class HttpsPgpKeyFetcher implements PgpKeyFetcher {
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(options?: HttpsPgpKeyFetcherOptions) {
    this.timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = options?.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0 (got ${this.timeoutMs})`);
    if (!(this.maxBytes > 0)) throw new RangeError(`maxBytes must be > 0 (got ${this.maxBytes})`);
  }

  async fetchText(url: string): Promise<string> {
    const shown = displayUrl(url);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new PgpKeyFetchError(shown, 'not an absolute URL');
    }
    const problem = fetchUrlProblem(target);
    if (problem) throw new PgpKeyFetchError(shown, problem);

    // One signal for the whole exchange: it also aborts a body that trickles in slowly.
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      // Redirects are followed by hand so every hop is checked like the first URL: fetch
      // itself would happily follow https to plain http on another host.
      for (let hops = 0; ; hops += 1) {
        const response = await fetch(target, { signal, redirect: 'manual', headers: { accept: ACCEPT } });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          if (hops >= MAX_REDIRECTS) throw new PgpKeyFetchError(shown, `more than ${MAX_REDIRECTS} redirects`);
          target = new URL(location, target);
          const hopProblem = fetchUrlProblem(target);
          if (hopProblem) throw new PgpKeyFetchError(shown, `redirected to ${displayUrl(target.href)}: ${hopProblem}`);
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          const reason =
            response.status === 404 ? 'HTTP 404 (not found)' : `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
          throw new PgpKeyFetchError(shown, reason);
        }
        return await this.readCapped(response, shown);
      }
    } catch (error) {
      if (error instanceof PgpKeyFetchError) throw error;
      // The abort reason is a DOMException, which is not always an `instanceof Error`: ask the signal.
      if (signal.aborted) throw new PgpKeyFetchError(shown, `timed out after ${this.timeoutMs} ms`, { cause: error });
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      const reason = typeof code === 'string' ? `network error (${code})` : 'network error';
      throw new PgpKeyFetchError(shown, reason, { cause: error });
    }
  }

  private async readCapped(response: Response, shown: string): Promise<string> {
    const tooLarge = `answer larger than ${this.maxBytes} bytes`;
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      await response.body?.cancel();
      throw new PgpKeyFetchError(shown, tooLarge);
    }
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > this.maxBytes) {
        await reader.cancel();
        throw new PgpKeyFetchError(shown, tooLarge);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

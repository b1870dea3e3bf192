import type { ServiceName } from '../protocol/context';

/**
 * Throttling knob. Two independent mechanisms, either or both:
 * - a token bucket per API (service + operation): `rate` calls per second sustained, `burst`
 *   calls at once; it refills on the endpoint's clock, so an injected clock makes it exact;
 * - a random fraction of calls throttled, from a seeded generator (same seed, same calls).
 */
export interface ThrottleOptions {
  /** Sustained calls per second per API. @default no token bucket */
  readonly rate?: number;
  /** Bucket size: calls allowed at once before `rate` applies. @default max(1, rate) */
  readonly burst?: number;
  /** Fraction of calls (0 to 1) throttled at random. @default 0 */
  readonly fraction?: number;
  /** Seed of the random throttle. @default 1 */
  readonly seed?: number;
  /** The APIs throttled: `'service:Operation'`, `'service:*'` or `'*'`. @default every API */
  readonly apis?: readonly string[];
}

/** mulberry32: a small, fast, seedable PRNG; plenty for choosing which calls to throttle. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function matchesApi(patterns: readonly string[] | undefined, service: ServiceName, operation: string): boolean {
  if (!patterns) return true;
  return patterns.some((p) => p === '*' || p === `${service}:*` || p === `${service}:${operation}`);
}

export class Throttle {
  private options: ThrottleOptions | undefined;
  private random: () => number = seededRandom(1);
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    options: ThrottleOptions | undefined,
    private readonly nowMs: () => number,
  ) {
    this.configure(options);
  }

  /** Replaces the settings; buckets and the random sequence start afresh. */
  configure(options: ThrottleOptions | undefined): void {
    if (options?.fraction !== undefined && (options.fraction < 0 || options.fraction > 1)) {
      throw new RangeError(`throttle.fraction must be between 0 and 1, got ${options.fraction}`);
    }
    if (options?.rate !== undefined && !(options.rate >= 0)) throw new RangeError(`throttle.rate must be >= 0, got ${options.rate}`);
    this.options = options;
    this.random = seededRandom(options?.seed ?? 1);
    this.buckets.clear();
  }

  /** Takes a token for this call; `true` means the call is throttled. */
  throttled(service: ServiceName, operation: string): boolean {
    const options = this.options;
    if (!options || !matchesApi(options.apis, service, operation)) return false;
    if (options.fraction !== undefined && options.fraction > 0 && this.random() < options.fraction) return true;
    if (options.rate === undefined) return false;
    const burst = options.burst ?? Math.max(1, options.rate);
    const key = `${service}:${operation}`;
    const now = this.nowMs();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * options.rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return true;
    bucket.tokens -= 1;
    return false;
  }
}

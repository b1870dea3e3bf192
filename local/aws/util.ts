import { randomBytes } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_CHARS = `${ALNUM}+/`;

/**
 * A uniformly random string over `alphabet`, from the OS CSPRNG. Rejection sampling keeps it
 * unbiased; identifiers and secret keys both come from here, so neither is predictable.
 */
export function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** `AKIA` + 16 upper-case alphanumerics, the shape of a long-term IAM access key id. */
export const newAccessKeyId = (): string => `AKIA${randomString(UPPER_ALNUM, 16)}`;
/** 40 characters, the shape of an IAM secret access key. */
export const newSecretAccessKey = (): string => randomString(SECRET_CHARS, 40);
/** `AIDA` + 17 upper-case alphanumerics, the shape of an IAM user's unique id. */
export const newUserId = (): string => `AIDA${randomString(UPPER_ALNUM, 17)}`;
/** The 6 random characters Secrets Manager appends to a secret's ARN. */
export const newArnSuffix = (): string => randomString(ALNUM, 6);

/** ISO 8601 to the second, as IAM and STS print timestamps in XML. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Epoch seconds (fractional), as AWS JSON protocols carry timestamps. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/** Opaque pagination token for offset-based pages (Marker / NextToken). */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

/** Decodes {@link encodePageToken}; `undefined` when the token was not made here. */
export function decodePageToken(token: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'o' in parsed) {
      const offset = (parsed as { o: unknown }).o;
      if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
    }
  } catch {
    // fall through: not one of our tokens
  }
  return undefined;
}

/** A clock the endpoint reads for every date it records; tests move it forward. */
export interface EndpointClock {
  now(): Date;
  /** Moves the endpoint's time forward (or back, with a negative number). */
  advance(ms: number): void;
}

export function createClock(base: () => Date = () => new Date()): EndpointClock {
  let offset = 0;
  return {
    now: () => new Date(base().getTime() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

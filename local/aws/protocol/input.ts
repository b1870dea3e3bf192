import type { InvalidInput } from '../errors';

/** A `{ Key, Value }` tag, the shape IAM, Secrets Manager and KMS (TagKey/TagValue) share. */
export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/**
 * Reads the members of an AWS JSON protocol request body. Every accessor checks the type, so
 * an operation sees only well-formed values and a malformed request gets the service's own
 * validation error naming the member.
 */
export class JsonInput {
  constructor(
    private readonly body: Readonly<Record<string, unknown>>,
    private readonly invalid: InvalidInput,
  ) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  raw(name: string): unknown {
    return this.body[name] ?? undefined;
  }

  string(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw this.invalid(`${name} must be a string`);
    return value;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined) {
      throw this.invalid(`1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw this.invalid(`${name} must be a boolean`);
    return value;
  }

  integer(name: string): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw this.invalid(`${name} must be an integer`);
    return value;
  }

  stringList(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw this.invalid(`${name} must be a list of strings`);
    }
    return value as string[];
  }

  stringMap(name: string): Record<string, string> | undefined {
    const value = this.object(name);
    if (value === undefined) return undefined;
    for (const v of Object.values(value)) {
      if (typeof v !== 'string') throw this.invalid(`${name} must map strings to strings`);
    }
    return value as Record<string, string>;
  }

  object(name: string): Record<string, unknown> | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.invalid(`${name} must be an object`);
    return value as Record<string, unknown>;
  }

  /** A nested structure, read with the same checks. */
  struct(name: string): JsonInput | undefined {
    const value = this.object(name);
    return value === undefined ? undefined : new JsonInput(value, this.invalid);
  }

  /** A blob member: base64 on the wire. */
  blob(name: string): Buffer | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw this.invalid(`${name} must be base64-encoded`);
    return Buffer.from(value, 'base64');
  }

  tags(name: string, keyMember = 'Key', valueMember = 'Value'): Tag[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw this.invalid(`${name} must be a list of tags`);
    return value.map((item: unknown) => {
      if (typeof item !== 'object' || item === null) throw this.invalid(`${name} must be a list of tags`);
      const tag = new JsonInput(item as Record<string, unknown>, this.invalid);
      return { Key: tag.requiredString(keyMember), Value: tag.string(valueMember) ?? '' };
    });
  }
}

/**
 * Reads the parameters of an AWS query protocol request (`Action=…&Version=…&A.member.1=…`).
 * Lists use the `Name.member.N` form the SDKs and the AWS CLI send.
 */
export class QueryInput {
  constructor(
    private readonly params: URLSearchParams,
    private readonly invalid: InvalidInput,
  ) {}

  string(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined) {
      throw this.invalid(`1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
    }
    return value;
  }

  integer(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw this.invalid(`1 validation error detected: Value '${value}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must be an integer`);
    return Number(value);
  }

  /** `Name.member.1`, `Name.member.2`, … in order; `Name=` alone is an empty list. */
  list(name: string): string[] | undefined {
    const values: string[] = [];
    for (let i = 1; this.params.has(`${name}.member.${i}`); i++) values.push(this.params.get(`${name}.member.${i}`) ?? '');
    if (values.length === 0 && !this.params.has(name)) return undefined;
    return values;
  }

  /** `Name.member.N.Key` / `Name.member.N.Value`. */
  tags(name: string): Tag[] | undefined {
    const tags: Tag[] = [];
    for (let i = 1; this.params.has(`${name}.member.${i}.Key`); i++) {
      tags.push({ Key: this.params.get(`${name}.member.${i}.Key`) ?? '', Value: this.params.get(`${name}.member.${i}.Value`) ?? '' });
    }
    if (tags.length === 0 && !this.params.has(name)) return undefined;
    return tags;
  }
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from '../errors';

/**
 * Ciphertext blob layout (this endpoint's own; AWS's is opaque too):
 *   1 byte version (1) | 1 byte key-id length | key id (ASCII) | 12-byte IV | 16-byte GCM tag | ciphertext
 * The key id is inside so Decrypt finds the key without a KeyId, as KMS does. The encryption
 * context is bound as AES-GCM additional data, so Decrypt with another context fails the tag
 * check: InvalidCiphertextException, exactly KMS's answer.
 */
const BLOB_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface KmsKey {
  readonly keyId: string;
  readonly material: Buffer;
  description: string;
  enabled: boolean;
  readonly createdDate: Date;
}

export interface KmsSnapshot {
  keys: { keyId: string; material: string; description: string; enabled: boolean; createdDate: string }[];
  aliases: { aliasName: string; keyId: string; createdDate: string }[];
}

export interface KmsDeps {
  readonly accountId: string;
  readonly region: string;
  readonly now: () => Date;
  readonly changed: () => void;
}

/** KMS's parameter error: `ValidationException`, HTTP 400. */
export const kmsInvalid = (message: string): AwsError => new AwsError('ValidationException', message, 400);
const invalidCiphertext = (): AwsError => new AwsError('InvalidCiphertextException', '', 400);

/** The context as additional authenticated data: canonical (sorted) so key order does not matter. */
function contextAad(keyId: string, context: Readonly<Record<string, string>>): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify({ keyId, context: sorted }), 'utf8');
}

/**
 * Symmetric KMS keys with real AES-256-GCM. Key material is random per key and lives only in
 * memory (and in the state file when one is configured).
 */
export class KmsModel {
  private readonly keys = new Map<string, KmsKey>();
  private readonly aliases = new Map<string, { keyId: string; createdDate: Date }>();

  constructor(private readonly deps: KmsDeps) {}

  arnOf(key: KmsKey): string {
    return `arn:aws:kms:${this.deps.region}:${this.deps.accountId}:key/${key.keyId}`;
  }

  aliasArn(aliasName: string): string {
    return `arn:aws:kms:${this.deps.region}:${this.deps.accountId}:${aliasName}`;
  }

  createKey(description = ''): KmsKey {
    const key: KmsKey = { keyId: randomUUID(), material: randomBytes(32), description, enabled: true, createdDate: this.deps.now() };
    this.keys.set(key.keyId, key);
    this.deps.changed();
    return key;
  }

  /** Resolves a key id, key ARN, alias name (`alias/x`) or alias ARN. */
  resolve(keyId: string): KmsKey {
    let id = keyId;
    const aliasName = keyId.startsWith('alias/') ? keyId : /^arn:[^:]+:kms:[^:]*:[^:]*:(alias\/.+)$/.exec(keyId)?.[1];
    if (aliasName !== undefined) {
      const alias = this.aliases.get(aliasName);
      if (!alias) throw new AwsError('NotFoundException', `Alias ${this.aliasArn(aliasName)} is not found.`, 400);
      id = alias.keyId;
    } else {
      const fromArn = /^arn:[^:]+:kms:[^:]*:[^:]*:key\/(.+)$/.exec(keyId)?.[1];
      if (fromArn !== undefined) id = fromArn;
    }
    const key = this.keys.get(id);
    if (!key) {
      if (!/^[0-9a-f-]{36}$/.test(id)) throw new AwsError('NotFoundException', `Invalid keyId '${keyId}'`, 400);
      throw new AwsError('NotFoundException', `Key 'arn:aws:kms:${this.deps.region}:${this.deps.accountId}:key/${id}' does not exist`, 400);
    }
    return key;
  }

  setEnabled(keyId: string, enabled: boolean): KmsKey {
    const key = this.resolve(keyId);
    key.enabled = enabled;
    this.deps.changed();
    return key;
  }

  createAlias(aliasName: string, targetKeyId: string): void {
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(aliasName)) {
      throw kmsInvalid(`1 validation error detected: Value '${aliasName}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`);
    }
    if (aliasName.startsWith('alias/aws/')) {
      throw new AwsError('NotAuthorizedException', 'Cannot create alias with prefix alias/aws/', 400);
    }
    if (this.aliases.has(aliasName)) {
      throw new AwsError('AlreadyExistsException', `An alias with the name ${this.aliasArn(aliasName)} already exists`, 400);
    }
    const key = this.resolve(targetKeyId);
    this.aliases.set(aliasName, { keyId: key.keyId, createdDate: this.deps.now() });
    this.deps.changed();
  }

  listAliases(keyId?: string): { aliasName: string; keyId: string; createdDate: Date }[] {
    const only = keyId === undefined ? undefined : this.resolve(keyId).keyId;
    return [...this.aliases.entries()]
      .filter(([, a]) => only === undefined || a.keyId === only)
      .map(([aliasName, a]) => ({ aliasName, keyId: a.keyId, createdDate: a.createdDate }))
      .sort((a, b) => a.aliasName.localeCompare(b.aliasName));
  }

  encrypt(keyId: string, plaintext: Buffer, context: Readonly<Record<string, string>> = {}): { key: KmsKey; blob: Buffer } {
    if (plaintext.length < 1 || plaintext.length > 4096) {
      throw kmsInvalid('1 validation error detected: Value at \'plaintext\' failed to satisfy constraint: Member must have length between 1 and 4096');
    }
    const key = this.usable(this.resolve(keyId));
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(contextAad(key.keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(key.keyId, 'ascii');
    const blob = Buffer.concat([Buffer.from([BLOB_VERSION, id.length]), id, iv, cipher.getAuthTag(), ciphertext]);
    return { key, blob };
  }

  decrypt(blob: Buffer, context: Readonly<Record<string, string>> = {}, expectedKeyId?: string): { key: KmsKey; plaintext: Buffer } {
    const idLength = blob[1];
    if (blob[0] !== BLOB_VERSION || idLength === undefined || blob.length < 2 + idLength + IV_BYTES + TAG_BYTES + 1) throw invalidCiphertext();
    const keyId = blob.subarray(2, 2 + idLength).toString('ascii');
    const key = this.keys.get(keyId);
    if (!key) throw invalidCiphertext();
    if (expectedKeyId !== undefined && this.resolve(expectedKeyId).keyId !== key.keyId) {
      throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.', 400);
    }
    this.usable(key);
    const ivStart = 2 + idLength;
    const decipher = createDecipheriv('aes-256-gcm', key.material, blob.subarray(ivStart, ivStart + IV_BYTES));
    decipher.setAAD(contextAad(key.keyId, context));
    decipher.setAuthTag(blob.subarray(ivStart + IV_BYTES, ivStart + IV_BYTES + TAG_BYTES));
    try {
      const plaintext = Buffer.concat([decipher.update(blob.subarray(ivStart + IV_BYTES + TAG_BYTES)), decipher.final()]);
      return { key, plaintext };
    } catch {
      // Wrong encryption context or a tampered blob: the tag does not verify.
      throw invalidCiphertext();
    }
  }

  snapshot(): KmsSnapshot {
    return {
      keys: [...this.keys.values()].map((k) => ({
        keyId: k.keyId,
        material: k.material.toString('base64'),
        description: k.description,
        enabled: k.enabled,
        createdDate: k.createdDate.toISOString(),
      })),
      aliases: [...this.aliases.entries()].map(([aliasName, a]) => ({ aliasName, keyId: a.keyId, createdDate: a.createdDate.toISOString() })),
    };
  }

  restore(snapshot: KmsSnapshot): void {
    this.keys.clear();
    this.aliases.clear();
    for (const k of snapshot.keys) {
      this.keys.set(k.keyId, { keyId: k.keyId, material: Buffer.from(k.material, 'base64'), description: k.description, enabled: k.enabled, createdDate: new Date(k.createdDate) });
    }
    for (const a of snapshot.aliases) this.aliases.set(a.aliasName, { keyId: a.keyId, createdDate: new Date(a.createdDate) });
  }

  private usable(key: KmsKey): KmsKey {
    if (!key.enabled) throw new AwsError('DisabledException', `${this.arnOf(key)} is disabled.`, 400);
    return key;
  }
}

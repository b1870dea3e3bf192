import { createHash } from 'node:crypto';

/**
 * The Secrets Manager ClientRequestToken (= version id) of a rotation: a UUID-shaped string
 * (36 chars, RFC 9562 version 8 "custom", SHA-256 of the rotation id), so every re-run of
 * StoreSecret for the same rotation writes the same version and PutSecretValue stays idempotent.
 */
export function clientRequestTokenFor(rotationId: string): string {
  const hex = createHash('sha256').update(`keyrotate/secret-version/${rotationId}`, 'utf8').digest('hex');
  // Version nibble 8 and variant bits 10xx make it a well-formed UUID for tools that check.
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

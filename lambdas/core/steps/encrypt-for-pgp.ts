/**
 * The only step that needs the OpenPGP library (through ../pgp): kept in a module of its own so
 * that no other Lambda's bundle carries it.
 */
import { ValidationError } from '../errors';
import { DEFAULT_KEYBASE_URL, encryptForPgpKey, resolvePgpKey } from '../pgp';
import type { DeliveryResult, NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../types';
import type { RotationDeps } from './deps';
import { openSecret, openSmtpPasswords } from './smtp-passwords';

export interface PgpConfig {
  /** Keybase base URL (KEYROTATE_KEYBASE_URL). @default 'https://keybase.io' */
  readonly keybaseUrl?: string;
}

/**
 * EncryptForPgp: resolves plan.delivery.pgpKey and returns the secret and SMTP passwords
 * encrypted to it (Terraform's output shape). Changes nothing in AWS.
 * @throws PgpKeyError
 */
export async function encryptForPgp(
  deps: Pick<RotationDeps, 'sealer' | 'pgpFetcher' | 'clock'>,
  plan: RotationPlan,
  newKey: NewKeyRef,
  smtp?: SmtpPasswordsRef | null,
  config?: PgpConfig,
): Promise<DeliveryResult> {
  if (plan.delivery.type !== 'pgp') throw new ValidationError('plan.delivery.type', 'EncryptForPgp needs "pgp" delivery');
  const key = await resolvePgpKey(plan.delivery.pgpKey, deps.pgpFetcher, {
    keybaseUrl: config?.keybaseUrl ?? DEFAULT_KEYBASE_URL,
    now: deps.clock.now(),
  });
  const passwords = await openSmtpPasswords(deps, plan, newKey, smtp);
  const encryptedSecret = await encryptForPgpKey(await openSecret(deps, plan, newKey), key);
  const encryptedSesSmtpPasswords: Record<string, string> = {};
  for (const [region, password] of Object.entries(passwords)) {
    encryptedSesSmtpPasswords[region] = await encryptForPgpKey(password, key);
  }
  const [firstRegion] = plan.sesSmtpRegions;
  return {
    type: 'pgp',
    encryptedSecret,
    encryptedSesSmtpPasswordV4: firstRegion === undefined ? null : (encryptedSesSmtpPasswords[firstRegion] ?? null),
    encryptedSesSmtpPasswords,
    keyFingerprint: key.fingerprint,
  };
}

import { ValidationError } from '../errors';
import { deriveSmtpPasswordV4 } from '../smtp-password';
import type { NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../types';
import { sealContext } from './common';
import type { RotationDeps } from './deps';

/** Opens a sealed secret access key of this rotation. */
export function openSecret(
  deps: Pick<RotationDeps, 'sealer'>,
  plan: Pick<RotationPlan, 'rotationId'>,
  newKey: Pick<NewKeyRef, 'accessKeyId' | 'sealedSecret'>,
): Promise<string> {
  return deps.sealer.open(newKey.sealedSecret, sealContext(plan.rotationId, newKey.accessKeyId, 'secretAccessKey'));
}

/** One fixed message for any malformed map: what was opened must never show in it. */
const NOT_A_PASSWORD_MAP = 'the sealed SMTP passwords are not a JSON object of region to password; the sealed value is corrupt';

/**
 * Parses the opened `{ region: password }` JSON. JSON.parse's SyntaxError quotes the text it
 * failed on, which here is SMTP passwords: it is replaced by an error with a fixed message (and
 * no `cause`, which would carry the original along).
 */
function passwordMap(opened: string): Record<string, unknown> {
  let map: unknown;
  try {
    map = JSON.parse(opened);
  } catch {
    throw new ValidationError('smtp', NOT_A_PASSWORD_MAP);
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new ValidationError('smtp', NOT_A_PASSWORD_MAP);
  return map as Record<string, unknown>;
}

/**
 * The `{ region: password }` map of this rotation, in plan.sesSmtpRegions order; {} without
 * regions. The sealed map must cover exactly the plan's regions (a mismatch is a wiring bug).
 * @throws ValidationError naming `smtp` (missing, corrupt, or a region without a password);
 *   never quoting what was opened
 */
export async function openSmtpPasswords(
  deps: Pick<RotationDeps, 'sealer'>,
  plan: Pick<RotationPlan, 'rotationId' | 'sesSmtpRegions'>,
  newKey: Pick<NewKeyRef, 'accessKeyId'>,
  smtp: SmtpPasswordsRef | null | undefined,
): Promise<Record<string, string>> {
  if (plan.sesSmtpRegions.length === 0) return {};
  if (!smtp || smtp.sealedPasswords === null) {
    throw new ValidationError('smtp', `SMTP passwords for ${plan.sesSmtpRegions.join(', ')} are missing (DeriveSmtpPasswords did not run)`);
  }
  const opened = await deps.sealer.open(
    smtp.sealedPasswords,
    sealContext(plan.rotationId, newKey.accessKeyId, 'sesSmtpPasswords'),
  );
  const map = passwordMap(opened);
  const passwords: Record<string, string> = {};
  for (const region of plan.sesSmtpRegions) {
    const password = map[region];
    if (typeof password !== 'string') throw new ValidationError('smtp', `the SMTP password for ${region} is missing`);
    passwords[region] = password;
  }
  return passwords;
}

/**
 * DeriveSmtpPasswords: one SES SMTP password per plan.sesSmtpRegions entry, sealed as a JSON map
 * under { rotationId, accessKeyId, purpose: 'sesSmtpPasswords' }. No region → sealedPasswords null.
 */
export async function deriveSmtpPasswords(
  deps: Pick<RotationDeps, 'sealer'>,
  plan: RotationPlan,
  newKey: NewKeyRef,
): Promise<SmtpPasswordsRef> {
  const regions = [...plan.sesSmtpRegions];
  if (regions.length === 0) return { regions, sealedPasswords: null };
  const secret = await openSecret(deps, plan, newKey);
  const passwords: Record<string, string> = {};
  for (const region of regions) passwords[region] = deriveSmtpPasswordV4(secret, region);
  const sealedPasswords = await deps.sealer.seal(
    JSON.stringify(passwords),
    sealContext(plan.rotationId, newKey.accessKeyId, 'sesSmtpPasswords'),
  );
  return { regions, sealedPasswords };
}

/**
 * The SES SMTP password of an access key (AWS's documented "SigV4 conversion"). SES derives
 * the same value on its side from the key's secret, so nothing is stored at AWS: the password
 * is a pure function of the secret access key and the region it will be used in.
 */
import { createHmac } from 'node:crypto';
import { ValidationError } from './errors';

// Fixed inputs of AWS's algorithm: a SigV4 signing key for a constant date, scoped to the
// region and the `ses` service, that signs the constant message "SendRawEmail".
const DATE = '11111111';
const SERVICE = 'ses';
const TERMINAL = 'aws4_request';
const MESSAGE = 'SendRawEmail';
/** Version byte SES expects in front of the signature (0x04: SigV4-derived password). */
const VERSION = 0x04;

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * Derives the SES SMTP password (Terraform's `ses_smtp_password_v4`) for `region`.
 * Computes for any region string, as Terraform does; which regions are accepted from users is
 * decided at the input layer (`checkSesSmtpRegions`). Errors never carry the secret.
 */
export function deriveSmtpPasswordV4(secretAccessKey: string, region: string): string {
  if (secretAccessKey.length === 0) throw new ValidationError('secretAccessKey', 'must not be empty');
  if (region.length === 0) throw new ValidationError('region', 'must not be empty');
  let signature = hmac(`AWS4${secretAccessKey}`, DATE);
  for (const part of [region, SERVICE, TERMINAL, MESSAGE]) signature = hmac(signature, part);
  return Buffer.concat([Buffer.from([VERSION]), signature]).toString('base64');
}

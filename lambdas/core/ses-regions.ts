/**
 * Which regions an SES SMTP password may be asked for. The derivation itself works for any
 * string (deriveSmtpPasswordV4); this is the input-layer policy that catches typos such as
 * `eu-west-l` before a rotation delivers a password nobody can use.
 */
import { ValidationError } from './errors';

/**
 * Regions with an SES SMTP endpoint (`email-smtp.<region>.amazonaws.com`), from the "SMTP
 * endpoints" table of "Amazon Simple Email Service endpoints and quotas" in the AWS General
 * Reference, including AWS GovCloud (US). AWS adds regions over time: `allowUnlisted` (CLI
 * `--allow-unlisted-region`, input `allowUnlistedSesRegions`) accepts one that is newer than
 * this list. Sorted, so error messages and docs list them in a stable order.
 */
export const SES_SMTP_REGIONS: readonly string[] = Object.freeze(
  [
    'af-south-1',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-south-1',
    'ap-south-2',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ca-central-1',
    'eu-central-1',
    'eu-north-1',
    'eu-south-1',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'il-central-1',
    'me-south-1',
    'sa-east-1',
    'us-east-1',
    'us-east-2',
    'us-gov-east-1',
    'us-gov-west-1',
    'us-west-1',
    'us-west-2',
  ].sort(),
);

/** The shape of every AWS region name (`eu-west-1`, `us-gov-west-1`, `ap-southeast-5`). */
const REGION_SYNTAX = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const listed = new Set(SES_SMTP_REGIONS);

/** A short, printable rendering of user input for error messages (never a huge echo). */
function quote(value: string): string {
  const printable = value.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
  return `'${printable}${value.length > 40 ? '…' : ''}'`;
}

/**
 * Validates and returns the regions (deduplicated, order kept). Throws ValidationError(field, …)
 * naming the bad region and listing valid ones, unless allowUnlisted (then only a syntax check
 * /^[a-z]{2}(-[a-z]+)+-\d+$/).
 */
export function checkSesSmtpRegions(regions: readonly string[], field: string, allowUnlisted: boolean): string[] {
  if (!Array.isArray(regions)) throw new ValidationError(field, 'must be an array of region names');
  const result: string[] = [];
  for (const region of regions as readonly unknown[]) {
    if (typeof region !== 'string') throw new ValidationError(field, 'every region must be a string');
    if (allowUnlisted) {
      if (!REGION_SYNTAX.test(region)) {
        throw new ValidationError(field, `${quote(region)} is not an AWS region name (expected e.g. eu-west-1)`);
      }
    } else if (!listed.has(region)) {
      throw new ValidationError(
        field,
        `${quote(region)} is not a region with an SES SMTP endpoint; valid regions: ${SES_SMTP_REGIONS.join(', ')} ` +
          '(allow a newer region explicitly with allowUnlistedSesRegions / --allow-unlisted-region)',
      );
    }
    if (!result.includes(region)) result.push(region);
  }
  return result;
}

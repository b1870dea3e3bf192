import { readFile } from 'node:fs/promises';
import { UsageError } from './io';

/**
 * An armored key starts with dashes, so parseArgs would take `--pgp-key "$(cat key.asc)"` for
 * an option without its value: glue such a value to its option before parsing.
 */
export function glueArmoredPgpKey(args: readonly string[]): string[] {
  const glued: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (arg === '--pgp-key' && next?.startsWith('-----BEGIN ')) {
      glued.push(`--pgp-key=${next}`);
      i += 1;
    } else {
      glued.push(arg);
    }
  }
  return glued;
}

/**
 * The --pgp-key value with `@FILE` read: a binary export (`gpg --export`) becomes its base64
 * form, Terraform's; a text file (armor, base64, keybase:…) is taken as is, trimmed.
 */
export async function readPgpKeyArg(value: string): Promise<string> {
  if (!value.startsWith('@')) return value;
  const file = value.slice(1);
  if (file === '') throw new UsageError('--pgp-key @FILE: the file name is missing');
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`--pgp-key: cannot read key file '${file}' (${typeof code === 'string' ? code : 'read error'})`);
  }
  // An OpenPGP packet header has its high bit set; text forms (armor, base64, prefixes) never do.
  const first = content[0];
  return first !== undefined && (first & 0x80) !== 0 ? content.toString('base64') : content.toString('utf8').trim();
}

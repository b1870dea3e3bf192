import { parseArgs } from 'node:util';
import { type CliCommand, type CliIo, UsageError, readAll } from '../io';
import { glueArmoredPgpKey, readPgpKeyArg } from '../pgp-key-arg';
import { HttpsPgpKeyFetcher } from '../../lambdas/adapters/https-pgp-key-fetcher';
import { DEFAULT_GITHUB_URL, DEFAULT_KEYBASE_URL, type ResolvedPgpKey, encryptForPgpKey, resolvePgpKey } from '../../lambdas/core/pgp';

/** The part of the help text both PGP commands share: every accepted form of KEY. */
export const PGP_KEY_FORMS_HELP = `KEY is one of:
  BASE64                   base64 of a binary public key (gpg --export | base64), as in
                           Terraform's pgp_key; whitespace and newlines are ignored
  an armored key           the text of gpg --armor --export (-----BEGIN PGP PUBLIC KEY BLOCK-----)
  BASE64 of an armored key
  keybase:NAME             the primary key of Keybase user NAME
  external:NAME|URL        the key served at URL, every %s in URL replaced by NAME (URL-encoded)
  github:NAME              the key GitHub serves at https://github.com/NAME.gpg
  @FILE                    read KEY from FILE: any form above, or a binary gpg --export file
The key must be exactly one public key that can encrypt (not expired, not revoked, with an
encryption subkey). RSA and Curve25519 keys are supported.

Remote keys are fetched over https only, with a 10 s timeout and a 1 MiB size limit.
Environment: KEYROTATE_KEYBASE_URL (default ${DEFAULT_KEYBASE_URL}) and
KEYROTATE_GITHUB_URL (default ${DEFAULT_GITHUB_URL}) change where keybase: and github: keys
are fetched from (e.g. a GitHub Enterprise server).`;

/** The --pgp-key value, required, with @FILE read. */
async function pgpKeySpec(value: string | undefined): Promise<string> {
  if (value === undefined || value.trim() === '') throw new UsageError('--pgp-key is required');
  return readPgpKeyArg(value);
}

/** Resolves the --pgp-key value; remote forms go through https with the env's base URLs. */
export async function resolveCliPgpKey(value: string | undefined, io: CliIo): Promise<ResolvedPgpKey> {
  const spec = await pgpKeySpec(value);
  return resolvePgpKey(spec, new HttpsPgpKeyFetcher(), {
    keybaseUrl: io.env.KEYROTATE_KEYBASE_URL || DEFAULT_KEYBASE_URL,
    githubUrl: io.env.KEYROTATE_GITHUB_URL || DEFAULT_GITHUB_URL,
    field: '--pgp-key',
  });
}

/** parseArgs, with misplaced arguments refused without echoing them (they may be plaintext). */
export function parsePgpArgs(args: string[], withArmor: boolean): { pgpKey?: string; armor: boolean } {
  const glued = glueArmoredPgpKey(args);
  let values: { 'pgp-key'?: string | undefined; armor?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: glued,
      options: withArmor ? { 'pgp-key': { type: 'string' }, armor: { type: 'boolean' } } : { 'pgp-key': { type: 'string' } },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument (not shown); ${withArmor ? 'the plaintext is read from standard input, ' : ''}the key goes in --pgp-key`);
  }
  return { ...(values['pgp-key'] !== undefined ? { pgpKey: values['pgp-key'] } : {}), armor: values.armor === true };
}

const help = `Usage: keyrotate pgp-encrypt --pgp-key KEY [--armor] < PLAINTEXT

Encrypts standard input to a PGP public key and prints the result: base64 of an unsigned,
binary OpenPGP message (Terraform's encrypted_secret format), newline-terminated. The input
is encrypted byte for byte, a trailing newline included (use printf '%s' to leave it out).

Decrypt with:  base64 -d < secret.b64 | gpg --decrypt

Options:
  --pgp-key KEY  The recipient public key (required), see below.
  --armor        Print an ASCII-armored message (-----BEGIN PGP MESSAGE-----) instead.
  -h, --help     Show this help.

${PGP_KEY_FORMS_HELP}
`;

export const pgpEncryptCommand: CliCommand = {
  name: 'pgp-encrypt',
  summary: 'Encrypt stdin to a PGP key (base64 of a binary OpenPGP message, as Terraform)',
  help,
  async run(args, io) {
    const { pgpKey, armor } = parsePgpArgs(args, true);
    const key = await resolveCliPgpKey(pgpKey, io);
    const plaintext = await readAll(io.stdin);
    if (plaintext.length === 0) throw new UsageError('nothing to encrypt: standard input is empty');
    const encrypted = await encryptForPgpKey(plaintext, key, { armor });
    io.stdout.write(encrypted.endsWith('\n') ? encrypted : `${encrypted}\n`);
    return 0;
  },
};

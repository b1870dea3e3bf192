import type { CliCommand } from '../io';
import { PGP_KEY_FORMS_HELP, parsePgpArgs, resolveCliPgpKey } from './pgp-encrypt';

const help = `Usage: keyrotate pgp-fingerprint --pgp-key KEY

Resolves a PGP public key exactly as a rotation would (fetching remote forms, checking it
can encrypt) and prints its primary key fingerprint: lowercase hex without spaces, the value
of Terraform's key_fingerprint and of keyrotate's keyFingerprint output.

Options:
  --pgp-key KEY  The public key (required), see below.
  -h, --help     Show this help.

${PGP_KEY_FORMS_HELP}
`;

export const pgpFingerprintCommand: CliCommand = {
  name: 'pgp-fingerprint',
  summary: "Print the fingerprint of a PGP key, checking that it can encrypt",
  help,
  async run(args, io) {
    const { pgpKey } = parsePgpArgs(args, false);
    const key = await resolveCliPgpKey(pgpKey, io);
    io.stdout.write(`${key.fingerprint}\n`);
    return 0;
  },
};

import { parseArgs } from 'node:util';
import { type CliCommand, type CliIo, UsageError, readAll } from '../io';
import { checkSesSmtpRegions } from '../../lambdas/core/ses-regions';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';

const help = `Usage: keyrotate smtp-password --region REGION [--allow-unlisted-region] < SECRET

Derives the Amazon SES SMTP password of an IAM secret access key for one region (AWS's
SigV4 conversion; Terraform's ses_smtp_password_v4) and prints it. The SMTP user name is the
access key id.

The secret access key is read from standard input: exactly one line, a trailing newline
(LF or CRLF) is ignored. It is never taken as an argument, because arguments end up in
shell history and process listings.

Options:
  --region REGION          SES region the password is for, e.g. eu-west-1 (required).
                           Must be a region with an SES SMTP endpoint.
  --allow-unlisted-region  Accept a region missing from keyrotate's list (a region newer
                           than this release); only its syntax is checked.
  -h, --help               Show this help.

Examples:
  keyrotate smtp-password --region eu-west-1 < secret-access-key.txt
  printf '%s\\n' "$AWS_SECRET_ACCESS_KEY" | keyrotate smtp-password --region us-east-1
`;

/** The one line of stdin, without its line ending. Errors never quote the input. */
async function readSecret(io: CliIo): Promise<string> {
  const text = (await readAll(io.stdin)).replace(/\r?\n$/, '');
  if (text.length === 0) throw new UsageError('standard input is empty: pipe the secret access key in');
  if (/[\r\n]/.test(text)) throw new UsageError('standard input must hold exactly one line: the secret access key');
  if (text.trim() !== text) throw new UsageError('the secret access key on standard input has leading or trailing whitespace');
  return text;
}

export const smtpPasswordCommand: CliCommand = {
  name: 'smtp-password',
  summary: 'Print the SES SMTP password of a secret access key read from stdin',
  help,
  async run(args, io) {
    let values: { region?: string | undefined; 'allow-unlisted-region'?: boolean | undefined };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args,
        options: { region: { type: 'string' }, 'allow-unlisted-region': { type: 'boolean' } },
        strict: true,
        // Positionals are refused below with a message of our own: parseArgs' message would
        // echo the argument, and a misplaced argument here is most likely the secret itself.
        allowPositionals: true,
      }));
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    if (positionals.length > 0) {
      throw new UsageError('unexpected argument (not shown); the secret access key is read from standard input, never from arguments');
    }
    if (values.region === undefined) throw new UsageError('--region is required');
    const [region] = checkSesSmtpRegions([values.region], '--region', values['allow-unlisted-region'] === true);
    const secret = await readSecret(io);
    io.stdout.write(`${deriveSmtpPasswordV4(secret, region as string)}\n`);
    return 0;
  },
};

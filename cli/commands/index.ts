import type { CliCommand } from '../io';
import { pgpEncryptCommand } from './pgp-encrypt';
import { pgpFingerprintCommand } from './pgp-fingerprint';
import { smtpPasswordCommand } from './smtp-password';

/** Every `keyrotate` sub-command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [smtpPasswordCommand, pgpEncryptCommand, pgpFingerprintCommand];

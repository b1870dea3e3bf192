import type { CliCommand } from '../io';
import { demoCommand } from './demo';
import { localAwsCommand } from './local-aws';
import { pgpEncryptCommand } from './pgp-encrypt';
import { pgpFingerprintCommand } from './pgp-fingerprint';
import { rotateCommand } from './rotate';
import { smtpPasswordCommand } from './smtp-password';

/** Every `keyrotate` sub-command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [rotateCommand, demoCommand, smtpPasswordCommand, pgpEncryptCommand, pgpFingerprintCommand, localAwsCommand];

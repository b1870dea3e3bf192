import type { CliCommand } from '../io';

/** Every `keyrotate` sub-command, in the order `--help` lists them. */
export const commands: readonly CliCommand[] = [];

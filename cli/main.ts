import { type CliCommand, type CliIo, UsageError, processIo } from './io';
import { KeyRotateError } from '../lambdas/core/errors';
import { commands } from './commands';

function topLevelHelp(list: readonly CliCommand[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  const lines = list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'keyrotate — safe rotation of AWS IAM user access keys',
    '',
    'Usage: keyrotate <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `keyrotate <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

/** Runs the CLI with the given arguments; resolves to the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topLevelHelp(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`keyrotate: unknown command '${name}'\n\n${topLevelHelp(commands)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`keyrotate ${command.name}: ${error.message}\nRun \`keyrotate ${command.name} --help\` for usage.\n`);
      return 2;
    }
    if (error instanceof KeyRotateError) {
      io.stderr.write(`keyrotate ${command.name}: ${error.name}: ${error.message}\n`);
      return 1;
    }
    // Unknown errors may come from libraries; print only the message, never an inspected
    // object (it could hold request parameters).
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    io.stderr.write(`keyrotate ${command.name}: ${message}\n`);
    return 1;
  }
}

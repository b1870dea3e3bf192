import type { Readable, Writable } from 'node:stream';

/** The streams and environment a command talks to; tests pass in-memory ones. */
export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

/** One `keyrotate` sub-command. `run` returns the process exit code. */
export interface CliCommand {
  readonly name: string;
  /** One line, shown by `keyrotate --help`. */
  readonly summary: string;
  /** The full help text, shown by `keyrotate NAME --help`. */
  readonly help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** A usage error: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Reads all of stdin as UTF-8. */
export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

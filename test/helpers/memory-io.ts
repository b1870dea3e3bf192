import { PassThrough } from 'node:stream';
import type { CliIo } from '../../cli/io';

/** In-memory CLI streams: feed stdin, read what the command printed. */
export function memoryIo(stdinText = '', env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  const stdin = new PassThrough();
  stdin.end(stdinText);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => outChunks.push(c));
  stderr.on('data', (c: Buffer) => errChunks.push(c));
  return {
    stdin,
    stdout,
    stderr,
    env,
    out: () => Buffer.concat(outChunks).toString('utf8'),
    err: () => Buffer.concat(errChunks).toString('utf8'),
  };
}

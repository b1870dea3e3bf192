import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * The optional state file. It holds every secret the endpoint knows (IAM secret access keys,
 * secret values, KMS key material), so it is created with mode 0600 in a directory created
 * 0700, and each save is atomic: write a temporary file, fsync, rename over the old one.
 */
export class StateFile {
  constructor(readonly file: string) {}

  /** The saved state, or `undefined` when there is no file yet. */
  load(): unknown {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`local AWS state file ${this.file} is not valid JSON; move it away to start empty`);
    }
  }

  save(state: unknown): void {
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, this.file);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  }
}

/**
 * Captures everything a handler writes: process.stdout / process.stderr (Powertools Logger
 * writes there) and the console methods, for assertions on log lines and for the secret
 * sentinel test.
 */
type Write = typeof process.stdout.write;

export interface Captured {
  /** Everything written, in order. */
  text(): string;
  /** The JSON log lines (Powertools' structured output). */
  logLines(): Record<string, unknown>[];
  restore(): void;
}

export function captureOutput(): Captured {
  const chunks: string[] = [];
  const originalStdout = process.stdout.write;
  const originalStderr = process.stderr.write;
  const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const originalConsole = consoleMethods.map((m) => console[m]);
  const record = (chunk: unknown): void => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
  };
  const fakeWrite = ((chunk: unknown, ...rest: unknown[]) => {
    record(chunk);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as Write;
  process.stdout.write = fakeWrite;
  process.stderr.write = fakeWrite;
  for (const m of consoleMethods) {
    console[m] = (...args: unknown[]) => record(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') + '\n');
  }
  return {
    text: () => chunks.join(''),
    logLines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim().startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      process.stdout.write = originalStdout;
      process.stderr.write = originalStderr;
      consoleMethods.forEach((m, i) => {
        console[m] = originalConsole[i] as (typeof console)[typeof m];
      });
    },
  };
}

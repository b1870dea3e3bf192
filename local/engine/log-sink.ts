/**
 * Where the local runtime puts what Lambda functions print (their structured JSON logs) and the
 * platform lines Lambda itself adds (START / END / REPORT). Tests read it to prove no secret
 * leaks into logs; the CLI can forward it to stderr with --verbose.
 */
export interface LambdaLogEntry {
  readonly time: Date;
  readonly functionName: string;
  /** The invocation the line was written during; null for output outside any invocation. */
  readonly requestId: string | null;
  /** `platform` for the lines the runtime writes itself, like Lambda's START/END/REPORT. */
  readonly stream: 'stdout' | 'stderr' | 'platform';
  readonly text: string;
}

export interface LambdaLogSink {
  write(entry: LambdaLogEntry): void;
}

/** Keeps every entry in memory (bounded), for tests and for reading logs after a run. */
export class MemoryLogSink implements LambdaLogSink {
  readonly entries: LambdaLogEntry[] = [];

  constructor(
    private readonly maxEntries = 100_000,
    private readonly forward?: LambdaLogSink,
  ) {}

  write(entry: LambdaLogEntry): void {
    if (this.entries.length >= this.maxEntries) this.entries.shift();
    this.entries.push(entry);
    this.forward?.write(entry);
  }

  /** Every captured line (optionally of one function), in order. */
  text(functionName?: string): string {
    return this.entries
      .filter((e) => functionName === undefined || e.functionName === functionName)
      .map((e) => e.text)
      .join('\n');
  }

  /** The lines a function wrote that parse as JSON objects (its structured logs). */
  structured(functionName?: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const entry of this.entries) {
      if (entry.stream === 'platform' || (functionName !== undefined && entry.functionName !== functionName)) continue;
      try {
        const parsed: unknown = JSON.parse(entry.text);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) out.push(parsed as Record<string, unknown>);
      } catch {
        // not a structured line
      }
    }
    return out;
  }
}

/** Writes entries to a stream as `[function] line`, for `--verbose`. */
export function streamLogSink(stream: NodeJS.WritableStream): LambdaLogSink {
  return {
    write: (entry) => {
      stream.write(`[${entry.functionName}] ${entry.text}\n`);
    },
  };
}

/** Runs a bundle's handler once in a fresh Node.js process (bench/lib/invoke-handler.mjs). */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const INVOKE_HARNESS = path.join(__dirname, 'invoke-handler.mjs');

export interface InvokeReport {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** Milliseconds from process start until the bundle was loaded. */
  readonly loadedMs?: number;
  /** Milliseconds from process start until the handler's promise settled. */
  readonly doneMs?: number;
  /** Peak resident set size of the process, KiB. */
  readonly maxRssKb: number;
}

export interface InvokeOptions {
  readonly node: string;
  readonly env: NodeJS.ProcessEnv;
  readonly functionName?: string;
  readonly memoryMb?: number;
  readonly timeoutMs?: number;
}

/**
 * Asynchronous on purpose: the handler usually calls an endpoint served by this very process
 * (the experiments' stub), which a blocking spawnSync would starve.
 */
export function invokeBundle(bundle: string, event: unknown, options: InvokeOptions): Promise<InvokeReport> {
  return new Promise((resolve, reject) => {
    const args = [INVOKE_HARNESS, bundle, JSON.stringify(event), options.functionName ?? 'keyrotate-bench', String(options.memoryMb ?? 1024)];
    const child = spawn(options.node, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let report = '';
    let stderr = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      report += chunk.toString('utf8');
    });
    // Handler logs are drained (a full pipe would block the child) but not kept, except the
    // tail of stderr for a crash message.
    child.stdout?.resume();
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = report.trim().split('\n').pop();
      if (!line) {
        reject(new Error(`${path.basename(bundle)}: no report (exit ${code ?? signal}); stderr: ${stderr}`));
        return;
      }
      resolve(JSON.parse(line) as InvokeReport);
    });
  });
}

/**
 * What `keyrotate rotate` and `keyrotate demo` print: live progress of an execution on stderr
 * (one line when a state starts, one when it ends, with its duration) and the result as
 * Terraform-style attributes on stdout.
 *
 * Nothing here ever prints a state's input or output: progress shows names, durations and
 * error names only, and the attributes come from the execution output, which never holds a
 * plaintext secret (a guard below still refuses the field names that would).
 */
import { causeMessage, type ExecutionEvent, type ExecutionResult } from '../local/engine/events';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Writes one line per state start and end (with duration), retries and caught errors. */
export class ProgressPrinter {
  private readonly width: number;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    options: { readonly stateNames?: readonly string[]; readonly indent?: string } = {},
  ) {
    this.width = Math.max(12, ...(options.stateNames ?? []).map((n) => n.length));
    this.indent = options.indent ?? '  ';
  }

  private readonly indent: string;

  /** Feed every execution event, in order. */
  readonly onEvent = (event: ExecutionEvent): void => {
    const line = this.describe(event);
    if (line !== null) this.stream.write(`${this.indent}${line}\n`);
  };

  private describe(event: ExecutionEvent): string | null {
    switch (event.type) {
      case 'StateEntered':
        return `▸ ${event.stateName.padEnd(this.width)}  ${event.stateType.toLowerCase()}`;
      case 'StateExited':
        return `✓ ${event.stateName.padEnd(this.width)}  ${formatDuration(event.durationMs)}`;
      case 'StateFailed':
        return `✗ ${event.stateName.padEnd(this.width)}  ${event.error}`;
      case 'StateRetried':
        return `↻ ${event.stateName.padEnd(this.width)}  retry ${event.attempt}`;
      case 'StateCaught':
        return `↳ ${event.stateName.padEnd(this.width)}  caught ${event.error}`;
      default:
        return null;
    }
  }
}

/** The one-line summary after an execution. */
export function summaryLine(result: ExecutionResult): string {
  const { stats } = result;
  const counts = `${stats.statesEntered} states, ${stats.stateTransitions} state transitions, ${stats.lambdaInvocations} Lambda invocations`;
  switch (result.status) {
    case 'SUCCEEDED':
      if ((result.output as { dryRun?: unknown } | null)?.dryRun === true) {
        return `Dry run succeeded in ${formatDuration(stats.durationMs)} (${counts}): nothing was changed`;
      }
      return `Rotation succeeded in ${formatDuration(stats.durationMs)} (${counts})`;
    case 'FAILED':
      return `Rotation failed after ${formatDuration(stats.durationMs)} (${counts}): ${result.error}: ${causeMessage(result.cause)}`;
    default:
      return `Rotation ${result.status === 'ABORTED' ? 'aborted' : 'timed out'} after ${formatDuration(stats.durationMs)} (${counts})`;
  }
}

/** Field order of the rotation output (Terraform's attributes first), then anything else. */
const ATTRIBUTE_ORDER = [
  'id',
  'userName',
  'status',
  'createDate',
  'secretArn',
  'secretVersionId',
  'encryptedSecret',
  'encryptedSesSmtpPasswordV4',
  'encryptedSesSmtpPasswords',
  'keyFingerprint',
  'sesSmtpRegions',
  'previousKey',
  'rotationId',
];

/** Terraform's names: `userName` is `user`; the rest snake_case. */
function attributeName(key: string): string {
  if (key === 'userName') return 'user';
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * Field names that would hold a plaintext secret. The execution output never has them; if a
 * future output did, the value is shown as Terraform shows a sensitive one.
 */
const PLAINTEXT_FIELD = /^(secretAccessKey|secret|sesSmtpPasswordV4|sesSmtpPasswords?|smtpPassword|password)$/i;

function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(renderValue).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  // Map keys that are not identifiers (region names) are quoted, as Terraform prints them.
  const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? attributeName(k) : JSON.stringify(k));
  return `{ ${entries.map(([k, v]) => `${key(k)} = ${PLAINTEXT_FIELD.test(k) ? '(sensitive value)' : renderValue(v)}`).join(', ')} }`;
}

/** `name = value` lines, aligned, in Terraform's order (as `terraform output` / `state show`). */
export function renderAttributes(output: Record<string, unknown>): string {
  const keys = [...ATTRIBUTE_ORDER.filter((k) => k in output), ...Object.keys(output).filter((k) => !ATTRIBUTE_ORDER.includes(k))];
  const names = keys.map(attributeName);
  const width = Math.max(0, ...names.map((n) => n.length));
  return keys
    .map((key, i) => `${(names[i] ?? key).padEnd(width)} = ${PLAINTEXT_FIELD.test(key) ? '(sensitive value)' : renderValue(output[key])}`)
    .join('\n')
    .concat('\n');
}

/**
 * Execution events, in one shape for both the local engine and an execution followed on AWS
 * (GetExecutionHistory), so the CLI renders progress the same way for both.
 */

export type ExecutionEvent =
  | { readonly type: 'ExecutionStarted'; readonly timestamp: number }
  | { readonly type: 'StateEntered'; readonly timestamp: number; readonly stateName: string; readonly stateType: string }
  | {
      readonly type: 'StateExited';
      readonly timestamp: number;
      readonly stateName: string;
      readonly stateType: string;
      /** Since the matching StateEntered (retries included). */
      readonly durationMs: number;
      /** The state's output (references only: the state machine never carries a secret). */
      readonly output?: unknown;
    }
  | { readonly type: 'StateFailed'; readonly timestamp: number; readonly stateName: string; readonly error: string; readonly cause: string }
  | { readonly type: 'StateRetried'; readonly timestamp: number; readonly stateName: string; readonly attempt: number }
  | { readonly type: 'StateCaught'; readonly timestamp: number; readonly stateName: string; readonly error: string }
  | { readonly type: 'ExecutionSucceeded'; readonly timestamp: number; readonly output: unknown }
  | { readonly type: 'ExecutionFailed'; readonly timestamp: number; readonly error: string; readonly cause: string }
  | { readonly type: 'ExecutionAborted'; readonly timestamp: number }
  | { readonly type: 'ExecutionTimedOut'; readonly timestamp: number };

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface ExecutionStats {
  /** States entered (Choice, Wait, Succeed… included). */
  readonly statesEntered: number;
  /** Step Functions' billing unit: every state entered, plus every retry. */
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  readonly durationMs: number;
}

export type ExecutionResult =
  | { readonly status: 'SUCCEEDED'; readonly output: unknown; readonly stats: ExecutionStats }
  | { readonly status: 'FAILED'; readonly error: string; readonly cause: string; readonly stats: ExecutionStats }
  | { readonly status: 'ABORTED' | 'TIMED_OUT'; readonly stats: ExecutionStats };

/**
 * The message inside a Task failure's cause. A Lambda Task's cause is the JSON the Lambda
 * service returns ({"errorType","errorMessage",…}); Fail states and engine errors give text.
 */
export function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed !== null && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text cause
  }
  return cause;
}

/** Counts states and transitions from a stream of events. */
export class ExecutionCounter {
  statesEntered = 0;
  retries = 0;

  add(event: ExecutionEvent): void {
    if (event.type === 'StateEntered') this.statesEntered += 1;
    else if (event.type === 'StateRetried') this.retries += 1;
  }

  get stateTransitions(): number {
    return this.statesEntered + this.retries;
  }
}

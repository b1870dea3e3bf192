import type { ServiceName } from '../protocol/context';

/** Which calls a fault hits: the `nth` matching call after it is added, and `times` calls from there. */
export interface FaultTarget {
  readonly service: ServiceName;
  readonly operation: string;
  /** 1 = the next matching call. @default 1 */
  readonly nth?: number;
  /** How many consecutive matching calls, from the nth on. @default 1 */
  readonly times?: number;
}

/** An error answered instead of running the operation (no side effect happens). */
export interface FailSpec extends FaultTarget {
  /** AWS error code. @default the service's internal error (ServiceFailure, InternalServiceError, KMSInternalException, InternalServerError) */
  readonly code?: string;
  /** @default 500 when `code` is left out, else 400 */
  readonly status?: number;
  readonly message?: string;
}

export interface FaultHandle {
  /** How many calls this fault has hit so far. */
  readonly fired: number;
  remove(): void;
}

export type FaultAction =
  | { readonly mode: 'fail'; readonly code?: string; readonly status?: number; readonly message?: string }
  | { readonly mode: 'drop' };

interface ActiveFault {
  readonly target: FaultTarget;
  readonly action: FaultAction;
  seen: number;
  fired: number;
}

/**
 * Fault injection, counted per operation from the moment a fault is added. Only calls that
 * reach the operation count (authenticated and not throttled).
 */
export class Faults {
  private readonly active = new Set<ActiveFault>();

  /** Answers the targeted call(s) with an error, before the operation runs. */
  fail(spec: FailSpec): FaultHandle {
    return this.add(spec, { mode: 'fail', code: spec.code, status: spec.status, message: spec.message });
  }

  /**
   * Runs the targeted call(s) (the side effect happens, state is saved) and then destroys the
   * connection without an answer: the SDK sees a network error, as after a lost response.
   */
  drop(target: FaultTarget): FaultHandle {
    return this.add(target, { mode: 'drop' });
  }

  clear(): void {
    this.active.clear();
  }

  /** Counts the call against every matching fault; returns the action of the first that fires. */
  next(service: ServiceName, operation: string): FaultAction | undefined {
    let action: FaultAction | undefined;
    for (const fault of this.active) {
      if (fault.target.service !== service || fault.target.operation !== operation) continue;
      fault.seen += 1;
      const nth = fault.target.nth ?? 1;
      const times = fault.target.times ?? 1;
      if (fault.seen >= nth && fault.seen < nth + times) {
        fault.fired += 1;
        action ??= fault.action;
      }
    }
    return action;
  }

  private add(target: FaultTarget, action: FaultAction): FaultHandle {
    if ((target.nth ?? 1) < 1 || (target.times ?? 1) < 1) throw new RangeError('fault nth and times must be >= 1');
    const fault: ActiveFault = { target, action, seen: 0, fired: 0 };
    this.active.add(fault);
    const active = this.active;
    return {
      get fired() {
        return fault.fired;
      },
      remove() {
        active.delete(fault);
      },
    };
  }
}

import type { ServiceName } from '../protocol/context';

/** One request the endpoint answered (or dropped). Identifiers only: no parameters, no values. */
export interface CallRecord {
  /** 1, 2, 3, … in the order calls finished. */
  readonly seq: number;
  readonly service: ServiceName;
  readonly operation: string;
  /** When the call arrived, on the endpoint's clock. */
  readonly time: Date;
  /** `dropped`: a drop fault closed the connection after the operation ran. */
  readonly outcome: 'ok' | 'error' | 'dropped';
  /** HTTP status answered (0 when dropped). */
  readonly status: number;
  readonly errorCode?: string;
  /** Set when the endpoint's throttle or a fault, not the operation, decided the outcome. */
  readonly injected?: 'throttle' | 'fault';
  /** The access key id the request was signed with. */
  readonly accessKeyId?: string;
  /** `admin`, or the ARN of the IAM user whose key signed the request. */
  readonly principal?: string;
}

export type CallListener = (call: CallRecord) => void;

const MAX_RECORDS = 10_000;

/** The calls the endpoint served, newest last (the last 10 000), and listeners called per call. */
export class CallLog {
  private records: CallRecord[] = [];
  private readonly listeners = new Set<CallListener>();
  private seq = 0;

  all(): readonly CallRecord[] {
    return [...this.records];
  }

  /** The calls of one service, or of one operation. */
  of(service: ServiceName, operation?: string): CallRecord[] {
    return this.records.filter((r) => r.service === service && (operation === undefined || r.operation === operation));
  }

  clear(): void {
    this.records = [];
  }

  /** Calls `listener` after every call; returns the function that unsubscribes it. */
  onCall(listener: CallListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** @internal used by the server. */
  add(record: Omit<CallRecord, 'seq'>): CallRecord {
    const full: CallRecord = { seq: ++this.seq, ...record };
    this.records.push(full);
    if (this.records.length > MAX_RECORDS) this.records.splice(0, this.records.length - MAX_RECORDS);
    for (const listener of this.listeners) {
      try {
        listener(full);
      } catch {
        // A listener's bug must not break the endpoint's answer.
      }
    }
    return full;
  }
}

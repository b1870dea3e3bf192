/**
 * Follows an execution on AWS Step Functions: GetExecutionHistory (all pages) until the
 * execution ends, each new event translated to the engine's ExecutionEvent so the CLI shows the
 * same progress as for a local run, then DescribeExecution for the authoritative result.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { type ExecutionEvent, type ExecutionResult, ExecutionCounter } from '../local/engine/events';

export interface FollowOptions {
  readonly onEvent?: (event: ExecutionEvent) => void;
  /** Pause between history polls (default 1 s). */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const TERMINAL = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/** Translates AWS history events, keeping what it needs across pages (state of the walk). */
export class HistoryTranslator {
  private readonly entered = new Map<string, number>();
  /** The state being run, and whether its last Task attempt failed (a retry or a catch follows). */
  private current: { name: string; failed: string | null } | null = null;
  readonly counter = new ExecutionCounter();
  lambdaInvocations = 0;

  translate(event: HistoryEvent): ExecutionEvent[] {
    const timestamp = event.timestamp?.getTime() ?? Date.now();
    const type = event.type ?? '';
    const out: ExecutionEvent[] = [];
    if (type === 'ExecutionStarted') out.push({ type: 'ExecutionStarted', timestamp });
    else if (type.endsWith('StateEntered')) {
      const name = event.stateEnteredEventDetails?.name ?? '';
      this.entered.set(name, timestamp);
      this.current = { name, failed: null };
      out.push({ type: 'StateEntered', timestamp, stateName: name, stateType: type.slice(0, -'StateEntered'.length) });
    } else if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails?.name ?? '';
      if (this.current?.name === name && this.current.failed) out.push({ type: 'StateCaught', timestamp, stateName: name, error: this.current.failed });
      out.push({
        type: 'StateExited',
        timestamp,
        stateName: name,
        stateType: type.slice(0, -'StateExited'.length),
        durationMs: timestamp - (this.entered.get(name) ?? timestamp),
        ...(event.stateExitedEventDetails?.output !== undefined ? { output: parseJson(event.stateExitedEventDetails.output) } : {}),
      });
      this.current = null;
    } else if (type === 'LambdaFunctionScheduled' || type === 'TaskScheduled') {
      this.lambdaInvocations += 1;
      if (this.current?.failed) {
        out.push({ type: 'StateRetried', timestamp, stateName: this.current.name, attempt: ++this.retries });
        this.current.failed = null;
      }
    } else if (['LambdaFunctionFailed', 'LambdaFunctionTimedOut', 'LambdaFunctionStartFailed', 'LambdaFunctionScheduleFailed', 'TaskFailed', 'TaskTimedOut'].includes(type)) {
      const details =
        event.lambdaFunctionFailedEventDetails ??
        event.lambdaFunctionTimedOutEventDetails ??
        event.lambdaFunctionStartFailedEventDetails ??
        event.lambdaFunctionScheduleFailedEventDetails ??
        event.taskFailedEventDetails ??
        event.taskTimedOutEventDetails;
      const error = details?.error ?? (type.endsWith('TimedOut') ? 'States.Timeout' : 'States.TaskFailed');
      const name = this.current?.name ?? '';
      if (this.current) this.current.failed = error;
      out.push({ type: 'StateFailed', timestamp, stateName: name, error, cause: details?.cause ?? '' });
    } else if (type === 'ExecutionSucceeded') {
      out.push({ type: 'ExecutionSucceeded', timestamp, output: parseJson(event.executionSucceededEventDetails?.output ?? 'null') });
    } else if (type === 'ExecutionFailed') {
      out.push({ type: 'ExecutionFailed', timestamp, error: event.executionFailedEventDetails?.error ?? 'States.Runtime', cause: event.executionFailedEventDetails?.cause ?? '' });
    } else if (type === 'ExecutionAborted') out.push({ type: 'ExecutionAborted', timestamp });
    else if (type === 'ExecutionTimedOut') out.push({ type: 'ExecutionTimedOut', timestamp });
    for (const e of out) this.counter.add(e);
    return out;
  }

  private retries = 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Follows the execution until it ends; resolves with its result (never rejects for a failed execution). */
export async function followExecution(client: SFNClient, executionArn: string, options: FollowOptions = {}): Promise<ExecutionResult> {
  const pollMs = options.pollMs ?? 1000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const translator = new HistoryTranslator();
  let lastId = 0;
  let ended = false;
  while (!ended) {
    // Without a nextToken the history starts from the first event again: skip what was seen.
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: true, ...(nextToken ? { nextToken } : {}) }),
      );
      for (const event of page.events ?? []) {
        const id = event.id ?? 0;
        if (id <= lastId) continue;
        lastId = id;
        for (const translated of translator.translate(event)) options.onEvent?.(translated);
        if (TERMINAL.has(event.type ?? '')) ended = true;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    if (!ended) await sleep(pollMs);
  }

  const described = await client.send(new DescribeExecutionCommand({ executionArn }));
  const start = described.startDate?.getTime() ?? Date.now();
  const stats = {
    statesEntered: translator.counter.statesEntered,
    stateTransitions: translator.counter.stateTransitions,
    lambdaInvocations: translator.lambdaInvocations,
    durationMs: (described.stopDate?.getTime() ?? Date.now()) - start,
  };
  switch (described.status) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', output: parseJson(described.output ?? 'null'), stats };
    case 'FAILED':
      return { status: 'FAILED', error: described.error ?? 'States.Runtime', cause: described.cause ?? '', stats };
    case 'TIMED_OUT':
      return { status: 'TIMED_OUT', stats };
    default:
      return { status: 'ABORTED', stats };
  }
}

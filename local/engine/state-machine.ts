/**
 * Runs a state machine definition on aws-local-stepfunctions with every Task wired to a local
 * Lambda function. Only Lambda Tasks are supported (a function ARN as Resource, or the
 * `arn:aws:states:::lambda:invoke` integration): any other Task, or a function the engine does
 * not have, is refused before the run starts, so nothing ever calls real AWS Lambda.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type ExecutionEvent, type ExecutionResult, type ExecutionStats, ExecutionCounter } from './events';
import type { InvocationReport, LocalFunction } from './lambda-runtime';

/** A Task the engine cannot run locally. Named after the state and its resource. */
export class MissingTaskHandlerError extends Error {
  constructor(
    readonly stateName: string,
    readonly resource: string,
  ) {
    super(`Task state '${stateName}' has no local handler (Resource ${resource}); the local engine never calls AWS`);
    this.name = 'MissingTaskHandlerError';
  }
}

export interface WaitOverrides {
  /** Every Wait state lasts this many milliseconds instead of its Seconds/SecondsPath/Timestamp. */
  readonly allMs?: number;
  /** Per Wait state (wins over allMs). */
  readonly byState?: Readonly<Record<string, number>>;
}

export interface LocalStateMachineConfig {
  readonly definition: Record<string, unknown>;
  readonly stateMachineArn: string;
  readonly roleArn?: string;
  /** The local functions by ARN (the Task `Resource`, or FunctionName of lambda:invoke). */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly waits?: WaitOverrides;
  /** Pause before each retry (ms) instead of IntervalSeconds × BackoffRate^n (tests). */
  readonly retryIntervalMs?: number;
}

export interface StartOptions {
  /** Execution name (default: a UUID, as StartExecution does). */
  readonly name?: string;
  /** Called synchronously for every event, in order. */
  readonly onEvent?: (event: ExecutionEvent) => void;
}

export interface TaskInvocation {
  readonly stateName: string;
  readonly report: InvocationReport;
}

export interface LocalExecution {
  readonly name: string;
  readonly executionArn: string;
  readonly startDate: Date;
  /** Resolves when the execution ends (never rejects for a failed execution). */
  readonly result: Promise<ExecutionResult>;
  /** Every event so far. */
  readonly history: readonly ExecutionEvent[];
  /** Every Lambda invocation made by this execution's Tasks. */
  readonly invocations: readonly TaskInvocation[];
  abort(): void;
}

interface TaskBinding {
  readonly fn: LocalFunction;
  /** lambda:invoke wraps the result in { Payload, StatusCode, … }. */
  readonly integration: 'direct' | 'invoke';
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+$/;
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
/**
 * AWS's Task timeout when none is set is 99999999 s; aws-local-stepfunctions uses 60 s. This is
 * the longest a Node.js timer allows (about 24 days), which is unbounded for a local run.
 */
const UNBOUNDED_TASK_TIMEOUT_SECONDS = 2_000_000;

/** Every state of a definition, nested Parallel branches and Map processors included. */
function* allStates(definition: Record<string, unknown>): Generator<[string, Record<string, unknown>]> {
  const states = (definition.States ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    for (const branch of (state.Branches as Record<string, unknown>[] | undefined) ?? []) yield* allStates(branch);
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    if (processor) yield* allStates(processor);
  }
}

/**
 * `ResultPath: "$"` means "the result replaces the input", the same as no ResultPath. Version
 * 3.0.0 of aws-local-stepfunctions instead stores the result under a key named "$", so the
 * explicit form is rewritten to the default one (same meaning, in states and in catchers).
 */
function normalizeResultPaths(state: Record<string, unknown>): void {
  if (state.ResultPath === '$') delete state.ResultPath;
  for (const catcher of (state.Catch as Record<string, unknown>[] | undefined) ?? []) {
    if (catcher.ResultPath === '$') delete catcher.ResultPath;
  }
}

/** The function a Task calls, with the ARN's qualifier (version/alias) dropped. */
function functionArnOf(state: Record<string, unknown>): { arn: string; integration: 'direct' | 'invoke' } | null {
  const resource = String(state.Resource);
  const unqualified = (arn: string) => arn.split(':').slice(0, 7).join(':');
  if (resource.startsWith('arn:') && resource.includes(':lambda:') && LAMBDA_ARN.test(unqualified(resource))) {
    return { arn: unqualified(resource), integration: 'direct' };
  }
  if (LAMBDA_INVOKE.test(resource)) {
    const fnName = (state.Parameters as Record<string, unknown> | undefined)?.FunctionName;
    if (typeof fnName === 'string' && LAMBDA_ARN.test(unqualified(fnName))) return { arn: unqualified(fnName), integration: 'invoke' };
  }
  return null;
}

/** A Lambda failure as Step Functions sees it: Error = errorType, Cause = the service's JSON. */
class TaskFailure extends Error {
  constructor(errorType: string, errorMessage: string) {
    super(JSON.stringify({ errorType, errorMessage }));
    this.name = errorType;
  }
}

export class LocalStateMachine {
  private readonly definition: Record<string, unknown>;
  private readonly bindings = new Map<string, TaskBinding>();
  private readonly machine: StateMachine;

  constructor(private readonly config: LocalStateMachineConfig) {
    this.definition = structuredClone(config.definition);
    for (const [, state] of allStates(this.definition)) normalizeResultPaths(state);
    for (const [name, state] of allStates(this.definition)) {
      if (state.Type !== 'Task') continue;
      const target = functionArnOf(state);
      const fn = target && config.functions.get(target.arn);
      if (!target || !fn) throw new MissingTaskHandlerError(name, String(state.Resource));
      if (this.bindings.has(name)) throw new MissingTaskHandlerError(name, `${String(state.Resource)} (duplicate state name)`);
      this.bindings.set(name, { fn, integration: target.integration });
      // On AWS a Lambda Task without TimeoutSeconds is bounded by the function's own timeout
      // only; keep that instead of the library's 60 s default.
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        state.TimeoutSeconds = UNBOUNDED_TASK_TIMEOUT_SECONDS;
      }
    }
    this.machine = new StateMachine(this.definition as unknown as StateMachineDefinition);
  }

  /** Task state name → local function name. */
  get taskFunctions(): Record<string, string> {
    return Object.fromEntries([...this.bindings].map(([state, b]) => [state, b.fn.config.name]));
  }

  get waitStates(): string[] {
    return [...allStates(this.definition)].filter(([, s]) => s.Type === 'Wait').map(([n]) => n);
  }

  get retryableStates(): string[] {
    return [...allStates(this.definition)].filter(([, s]) => Array.isArray(s.Retry)).map(([n]) => n);
  }

  start(input: unknown, options: StartOptions = {}): LocalExecution {
    const name = options.name ?? randomUUID();
    const smArn = this.config.stateMachineArn;
    const smName = smArn.split(':').pop() ?? 'StateMachine';
    const executionArn = `${smArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const startDate = new Date();
    const history: ExecutionEvent[] = [];
    const invocations: TaskInvocation[] = [];
    const counter = new ExecutionCounter();

    const taskHandlers = Object.fromEntries(
      [...this.bindings].map(([stateName, binding]) => [
        stateName,
        async (taskInput: JsonValue): Promise<JsonValue> => {
          const event = binding.integration === 'invoke' ? ((taskInput as Record<string, JsonValue>).Payload ?? taskInput) : taskInput;
          const result = await binding.fn.invoke(event);
          invocations.push({ stateName, report: result.report });
          if (!result.ok) throw new TaskFailure(result.error.errorType, result.error.errorMessage);
          const payload = result.payload as JsonValue;
          return binding.integration === 'invoke' ? { Payload: payload, StatusCode: 200, ExecutedVersion: '$LATEST' } : payload;
        },
      ]),
    );
    const waitTimeOverrides: Record<string, number> = {};
    for (const wait of this.waitStates) {
      const ms = this.config.waits?.byState?.[wait] ?? this.config.waits?.allMs;
      if (ms !== undefined) waitTimeOverrides[wait] = ms;
    }
    const retryIntervalOverrides: Record<string, number> = {};
    if (this.config.retryIntervalMs !== undefined) {
      for (const state of this.retryableStates) retryIntervalOverrides[state] = this.config.retryIntervalMs;
    }

    const run = this.machine.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers: taskHandlers, waitTimeOverrides, retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: this.config.roleArn ?? '', RedriveCount: 0 },
        StateMachine: { Id: smArn, Name: smName },
      },
    });

    const emit = (event: ExecutionEvent) => {
      history.push(event);
      counter.add(event);
      options.onEvent?.(event);
    };
    const drained = (async () => {
      const seen: SeenStates = { entered: new Map(), failed: new Map() };
      for await (const raw of run.eventLogs) {
        const event = translate(raw, seen);
        if (event) emit(event);
      }
    })();

    const stats = (): ExecutionStats => ({
      statesEntered: counter.statesEntered,
      stateTransitions: counter.stateTransitions,
      lambdaInvocations: invocations.length,
      durationMs: Date.now() - startDate.getTime(),
    });

    const result = run.result.then(
      async (output): Promise<ExecutionResult> => {
        await drained;
        return { status: 'SUCCEEDED', output, stats: stats() };
      },
      async (error: unknown): Promise<ExecutionResult> => {
        await drained.catch(() => undefined);
        if (error instanceof ExecutionAbortedError) return { status: 'ABORTED', stats: stats() };
        if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', stats: stats() };
        const inner = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
        const name = inner instanceof Error ? inner.name : 'States.Runtime';
        const cause = inner instanceof Error ? inner.message : String(inner);
        return { status: 'FAILED', error: name, cause, stats: stats() };
      },
    );

    return { name, executionArn, startDate, result, history, invocations, abort: () => run.abort() };
  }
}

interface RawEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; output?: unknown };
  Error?: string;
  Cause?: unknown;
  output?: unknown;
  retry?: { attempt: number };
}

interface SeenStates {
  /** When each state was last entered (durations). */
  readonly entered: Map<string, number>;
  /** The last error of each state (StateCaught events do not carry it). */
  readonly failed: Map<string, string>;
}

function translate(raw: RawEvent, seen: SeenStates): ExecutionEvent | null {
  const { entered, failed } = seen;
  const { timestamp } = raw;
  const stateName = raw.state?.name ?? '';
  const stateType = raw.state?.type ?? '';
  switch (raw.type) {
    case 'ExecutionStarted':
      return { type: 'ExecutionStarted', timestamp };
    case 'StateEntered':
      entered.set(stateName, timestamp);
      return { type: 'StateEntered', timestamp, stateName, stateType };
    case 'StateExited':
      return { type: 'StateExited', timestamp, stateName, stateType, durationMs: timestamp - (entered.get(stateName) ?? timestamp), output: raw.state?.output };
    case 'StateFailed':
      failed.set(stateName, raw.Error ?? 'Error');
      return { type: 'StateFailed', timestamp, stateName, error: raw.Error ?? 'Error', cause: String(raw.Cause ?? '') };
    case 'StateRetried':
      return { type: 'StateRetried', timestamp, stateName, attempt: raw.retry?.attempt ?? 0 };
    case 'StateCaught':
      return { type: 'StateCaught', timestamp, stateName, error: failed.get(stateName) ?? 'Error' };
    case 'ExecutionSucceeded':
      return { type: 'ExecutionSucceeded', timestamp, output: raw.output };
    case 'ExecutionFailed':
      return { type: 'ExecutionFailed', timestamp, error: raw.Error ?? 'Error', cause: typeof raw.Cause === 'string' ? raw.Cause : String(raw.Cause ?? '') };
    case 'ExecutionAborted':
      return { type: 'ExecutionAborted', timestamp };
    case 'ExecutionTimeout':
      return { type: 'ExecutionTimedOut', timestamp };
    default:
      return null;
  }
}

/**
 * A local Lambda runtime. Each function runs its bundle in forked Node.js processes ("containers",
 * see lambda-runner.cjs) with only its own environment, like a Lambda execution environment:
 * module-scope SDK clients stay warm across invocations, and one container handles one
 * invocation at a time (a concurrent invocation starts another container, as Lambda scales out).
 *
 * What the caller gets back mirrors the Lambda service: a JSON payload, or an error with the
 * handler's `errorType` (its `error.name`) and message, so the state machine can Retry/Catch by
 * name; plus a report per invocation (duration, init duration, memory).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { devNull } from 'node:os';
import type { LambdaLogEntry, LambdaLogSink } from './log-sink';
import { lambdaRunnerPath } from './paths';

export interface LocalFunctionConfig {
  /** The function name (context.functionName, AWS_LAMBDA_FUNCTION_NAME, log entries). */
  readonly name: string;
  /** The function ARN (context.invokedFunctionArn). */
  readonly arn: string;
  /** Directory holding the bundle (Lambda's task root), e.g. cdk.out/asset.<hash>. */
  readonly codeDirectory: string;
  /** `file.export`, as the Lambda `Handler` property. */
  readonly handler: string;
  /** The function's environment variables (already resolved to local values). */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
}

/** The Lambda service's error shape (what Step Functions receives as errorType / errorMessage). */
export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
}

export interface InvocationReport {
  readonly functionName: string;
  readonly requestId: string;
  readonly startedAt: Date;
  /** Wall time of the invocation seen by the caller (includes a cold start). */
  readonly durationMs: number;
  /** Module load time, only on a cold start (Lambda's "Init Duration"). */
  readonly initDurationMs?: number;
  readonly coldStart: boolean;
  /** Peak resident set size sampled while this invocation ran. */
  readonly peakRssBytes: number;
  /** The container's lifetime peak RSS (Lambda's "Max Memory Used"). */
  readonly maxRssBytes: number;
  readonly ok: boolean;
  readonly errorType?: string;
}

export type InvocationResult =
  | { readonly ok: true; readonly payload: unknown; readonly report: InvocationReport }
  | { readonly ok: false; readonly error: LambdaErrorPayload; readonly report: InvocationReport };

/** A function error as an exception: `name` is the errorType, so Retry/Catch match it by name. */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    readonly functionName: string,
  ) {
    super(errorMessage);
    this.name = errorType;
  }
}

export interface LocalLambdaRuntimeOptions {
  /** Receives every line the functions print, plus START/END/REPORT lines. */
  readonly logSink?: LambdaLogSink;
  /**
   * Variables every function gets on top of the Lambda-defined ones and below its own
   * (AWS_ENDPOINT_URL, AWS_REGION, credentials). The host's environment is never inherited.
   */
  readonly baseEnvironment?: Readonly<Record<string, string>>;
  /** Called after every invocation (benchmarks, progress). */
  readonly onInvocation?: (report: InvocationReport) => void;
}

const END_MARKER = '\u001ekeyrotate-invocation-end ';

interface RunnerResult {
  readonly type: 'result';
  readonly requestId: string;
  readonly ok: boolean;
  readonly payload?: string;
  readonly error?: LambdaErrorPayload;
  readonly report: { durationMs: number; initDurationMs?: number; peakRssBytes: number; maxRssBytes: number };
}

/** The container died during the invocation (timeout, crash). */
interface ContainerFailure {
  readonly failure: LambdaErrorPayload;
  readonly requestId: string;
}

interface PendingInvocation {
  readonly requestId: string;
  readonly startedAt: Date;
  result?: RunnerResult;
  stdoutDone: boolean;
  stderrDone: boolean;
  readonly settle: (result: RunnerResult | ContainerFailure) => void;
  timer?: NodeJS.Timeout;
}

/** One warm execution environment of a function: a forked runner process. */
class LambdaContainer {
  private readonly child: ChildProcess;
  private pending: PendingInvocation | null = null;
  private alive = true;
  private timedOut = false;
  private readonly exited: Promise<void>;
  invocations = 0;

  constructor(
    private readonly config: LocalFunctionConfig,
    environment: Record<string, string>,
    private readonly logSink: LambdaLogSink | undefined,
  ) {
    this.child = fork(lambdaRunnerPath(), [], {
      cwd: config.codeDirectory,
      env: environment,
      // No inherited loaders or inspector flags: the bundle runs on plain Node.js, as in Lambda.
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.pipeLines(this.child.stdout, 'stdout');
    this.pipeLines(this.child.stderr, 'stderr');
    this.child.on('message', (message: RunnerResult) => {
      const pending = this.pending;
      if (!pending || message.type !== 'result' || message.requestId !== pending.requestId) return;
      pending.result = message;
      this.maybeComplete();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.alive = false;
        const pending = this.pending;
        if (pending) {
          const failure: LambdaErrorPayload = this.timedOut
            ? { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${config.timeoutSeconds.toFixed(2)} seconds` }
            : { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${pending.requestId} Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code ?? 'unknown'}`}` };
          pending.settle({ failure, requestId: pending.requestId });
        }
        resolve();
      });
    });
  }

  get idle(): boolean {
    return this.alive && this.child.connected && this.pending === null;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  invoke(event: unknown): Promise<RunnerResult | ContainerFailure> {
    const requestId = randomUUID();
    const startedAt = new Date();
    this.invocations += 1;
    this.platformLine(requestId, `START RequestId: ${requestId} Version: $LATEST`);
    return new Promise((resolve) => {
      const pending: PendingInvocation = {
        requestId,
        startedAt,
        stdoutDone: false,
        stderrDone: false,
        settle: (outcome) => {
          if (this.pending !== pending) return;
          clearTimeout(pending.timer);
          this.pending = null;
          resolve(outcome);
        },
      };
      this.pending = pending;
      const timeoutMs = this.config.timeoutSeconds * 1000;
      pending.timer = setTimeout(() => {
        // As Lambda does, a timed-out environment is torn down, not reused.
        this.timedOut = true;
        this.child.kill('SIGKILL');
      }, timeoutMs);
      this.child.send(
        {
          type: 'invoke',
          requestId,
          event,
          context: { deadlineMs: startedAt.getTime() + timeoutMs, invokedFunctionArn: this.config.arn },
        },
        (error) => {
          // The process died before it got the event (killed while idle, before Node.js saw its
          // exit). Make sure it is gone: its exit settles this invocation as Runtime.ExitError.
          if (error) this.child.kill('SIGKILL');
        },
      );
    });
  }

  async stop(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  platformLine(requestId: string, text: string): void {
    this.logSink?.write({ time: new Date(), functionName: this.config.name, requestId, stream: 'platform', text });
  }

  private maybeComplete(): void {
    const pending = this.pending;
    if (pending?.result && pending.stdoutDone && pending.stderrDone) pending.settle(pending.result);
  }

  private pipeLines(stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        this.onLine(buffered.slice(0, newline), name);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    });
    stream.on('end', () => {
      if (buffered) this.onLine(buffered, name);
    });
  }

  private onLine(text: string, name: 'stdout' | 'stderr'): void {
    const pending = this.pending;
    if (text.startsWith(END_MARKER)) {
      if (pending && text.slice(END_MARKER.length) === pending.requestId) {
        if (name === 'stdout') pending.stdoutDone = true;
        else pending.stderrDone = true;
        this.maybeComplete();
      }
      return;
    }
    const entry: LambdaLogEntry = { time: new Date(), functionName: this.config.name, requestId: pending?.requestId ?? null, stream: name, text };
    this.logSink?.write(entry);
  }
}

/** A registered function: its warm containers, started on demand. */
export class LocalFunction {
  private readonly containers: LambdaContainer[] = [];

  constructor(
    readonly config: LocalFunctionConfig,
    private readonly environment: Record<string, string>,
    private readonly runtime: { logSink?: LambdaLogSink; record(report: InvocationReport): void },
  ) {}

  /** Invokes the function once (RequestResponse). Never throws for a function error. */
  async invoke(event: unknown): Promise<InvocationResult> {
    let container = this.containers.find((c) => c.idle);
    const coldStart = !container;
    if (!container) {
      container = new LambdaContainer(this.config, this.environment, this.runtime.logSink);
      this.containers.push(container);
    }
    const started = Date.now();
    const outcome = await container.invoke(event);
    const wall = Date.now() - started;
    if (!container.isAlive) this.containers.splice(this.containers.indexOf(container), 1);
    if ('failure' in outcome) {
      const report: InvocationReport = {
        functionName: this.config.name,
        requestId: outcome.requestId,
        startedAt: new Date(started),
        durationMs: wall,
        coldStart,
        peakRssBytes: 0,
        maxRssBytes: 0,
        ok: false,
        errorType: outcome.failure.errorType,
      };
      this.runtime.record(report);
      return { ok: false, error: outcome.failure, report };
    }
    const report: InvocationReport = {
      functionName: this.config.name,
      requestId: outcome.requestId,
      startedAt: new Date(started),
      durationMs: wall,
      ...(outcome.report.initDurationMs !== undefined ? { initDurationMs: outcome.report.initDurationMs } : {}),
      coldStart,
      peakRssBytes: outcome.report.peakRssBytes,
      maxRssBytes: outcome.report.maxRssBytes,
      ok: outcome.ok,
      ...(outcome.error ? { errorType: outcome.error.errorType } : {}),
    };
    container.platformLine(outcome.requestId, `END RequestId: ${outcome.requestId}`);
    container.platformLine(
      outcome.requestId,
      `REPORT RequestId: ${outcome.requestId}\tDuration: ${outcome.report.durationMs} ms\tMemory Size: ${this.config.memorySizeMb} MB\tMax Memory Used: ${Math.round(outcome.report.maxRssBytes / 1048576)} MB` +
        (outcome.report.initDurationMs !== undefined ? `\tInit Duration: ${outcome.report.initDurationMs} ms` : ''),
    );
    this.runtime.record(report);
    if (!outcome.ok) return { ok: false, error: outcome.error ?? { errorType: 'Error', errorMessage: 'unknown error' }, report };
    return { ok: true, payload: JSON.parse(outcome.payload ?? 'null') as unknown, report };
  }

  /** Invokes and throws a LambdaFunctionError (named after the errorType) on a function error. */
  async invokeOrThrow(event: unknown): Promise<unknown> {
    const result = await this.invoke(event);
    if (!result.ok) throw new LambdaFunctionError(result.error.errorType, result.error.errorMessage, this.config.name);
    return result.payload;
  }

  /** Number of live containers (warm environments). */
  get warmContainers(): number {
    return this.containers.filter((c) => c.isAlive).length;
  }

  async stop(): Promise<void> {
    await Promise.all(this.containers.splice(0).map((c) => c.stop()));
  }
}

export class LocalLambdaRuntime {
  private readonly functions = new Map<string, LocalFunction>();
  /** Every invocation so far, in completion order. */
  readonly reports: InvocationReport[] = [];

  constructor(private readonly options: LocalLambdaRuntimeOptions = {}) {}

  /** Registers a function; its first invocation starts a container (a cold start). */
  register(config: LocalFunctionConfig): LocalFunction {
    if (this.functions.has(config.name)) throw new Error(`local function '${config.name}' is already registered`);
    const fn = new LocalFunction(config, this.environmentOf(config), {
      ...(this.options.logSink ? { logSink: this.options.logSink } : {}),
      record: (report) => {
        this.reports.push(report);
        this.options.onInvocation?.(report);
      },
    });
    this.functions.set(config.name, fn);
    return fn;
  }

  get(name: string): LocalFunction | undefined {
    return this.functions.get(name);
  }

  get functionNames(): string[] {
    return [...this.functions.keys()];
  }

  /** Kills every container. Registered functions stay registered (and start cold again). */
  async stop(): Promise<void> {
    await Promise.all([...this.functions.values()].map((f) => f.stop()));
  }

  /**
   * The environment Lambda defines, then the runtime's base variables (endpoint, region,
   * credentials), then the function's own: the function's configuration wins, as in Lambda,
   * except for the reserved variables Lambda sets itself.
   */
  private environmentOf(config: LocalFunctionConfig): Record<string, string> {
    const base = this.options.baseEnvironment ?? {};
    const region = base.AWS_REGION ?? 'us-east-1';
    const reserved: Record<string, string> = {
      AWS_LAMBDA_FUNCTION_NAME: config.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memorySizeMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      LAMBDA_TASK_ROOT: config.codeDirectory,
      _HANDLER: config.handler,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      // Never read the host's ~/.aws files: the local functions use only what is set here.
      AWS_CONFIG_FILE: devNull,
      AWS_SHARED_CREDENTIALS_FILE: devNull,
    };
    return { ...base, ...config.environment, ...reserved };
  }
}

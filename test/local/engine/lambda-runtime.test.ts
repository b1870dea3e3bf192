import path from 'node:path';
import { LambdaFunctionError, type LocalFunctionConfig, LocalLambdaRuntime } from '../../../local/engine/lambda-runtime';
import { MemoryLogSink } from '../../../local/engine/log-sink';

const codeDirectory = path.join(__dirname, 'fixtures', 'functions');

function config(name: string, handler: string, overrides: Partial<LocalFunctionConfig> = {}): LocalFunctionConfig {
  return {
    name,
    arn: `arn:aws:lambda:eu-west-1:000000000000:function:${name}`,
    codeDirectory,
    handler: `handlers.${handler}`,
    environment: {},
    timeoutSeconds: 10,
    memorySizeMb: 256,
    ...overrides,
  };
}

interface EchoResult {
  event: unknown;
  invocationCount: number;
  containerId: string;
  marker: string | null;
  hostOnly: string | null;
  endpoint: string | null;
  region: string | null;
  functionName: string;
  awsRequestId: string;
  remainingMs: number;
}

describe('LocalLambdaRuntime', () => {
  let runtime: LocalLambdaRuntime;
  let logs: MemoryLogSink;

  beforeEach(() => {
    logs = new MemoryLogSink();
    runtime = new LocalLambdaRuntime({
      logSink: logs,
      baseEnvironment: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4599', AWS_REGION: 'eu-west-1' },
    });
  });

  afterEach(async () => {
    await runtime.stop();
  });

  it('gives each function its own environment and never the host one', async () => {
    // Prepare
    process.env.KEYROTATE_TEST_HOST_ONLY = 'host';
    const a = runtime.register(config('fn-a', 'echo', { environment: { FIXTURE_MARKER: 'a' } }));
    const b = runtime.register(config('fn-b', 'echo', { environment: { FIXTURE_MARKER: 'b' } }));

    // Act
    const [ra, rb] = await Promise.all([a.invokeOrThrow({ n: 1 }), b.invokeOrThrow({ n: 2 })]);
    delete process.env.KEYROTATE_TEST_HOST_ONLY;

    // Assess
    const echoA = ra as EchoResult;
    const echoB = rb as EchoResult;
    expect(echoA.marker).toBe('a');
    expect(echoB.marker).toBe('b');
    expect(echoA.hostOnly).toBeNull();
    expect(echoA.endpoint).toBe('http://127.0.0.1:4599');
    expect(echoA.region).toBe('eu-west-1');
    expect(echoA.containerId).not.toBe(echoB.containerId);
    expect(echoA.event).toEqual({ n: 1 });
  });

  it('keeps a container warm across invocations and reports the cold start once', async () => {
    // Prepare
    const fn = runtime.register(config('warm', 'echo'));

    // Act
    const first = await fn.invoke({});
    const second = await fn.invoke({});

    // Assess
    if (!first.ok || !second.ok) throw new Error('invocations failed');
    expect((first.payload as EchoResult).invocationCount).toBe(1);
    expect((second.payload as EchoResult).invocationCount).toBe(2);
    expect((second.payload as EchoResult).containerId).toBe((first.payload as EchoResult).containerId);
    expect(first.report.coldStart).toBe(true);
    expect(first.report.initDurationMs).toEqual(expect.any(Number));
    expect(second.report.coldStart).toBe(false);
    expect(second.report.initDurationMs).toBeUndefined();
    expect(runtime.reports).toHaveLength(2);
  });

  it('starts a second container for a concurrent invocation', async () => {
    // Prepare
    const fn = runtime.register(config('scale', 'echo'));

    // Act
    const results = await Promise.all([fn.invokeOrThrow({}), fn.invokeOrThrow({})]);

    // Assess
    const ids = new Set(results.map((r) => (r as EchoResult).containerId));
    expect(ids.size).toBe(2);
    expect(fn.warmContainers).toBe(2);
  });

  it('passes a Lambda-like context object', async () => {
    // Prepare
    const fn = runtime.register(config('ctx', 'echo', { timeoutSeconds: 7 }));

    // Act
    const result = await fn.invoke({});

    // Assess
    if (!result.ok) throw new Error('invocation failed');
    const echo = result.payload as EchoResult;
    expect(echo.functionName).toBe('ctx');
    expect(echo.awsRequestId).toBe(result.report.requestId);
    expect(echo.remainingMs).toBeGreaterThan(5000);
    expect(echo.remainingMs).toBeLessThanOrEqual(7000);
  });

  it('returns a handler error with its name as errorType and its message', async () => {
    // Prepare
    const fn = runtime.register(config('failing', 'fail'));

    // Act
    const result = await fn.invoke({ accessKeyId: 'AKIAEXAMPLE' });
    const thrown = await fn.invokeOrThrow({ accessKeyId: 'AKIAEXAMPLE' }).catch((e: unknown) => e);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual({
      errorType: 'KeyNotPropagatedError',
      errorMessage: 'new access key AKIAEXAMPLE is not accepted by STS yet',
    });
    expect(thrown).toBeInstanceOf(LambdaFunctionError);
    expect((thrown as Error).name).toBe('KeyNotPropagatedError');
    expect((thrown as Error).message).toBe('new access key AKIAEXAMPLE is not accepted by STS yet');
  });

  it('times out a slow invocation, tears the container down and starts a fresh one next time', async () => {
    // Prepare
    const fn = runtime.register(config('slow', 'slow', { timeoutSeconds: 0.3 }));

    // Act
    const started = Date.now();
    const timedOut = await fn.invoke({ ms: 5000 });
    const elapsed = Date.now() - started;
    const next = await fn.invoke({ ms: 1 });

    // Assess
    expect(timedOut.ok).toBe(false);
    if (timedOut.ok) return;
    expect(timedOut.error.errorType).toBe('Sandbox.Timedout');
    expect(timedOut.error.errorMessage).toBe('Task timed out after 0.30 seconds');
    expect(elapsed).toBeLessThan(3000);
    expect(next).toMatchObject({ ok: true, payload: { slept: 1 } });
    expect(next.report.coldStart).toBe(true);
  });

  it('reports a container that exits during an invocation as Runtime.ExitError', async () => {
    // Prepare
    const fn = runtime.register(config('exits', 'exit'));

    // Act
    const result = await fn.invoke({});

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.errorType).toBe('Runtime.ExitError');
    expect(result.error.errorMessage).toContain('exit status 3');
  });

  it('survives a warm container killed between invocations (the fault matrix kills every process of a function)', async () => {
    // Prepare: one warm container, then its process is killed; the next invoke starts in the
    // same tick, before Node.js has seen the exit, so the dead container still looks idle.
    const fn = runtime.register(config('killed', 'echo'));
    const warm = (await fn.invokeOrThrow({})) as EchoResult;
    process.kill(Number(warm.containerId), 'SIGKILL');

    // Act
    const afterKill = await fn.invoke({});
    const next = await fn.invoke({});

    // Assess: the event never reached a live runtime, reported as the crash it is; then a fresh one.
    expect(afterKill.ok).toBe(false);
    if (afterKill.ok) return;
    expect(afterKill.error.errorType).toBe('Runtime.ExitError');
    expect(next).toMatchObject({ ok: true });
    expect(next.report.coldStart).toBe(true);
  });

  it('reports a missing handler export as Runtime.HandlerNotFound', async () => {
    // Prepare
    const fn = runtime.register(config('missing', 'notAFunction'));

    // Act
    const result = await fn.invoke({});

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.errorType).toBe('Runtime.HandlerNotFound');
  });

  it('captures stdout and stderr lines with the invocation they belong to', async () => {
    // Prepare
    const fn = runtime.register(config('logger', 'log'));

    // Act
    const first = await fn.invoke({ n: 1 });
    const second = await fn.invoke({ n: 2 });

    // Assess
    const structured = logs.structured('logger');
    expect(structured).toEqual([
      { level: 'INFO', message: 'structured', requestId: first.report.requestId, n: 1 },
      { level: 'INFO', message: 'structured', requestId: second.report.requestId, n: 2 },
    ]);
    const stderrLines = logs.entries.filter((e) => e.stream === 'stderr');
    expect(stderrLines.map((e) => e.requestId)).toEqual([first.report.requestId, second.report.requestId]);
    expect(stderrLines[0]?.text).toBe('plain line on stderr');
    const platform = logs.entries.filter((e) => e.stream === 'platform' && e.requestId === first.report.requestId).map((e) => e.text);
    expect(platform[0]).toMatch(/^START RequestId: /);
    expect(platform[1]).toMatch(/^END RequestId: /);
    expect(platform[2]).toMatch(/^REPORT RequestId: .*Max Memory Used: \d+ MB\tInit Duration: \d+ ms$/);
    expect(logs.text()).not.toContain('keyrotate-invocation-end');
  });

  it('measures the peak memory of each invocation', async () => {
    // Prepare
    const fn = runtime.register(config('memory', 'allocate'));
    const baseline = await fn.invoke({ megabytes: 0 });

    // Act
    const heavy = await fn.invoke({ megabytes: 64 });

    // Assess
    expect(heavy.ok).toBe(true);
    expect(heavy.report.peakRssBytes - baseline.report.peakRssBytes).toBeGreaterThan(48 * 1024 * 1024);
    expect(heavy.report.maxRssBytes).toBeGreaterThanOrEqual(heavy.report.peakRssBytes * 0.9);
    // The container's own high-water mark, not the peak it inherited from the engine's process
    // (getrusage's maxRSS survives fork/exec on Linux).
    expect(baseline.report.maxRssBytes).toBeLessThan(heavy.report.maxRssBytes);
  });

  it('refuses to register two functions with the same name', () => {
    // Prepare
    runtime.register(config('dup', 'echo'));

    // Act
    const act = () => runtime.register(config('dup', 'echo'));

    // Assess
    expect(act).toThrow("local function 'dup' is already registered");
  });
});

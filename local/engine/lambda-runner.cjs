'use strict';
// One local "Lambda container": the local runtime (lambda-runtime.ts) forks this script once per
// warm instance of a function, with the function's own environment, so each function has its
// own process.env and its own module-scope SDK clients, kept warm across invocations exactly as
// a Lambda execution environment keeps them.
//
// Protocol (IPC, JSON): the parent sends { type: 'invoke', requestId, event, context }; this
// script answers { type: 'result', requestId, ok, payload | error, report }. Before answering it
// writes an end marker line on stdout and on stderr, so the parent can attribute every log line
// written during the invocation to it (pipes and the IPC channel are not ordered relative to
// each other).
//
// Plain CommonJS on purpose: it is forked by path from both the TypeScript sources (jest) and the
// bundled CLI (dist/cli.cjs), with no loader.
const path = require('node:path');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');
const timers = require('node:timers');

const END_MARKER = '\u001ekeyrotate-invocation-end ';

const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
const handlerSpec = process.env._HANDLER || 'index.handler';

/** A Lambda runtime error (its name is the errorType the caller sees). */
function runtimeError(errorType, message) {
  const error = new Error(message);
  error.name = errorType;
  return error;
}

let handlerPromise;

/** The init phase: load the module once per container, on the first invocation. */
function loadHandler() {
  if (!handlerPromise) {
    handlerPromise = (async () => {
      const dot = handlerSpec.lastIndexOf('.');
      if (dot <= 0) throw runtimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerSpec}`);
      const moduleBase = path.resolve(taskRoot, handlerSpec.slice(0, dot));
      const exportName = handlerSpec.slice(dot + 1);
      const file = ['.js', '.cjs', '.mjs'].map((ext) => moduleBase + ext).find((f) => fs.existsSync(f));
      if (!file) throw runtimeError('Runtime.ImportModuleError', `Error: Cannot find module '${path.basename(moduleBase)}'`);
      let loaded;
      try {
        loaded = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
      } catch (error) {
        throw runtimeError('Runtime.ImportModuleError', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
      const fn = loaded && loaded[exportName];
      if (typeof fn !== 'function') {
        throw runtimeError('Runtime.HandlerNotFound', `${path.basename(moduleBase)}.${exportName} is undefined or not exported`);
      }
      return fn;
    })();
  }
  return handlerPromise;
}

function lambdaContext(message) {
  const deadline = message.context.deadlineMs;
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST',
    invokedFunctionArn: message.context.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Only the error's type and message cross the boundary, as the Lambda service reports them. */
function describeFailure(error) {
  if (error instanceof Error) return { errorType: error.name || 'Error', errorMessage: String(error.message) };
  return { errorType: typeof error, errorMessage: String(error) };
}

function writeLine(stream, text) {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

let invocationInFlight = null;

/**
 * This container's lifetime peak RSS (Lambda's "Max Memory Used"). getrusage's maxRSS is not it:
 * Linux carries the parent's peak over across fork/exec, so every container would report the
 * engine's own peak. VmHWM in /proc/self/status is this process's own high-water mark.
 */
function lifetimePeakRssBytes() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through to the best figure the platform offers.
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function invoke(message) {
  const started = Date.now();
  let peakRss = process.memoryUsage.rss();
  // Sampled while the handler runs: the peak of this invocation, where resourceUsage().maxRSS
  // is the container's lifetime peak (what Lambda's REPORT line calls "Max Memory Used").
  const sampler = timers.setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 2);
  let initDurationMs;
  let outcome;
  try {
    const cold = !handlerPromise;
    const initStarted = Date.now();
    const handler = await loadHandler();
    if (cold) initDurationMs = Date.now() - initStarted;
    const value = await handler(message.event, lambdaContext(message));
    // Lambda serialises the result as JSON: undefined becomes null, Dates become strings.
    const json = JSON.stringify(value === undefined ? null : value);
    outcome = { ok: true, payload: json };
  } catch (error) {
    outcome = { ok: false, error: describeFailure(error) };
  } finally {
    timers.clearInterval(sampler);
  }
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const report = {
    durationMs: Date.now() - started,
    initDurationMs,
    peakRssBytes: peakRss,
    maxRssBytes: lifetimePeakRssBytes(),
  };
  await writeLine(process.stdout, `${END_MARKER}${message.requestId}\n`);
  await writeLine(process.stderr, `${END_MARKER}${message.requestId}\n`);
  process.send({ type: 'result', requestId: message.requestId, ...outcome, report });
}

process.on('message', (message) => {
  if (!message || message.type !== 'invoke') return;
  invocationInFlight = message.requestId;
  invoke(message).finally(() => {
    invocationInFlight = null;
  });
});

// A crash outside the handler's promise kills the container, as in Lambda; the parent reports
// it to the caller of the invocation in flight.
function crash(errorType, error) {
  const failure = describeFailure(error);
  try {
    process.stderr.write(`${JSON.stringify({ level: 'ERROR', errorType, message: failure.errorMessage, requestId: invocationInFlight })}\n`);
  } finally {
    process.exit(129);
  }
}
process.on('uncaughtException', (error) => crash('Runtime.UncaughtException', error));
process.on('unhandledRejection', (error) => crash('Runtime.UnhandledPromiseRejection', error));
process.on('disconnect', () => process.exit(0));

// Runs one Lambda bundle's handler once, the way the Lambda runtime would, in a process of its
// own, and reports on file descriptor 3 (stdout and stderr belong to the handler's logs):
//   { ok, result | error: { name, message }, loadedMs, doneMs, maxRssKb }
// loadedMs / doneMs are milliseconds since this process started (performance.timeOrigin), so
// the parent's scheduling does not blur them. maxRssKb is the process's peak resident memory,
// which is what Lambda reports as "Max Memory Used": the kernel's high-water mark (VmHWM) of
// this process image. Not process.resourceUsage().maxRSS: Linux carries that figure over from
// the parent across fork and exec, so a child of a big process reports the parent's peak.
//
// Usage: node invoke-handler.mjs <bundle.cjs|bundle.mjs> '<event JSON>' [functionName] [memoryMB]
// Plain JavaScript on purpose: it must run on bare Node.js without a TypeScript loader, which
// would distort both the timings and the memory figure.
import { readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { setInterval } from 'node:timers';

const [bundleArg, eventJson = '{}', functionName = 'keyrotate-bench', memoryMb = '1024'] = process.argv.slice(2);

let sampledPeakKb = 0;
function sampleRss() {
  sampledPeakKb = Math.max(sampledPeakKb, Math.round(process.memoryUsage.rss() / 1024));
}

function peakRssKb() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // not Linux: fall back to sampling
  }
  sampleRss();
  return sampledPeakKb;
}

function report(payload) {
  writeSync(3, `${JSON.stringify({ ...payload, maxRssKb: peakRssKb() })}\n`);
}

async function main() {
  if (!bundleArg) throw new Error('usage: invoke-handler.mjs <bundle> <event JSON>');
  const bundle = resolve(bundleArg);
  const sampler = setInterval(sampleRss, 2);
  sampler.unref();
  const mod = bundle.endsWith('.mjs') ? await import(pathToFileURL(bundle).href) : createRequire(import.meta.url)(bundle);
  const loadedMs = performance.now();
  const handler = mod.handler ?? mod.default?.handler;
  if (typeof handler !== 'function') throw new Error(`${bundleArg} exports no handler function`);
  const deadline = Date.now() + 60_000;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: memoryMb,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const result = await handler(JSON.parse(eventJson), context);
    report({ ok: true, result, loadedMs, doneMs: performance.now() });
  } catch (error) {
    // Name and message only: an inspected error could carry request parameters.
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    report({ ok: false, error: { name, message }, loadedMs, doneMs: performance.now() });
  }
}

main()
  .catch((error) => {
    report({ ok: false, error: { name: 'HarnessError', message: error instanceof Error ? error.message : String(error) } });
  })
  // Keep-alive sockets of the SDK would hold the process open; the measurement is done.
  .finally(() => process.exit(0));

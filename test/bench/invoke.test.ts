import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lambdaLikeEnv } from '../../bench/lib/cold-init';
import { invokeBundle } from '../../bench/lib/invoke';
import { projectNodeBinary } from '../../bench/lib/node-binary';

describe('invokeBundle', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotate-invoke-test-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, code: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, code);
    return file;
  };

  it('runs the handler with the event and a Lambda context, and reports timings and memory', async () => {
    // Prepare: the handler echoes what it got; it also logs to stdout, which must not matter.
    const bundle = write('echo.cjs', 'exports.handler = async (event, context) => { console.log("log line"); return { event, fn: context.functionName, mem: context.memoryLimitInMB }; };');
    // Act
    const report = await invokeBundle(bundle, { a: 1 }, { node: projectNodeBinary(), env: lambdaLikeEnv(), functionName: 'fn', memoryMb: 256 });
    // Assess
    expect(report).toMatchObject({ ok: true, result: { event: { a: 1 }, fn: 'fn', mem: '256' } });
    expect(report.doneMs).toBeGreaterThanOrEqual(report.loadedMs ?? Infinity);
    expect(report.maxRssKb).toBeGreaterThan(10_000);
  });

  it("reports the child's own peak memory, not the parent's (which Linux carries over in maxRSS)", async () => {
    // Prepare: this process holds 300 MB more than any small handler needs.
    const ballast = Buffer.alloc(300 * 1024 * 1024, 1);
    const bundle = write('small.cjs', 'exports.handler = async () => "ok";');
    // Act
    const report = await invokeBundle(bundle, {}, { node: projectNodeBinary(), env: lambdaLikeEnv() });
    // Assess
    expect(ballast.length).toBeGreaterThan(0);
    expect(process.memoryUsage.rss() / 1024).toBeGreaterThan(300_000);
    expect(report.maxRssKb).toBeLessThan(200_000);
  });

  it('loads ES module bundles too', async () => {
    const bundle = write('echo.mjs', 'export const handler = async () => "esm";');
    const report = await invokeBundle(bundle, {}, { node: projectNodeBinary(), env: lambdaLikeEnv() });
    expect(report).toMatchObject({ ok: true, result: 'esm' });
  });

  it('reports a failing handler by error name and message only', async () => {
    const bundle = write(
      'fail.cjs',
      'exports.handler = async () => { const e = new Error("key AKIA1 is gone"); e.name = "AccessKeyNotFoundError"; e.secret = "s3cr3t"; throw e; };',
    );
    const report = await invokeBundle(bundle, {}, { node: projectNodeBinary(), env: lambdaLikeEnv() });
    expect(report.ok).toBe(false);
    expect(report.error).toEqual({ name: 'AccessKeyNotFoundError', message: 'key AKIA1 is gone' });
    expect(JSON.stringify(report)).not.toContain('s3cr3t');
  });

  it('says so when the bundle has no handler', async () => {
    const bundle = write('none.cjs', 'exports.other = 1;');
    const report = await invokeBundle(bundle, {}, { node: projectNodeBinary(), env: lambdaLikeEnv() });
    expect(report).toMatchObject({ ok: false, error: { name: 'HarnessError', message: expect.stringContaining('exports no handler') } });
  });
});

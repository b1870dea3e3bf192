import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { localAwsCommand, parseLocalAwsArgs, serveLocalAws } from '../../../cli/commands/local-aws';
import { main } from '../../../cli/main';
import type { LocalAws } from '../../../local/aws';
import { memoryIo } from '../../helpers/memory-io';
import { clientConfig } from './helpers';

/** Waits until the command printed its export line; returns the endpoint URL from it. */
async function endpointFrom(io: ReturnType<typeof memoryIo>): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const match = /export AWS_ENDPOINT_URL=(\S+)/.exec(io.out());
    if (match?.[1]) return match[1];
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no export line printed; stdout: ${io.out()} stderr: ${io.err()}`);
}

describe('keyrotate local-aws', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keyrotate-cli-local-aws-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves until aborted, prints what to export, saves state to a 0600 file and exits 0', async () => {
    // Prepare
    const io = memoryIo();
    const controller = new AbortController();
    const file = path.join(dir, 'state.json');
    let ready: LocalAws | undefined;
    const running = serveLocalAws(['--port', '0', '--state', file, '--region', 'eu-west-1', '--log-calls'], io, { signal: controller.signal, onReady: (aws) => (ready = aws) });
    const endpoint = await endpointFrom(io);
    const iam = new IAMClient(clientConfig(ready as LocalAws));

    // Act
    await iam.send(new CreateUserCommand({ UserName: 'from-cli' }));
    iam.destroy();
    controller.abort();
    const code = await running;

    // Assess
    expect(code).toBe(0);
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(io.out()).toContain(`export AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=eu-west-1`);
    expect(io.err()).toMatch(/ iam CreateUser ok\n/);
    expect(io.err()).toContain('Local AWS endpoint stopped.');
    expect(readFileSync(file, 'utf8')).toContain('from-cli');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('is registered as a command and stops on SIGTERM through `run`', async () => {
    // Prepare
    const io = memoryIo();
    const running = main(['local-aws', '--port', '0'], io);
    await endpointFrom(io);

    // Act
    process.emit('SIGTERM');
    const code = await running;

    // Assess
    expect(code).toBe(0);
    expect(process.listenerCount('SIGTERM')).toBe(0);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('explains a busy port and exits 1', async () => {
    // Prepare
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const io = memoryIo();

    // Act
    const code = await serveLocalAws(['--port', String(port)], io, { signal: new AbortController().signal });
    await new Promise<void>((resolve) => blocker.close(() => resolve()));

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain(`port ${port} is already in use`);
  });

  it('defaults to LocalStack\'s port on 127.0.0.1, and turns throttling flags into options', () => {
    // Act
    const defaults = parseLocalAwsArgs([]);
    const throttled = parseLocalAwsArgs(['--throttle-fraction', '0.3', '--seed', '7', '--throttle-rate=5', '--throttle-burst', '2', '--propagation-delay', '8000']);

    // Assess
    expect(defaults.options).toMatchObject({ port: 4566, host: '127.0.0.1', throttle: undefined });
    expect(throttled.options).toMatchObject({ propagationDelayMs: 8000, throttle: { fraction: 0.3, seed: 7, rate: 5, burst: 2 } });
  });

  it.each([
    [['--port', '70000'], '--port must be a port number'],
    [['--propagation-delay=-1'], '--propagation-delay must be'],
    [['--throttle-fraction', '2'], '--throttle-fraction must be'],
    [['--region', 'mars'], '--region must be a region name'],
    [['--throttle-burst', '3'], '--throttle-burst needs --throttle-rate'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('fails with a usage error (exit 2) on %j', async (args, message) => {
    // Prepare
    const io = memoryIo();

    // Act
    const code = await main(['local-aws', ...args], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(message);
  });

  it('has help that names every option it accepts', () => {
    // Act
    const flags = ['--port', '--host', '--state', '--propagation-delay', '--region', '--account-id', '--throttle-fraction', '--throttle-rate', '--throttle-burst', '--seed', '--log-calls'];

    // Assess
    for (const flag of flags) expect(localAwsCommand.help).toContain(flag);
  });
});

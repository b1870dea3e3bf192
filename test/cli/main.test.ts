import { main } from '../../cli/main';
import { memoryIo } from '../helpers/memory-io';

describe('keyrotate main', () => {
  it('prints the command list for --help and exits 0', async () => {
    const io = memoryIo();
    const code = await main(['--help'], io);
    expect(code).toBe(0);
    expect(io.out()).toContain('Usage: keyrotate <command>');
  });

  it('fails with exit code 2 on an unknown command', async () => {
    const io = memoryIo();
    const code = await main(['no-such-command'], io);
    expect(code).toBe(2);
    expect(io.err()).toContain("unknown command 'no-such-command'");
  });
});

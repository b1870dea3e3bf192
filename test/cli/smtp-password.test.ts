import { main } from '../../cli/main';
import { SES_SMTP_REGIONS } from '../../lambdas/core/ses-regions';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import { memoryIo } from '../helpers/memory-io';

const SECRET = 'some+secret+key';

describe('keyrotate smtp-password', () => {
  it('prints the SMTP password of the secret read from stdin (Terraform provider vector)', async () => {
    // Prepare
    const io = memoryIo(`${SECRET}\n`);

    // Act
    const code = await main(['smtp-password', '--region', 'eu-central-1'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe('BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2\n');
    expect(io.err()).toBe('');
  });

  it.each([
    ['a CRLF line ending', `${SECRET}\r\n`],
    ['no line ending', SECRET],
  ])('accepts the secret with %s', async (_case, stdin) => {
    // Prepare
    const io = memoryIo(stdin);

    // Act
    const code = await main(['smtp-password', '--region=us-west-1'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe('BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj\n');
  });

  it('fails for a region without an SES SMTP endpoint, naming it and listing the valid ones, printing nothing on stdout', async () => {
    // Prepare
    const io = memoryIo(`${SECRET}\n`);

    // Act
    const code = await main(['smtp-password', '--region', 'eu-west-9'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toContain("invalid --region: 'eu-west-9' is not a region with an SES SMTP endpoint");
    expect(io.err()).toContain(SES_SMTP_REGIONS.join(', '));
    expect(io.err()).not.toContain(SECRET);
  });

  it('accepts an unlisted region with --allow-unlisted-region', async () => {
    // Prepare
    const io = memoryIo(`${SECRET}\n`);

    // Act
    const code = await main(['smtp-password', '--region', 'ap-southeast-7', '--allow-unlisted-region'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe(`${deriveSmtpPasswordV4(SECRET, 'ap-southeast-7')}\n`);
  });

  it('still checks the syntax of an unlisted region', async () => {
    // Prepare
    const io = memoryIo(`${SECRET}\n`);

    // Act
    const code = await main(['smtp-password', '--region', 'Frankfurt', '--allow-unlisted-region'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err()).toContain("'Frankfurt' is not an AWS region name");
  });

  it('refuses the secret as an argument without echoing it', async () => {
    // Prepare
    const io = memoryIo('');

    // Act
    const code = await main(['smtp-password', '--region', 'eu-west-1', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('the secret access key is read from standard input, never from arguments');
    expect(io.err()).not.toContain('wJalrXUtnFEMI');
  });

  it.each([
    ['no --region', [], '--region is required'],
    ['an unknown option', ['--region', 'eu-west-1', '--secret'], "Unknown option '--secret'"],
    ['--region without a value', ['--region'], "Option '--region <value>' argument missing"],
  ])('fails with usage exit code 2 for %s', async (_case, args, message) => {
    // Prepare
    const io = memoryIo(`${SECRET}\n`);

    // Act
    const code = await main(['smtp-password', ...args], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain(message);
    expect(io.err()).toContain('Run `keyrotate smtp-password --help` for usage.');
  });

  it.each([
    ['empty input', '', 'standard input is empty'],
    ['only a newline', '\n', 'standard input is empty'],
    ['two lines', `${SECRET}\nsecond-line-value\n`, 'standard input must hold exactly one line'],
    ['surrounding spaces', ` ${SECRET} \n`, 'leading or trailing whitespace'],
  ])('fails for %s on stdin without echoing it', async (_case, stdin, message) => {
    // Prepare
    const io = memoryIo(stdin);

    // Act
    const code = await main(['smtp-password', '--region', 'eu-west-1'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain(message);
    expect(io.err()).not.toContain(SECRET);
    expect(io.err()).not.toContain('second-line-value');
  });

  it('says in --help that the secret comes from stdin and never from arguments', async () => {
    // Prepare
    const io = memoryIo();

    // Act
    const code = await main(['smtp-password', '--help'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toContain('Usage: keyrotate smtp-password --region REGION [--allow-unlisted-region]');
    expect(io.out()).toContain('read from standard input');
    expect(io.out()).toContain('never taken as an argument');
  });

  it('is listed by keyrotate --help', async () => {
    // Prepare
    const io = memoryIo();

    // Act
    await main(['--help'], io);

    // Assess
    expect(io.out()).toMatch(/smtp-password\s+Print the SES SMTP password/);
  });
});

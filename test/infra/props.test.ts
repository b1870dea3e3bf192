/**
 * Props resolution: defaults, and every validation failing at construction with a message that
 * names the prop, the value received and what is allowed. No bundling is needed: validation
 * happens before any Lambda is created.
 */
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { AccessKeyRotation, type AccessKeyRotationProps } from '../../infra/access-key-rotation';
import { resolveProps } from '../../infra/props';
import { newApp, newStack, typicalProps } from './helpers';

function construct(props: (secret: ISecret) => AccessKeyRotationProps): AccessKeyRotation {
  const app = newApp();
  const stack = newStack(app);
  return new AccessKeyRotation(stack, 'R', props(new Secret(stack, 'S')));
}

function withUser(overrides: Record<string, unknown>) {
  return (secret: ISecret): AccessKeyRotationProps => ({
    ...typicalProps(secret),
    users: [{ userName: 'app-smtp', delivery: { secret }, ...overrides } as never],
  });
}

const base = (secret: ISecret) => typicalProps(secret);

describe('defaults', () => {
  test('are resolved at once: delete, no unused requirement, hourly re-checks, one year of logs', () => {
    // Act
    const resolved = resolveProps({ users: [{ userName: 'u', delivery: { pgpKey: 'keybase:u' } }], gracePeriod: Duration.hours(2), deletionDelay: Duration.days(3) });

    // Assess
    expect(resolved.oldKey).toEqual({ action: 'delete', gracePeriodSeconds: 7200, deletionDelaySeconds: 259_200, requireUnusedSeconds: 0 });
    expect(resolved.oldKeyRecheckInterval.toSeconds()).toBe(3600);
    expect(resolved.oldKeyMaxRechecks).toBe(24);
    expect(resolved.scope).toEqual({ userNames: ['u'] });
    expect(resolved.logRetention).toBe(RetentionDays.ONE_YEAR);
    expect(resolved.verifySeconds).toBe(20);
    expect(resolved.keybaseUrl).toBe('https://keybase.io');
    expect(resolved.defaultSesSmtpRegions).toBeUndefined();
    expect(resolved.users[0]).toMatchObject({ newKeyStatus: 'Active', oldKey: resolved.oldKey });
  });

  test('per-user overrides replace only the fields they name', () => {
    const resolved = resolveProps({
      users: [{ userName: 'u', delivery: { pgpKey: 'keybase:u' }, oldKey: { action: 'deactivate', requireUnusedFor: Duration.days(2) } }],
      gracePeriod: Duration.hours(1),
      deletionDelay: Duration.days(1),
    });

    expect(resolved.users[0]?.oldKey).toEqual({ action: 'deactivate', gracePeriodSeconds: 3600, deletionDelaySeconds: 86_400, requireUnusedSeconds: 172_800 });
  });

  test('duplicate SES regions are kept once, in order', () => {
    const resolved = resolveProps({ ...typicalProps(undefined as never), users: [], scope: { tag: { key: 'k', value: 'v' } }, defaultSesSmtpRegions: ['eu-west-1', 'us-east-1', 'eu-west-1'] });

    expect(resolved.defaultSesSmtpRegions).toEqual(['eu-west-1', 'us-east-1']);
  });
});

describe('users', () => {
  test('fails when a user name breaks the IAM pattern', () => {
    expect(() => construct(withUser({ userName: 'bad name' }))).toThrow(
      "AccessKeyRotation: users[0].userName: 'bad name' is not an IAM user name (1 to 64 of letters, digits and + = , . @ _ -)",
    );
  });

  test('fails when a user name is longer than 64 characters', () => {
    expect(() => construct(withUser({ userName: 'u'.repeat(65) }))).toThrow(/users\[0\]\.userName: 'u{65}' is not an IAM user name/);
  });

  test('fails when a user is listed twice', () => {
    expect(() =>
      construct((secret) => ({ ...base(secret), users: [{ userName: 'a', delivery: { secret } }, { userName: 'a', delivery: { pgpKey: 'keybase:a' } }] })),
    ).toThrow("users[1].userName: 'a' is listed twice; one entry per user");
  });

  test('fails when a delivery names both a secret and a PGP key', () => {
    expect(() => construct((secret) => withUser({ delivery: { secret, pgpKey: 'keybase:a' } })(secret))).toThrow(
      'users[0].delivery: must be exactly one of { secret } or { pgpKey }',
    );
  });

  test('fails when a delivery names neither', () => {
    expect(() => construct(withUser({ delivery: {} }))).toThrow('users[0].delivery: must be exactly one of { secret } or { pgpKey }');
  });

  test('fails when the PGP key is a private key', () => {
    expect(() => construct(withUser({ delivery: { pgpKey: '-----BEGIN PGP PRIVATE KEY BLOCK-----\nxyz' } }))).toThrow(
      'users[0].delivery.pgpKey: is a PGP PRIVATE key; give the public key',
    );
  });

  test('fails when the PGP key is empty', () => {
    expect(() => construct(withUser({ delivery: { pgpKey: '  ' } }))).toThrow('users[0].delivery.pgpKey: must be a non-empty PGP public key or key reference');
  });

  test('fails when the PGP key is in no known form', () => {
    expect(() => construct(withUser({ delivery: { pgpKey: 'my key!' } }))).toThrow(/users\[0\]\.delivery\.pgpKey: must be base64 of a binary or armored public key/);
  });

  test('fails when newKeyStatus is neither Active nor Inactive', () => {
    expect(() => construct(withUser({ newKeyStatus: 'Disabled' }))).toThrow("users[0].newKeyStatus: must be 'Active' or 'Inactive', got 'Disabled'");
  });

  test('fails when an SES region has no SMTP endpoint (a typo)', () => {
    expect(() => construct(withUser({ sesSmtpRegions: ['eu-west-l'] }))).toThrow(/users\[0\]\.sesSmtpRegions: 'eu-west-l' has no SES SMTP endpoint; allowed: .*eu-west-1/);
  });

  test('fails when a per-user grace period is over a year', () => {
    expect(() => construct(withUser({ oldKey: { gracePeriod: Duration.days(400) } }))).toThrow(
      'users[0].oldKey.gracePeriod: must be from 0 seconds to 365 days, got 400 days',
    );
  });

  test('fails when a per-user old-key action is unknown', () => {
    expect(() => construct(withUser({ oldKey: { action: 'archive' } }))).toThrow("users[0].oldKey.action: must be 'delete' or 'deactivate', got 'archive'");
  });

  test('fails when the schedule input would exceed EventBridge Scheduler\'s 8192 characters', () => {
    const hugeKey = 'A'.repeat(9000);
    expect(() => construct(withUser({ delivery: { pgpKey: hugeKey }, schedule: ScheduleExpression.rate(Duration.days(1)) }))).toThrow(
      /users\[0\]\.delivery: the schedule input is \d+ characters, EventBridge Scheduler allows 8192/,
    );
  });
});

describe('old-key policy', () => {
  test('fails when the grace period is over a year', () => {
    expect(() => construct((secret) => ({ ...base(secret), gracePeriod: Duration.days(366) }))).toThrow(
      'AccessKeyRotation: gracePeriod: must be from 0 seconds to 365 days, got 366 days',
    );
  });

  test('fails when the grace period is not a whole number of seconds', () => {
    expect(() => construct((secret) => ({ ...base(secret), gracePeriod: Duration.millis(1500) }))).toThrow(
      'gracePeriod: must be a whole number of seconds, got 1 second 500 millis',
    );
  });

  test('fails when the deletion delay is over a year', () => {
    expect(() => construct((secret) => ({ ...base(secret), deletionDelay: Duration.days(500) }))).toThrow('deletionDelay: must be from 0 seconds to 365 days, got 500 days');
  });

  test('fails when requireUnusedFor is over a year', () => {
    expect(() => construct((secret) => ({ ...base(secret), requireUnusedFor: Duration.days(400) }))).toThrow('requireUnusedFor: must be from 0 seconds to 365 days');
  });

  test('fails when the old-key action is unknown', () => {
    expect(() => construct((secret) => ({ ...base(secret), oldKeyAction: 'keep' as never }))).toThrow("oldKeyAction: must be 'delete' or 'deactivate', got 'keep'");
  });

  test('fails when the waits add up to more than a Standard workflow may run', () => {
    expect(() => construct((secret) => ({ ...base(secret), gracePeriod: Duration.days(200), deletionDelay: Duration.days(200) }))).toThrow(
      /gracePeriod: grace period \+ deletion delay add up to 400 days; a Standard workflow runs at most 364 days here/,
    );
  });

  test('fails when re-checks of a recently used key would outlast the workflow', () => {
    expect(() =>
      construct((secret) => ({
        ...base(secret),
        requireUnusedFor: Duration.days(30),
        oldKeyRecheckInterval: Duration.days(1),
        oldKeyMaxRechecks: 400,
      })),
    ).toThrow(/grace period \+ deletion delay \+ old-key re-checks add up to 402 days/);
  });

  test('fails when the re-check interval is under a minute', () => {
    expect(() => construct((secret) => ({ ...base(secret), oldKeyRecheckInterval: Duration.seconds(30) }))).toThrow(
      'oldKeyRecheckInterval: must be from 1 minute to 1 day, got 30 seconds',
    );
  });

  test('fails when the number of re-checks is not a whole number from 0 to 1000', () => {
    expect(() => construct((secret) => ({ ...base(secret), oldKeyMaxRechecks: 2.5 }))).toThrow('oldKeyMaxRechecks: must be a whole number from 0 to 1000, got 2.5');
    expect(() => construct((secret) => ({ ...base(secret), oldKeyMaxRechecks: 1001 }))).toThrow('oldKeyMaxRechecks: must be a whole number from 0 to 1000, got 1001');
  });
});

describe('scope', () => {
  test('fails when the scope matches nothing', () => {
    expect(() => construct((secret) => ({ ...base(secret), scope: {} }))).toThrow('AccessKeyRotation: scope: matches no user: give userNames (non-empty), pathPrefix or tag');
  });

  test('fails when the scope lists no user and has no other rule', () => {
    expect(() => construct((secret) => ({ ...base(secret), scope: { userNames: [] } }))).toThrow('scope: matches no user');
  });

  test('fails when there are no users and no scope', () => {
    expect(() => construct((secret) => ({ ...base(secret), users: [] }))).toThrow(
      'scope: is required when users is empty: without it the Lambdas could touch no user',
    );
  });

  test('fails when a configured user is outside scope.userNames', () => {
    expect(() => construct((secret) => ({ ...base(secret), scope: { userNames: ['app-smtp'] } }))).toThrow(
      "users[1].userName: 'ci-deployer' is outside scope (scope.userNames: app-smtp)",
    );
  });

  test('fails when the path prefix is not an IAM path', () => {
    expect(() => construct((secret) => ({ ...base(secret), scope: { pathPrefix: '/service' } }))).toThrow(
      "scope.pathPrefix: '/service' is not an IAM path: it must start and end with '/' (e.g. '/service/')",
    );
  });

  test('fails when a scope user name breaks the IAM pattern', () => {
    expect(() => construct((secret) => ({ ...base(secret), scope: { userNames: ['app-smtp', 'a/b'] } }))).toThrow("scope.userNames[1]: 'a/b' is not an IAM user name");
  });

  test('fails when the tag key is reserved by AWS', () => {
    expect(() => construct((secret) => ({ ...base(secret), users: [], scope: { tag: { key: 'aws:team', value: 'x' } } }))).toThrow(
      "scope.tag.key: 'aws:team' is not a usable IAM tag key (1 to 128 characters, not 'aws:')",
    );
  });

  test('a path or tag scope admits any user name (checked at run time by Plan)', () => {
    expect(() => construct((secret) => ({ ...base(secret), scope: { pathPrefix: '/service/' } }))).not.toThrow();
  });
});

describe('other props', () => {
  test('fails when a default SES region has no SMTP endpoint', () => {
    expect(() => construct((secret) => ({ ...base(secret), defaultSesSmtpRegions: ['mars-north-1'] }))).toThrow(
      "defaultSesSmtpRegions: 'mars-north-1' has no SES SMTP endpoint",
    );
  });

  test('fails when the verify window is out of bounds', () => {
    expect(() => construct((secret) => ({ ...base(secret), verifyWindow: Duration.minutes(11) }))).toThrow(
      'verifyWindow: must be from 1 second to 10 minutes, got 11 minutes',
    );
  });

  test('fails when the Keybase URL is not http(s)', () => {
    expect(() => construct((secret) => ({ ...base(secret), keybaseUrl: 'ftp://keybase.io' }))).toThrow("keybaseUrl: 'ftp://keybase.io' is not an http(s) URL");
  });

  test('fails when the state machine name has characters Step Functions refuses', () => {
    expect(() => construct((secret) => ({ ...base(secret), stateMachineName: 'key rotate' }))).toThrow(
      "stateMachineName: 'key rotate' is not a state machine name",
    );
  });
});

describe('addSecretsManagerRotation', () => {
  const rotation = () => construct((secret) => ({ ...base(secret), scope: { userNames: ['app-smtp', 'ci-deployer', 'legacy'] } }));
  const secretOf = (r: AccessKeyRotation) => new Secret(r, `Secret${Math.random().toString(36).slice(2)}`);

  test('fails when the user is outside scope', () => {
    const r = rotation();
    expect(() => r.addSecretsManagerRotation(secretOf(r), { userName: 'stranger', automaticallyAfter: Duration.days(30) })).toThrow(
      "addSecretsManagerRotation(#1).userName: 'stranger' is outside scope (scope.userNames: app-smtp, ci-deployer, legacy)",
    );
  });

  test('fails when the interval is shorter than Secrets Manager allows', () => {
    const r = rotation();
    expect(() => r.addSecretsManagerRotation(secretOf(r), { userName: 'legacy', automaticallyAfter: Duration.hours(2) })).toThrow(
      "addSecretsManagerRotation(#1).automaticallyAfter: must be from 4 hours to 1000 days (Secrets Manager's bounds), got 2 hours",
    );
  });

  test('fails when the interval is longer than Secrets Manager allows', () => {
    const r = rotation();
    expect(() => r.addSecretsManagerRotation(secretOf(r), { userName: 'legacy', automaticallyAfter: Duration.days(1001) })).toThrow(
      'automaticallyAfter: must be from 4 hours to 1000 days',
    );
  });

  test('fails when the user name breaks the IAM pattern', () => {
    const r = rotation();
    expect(() => r.addSecretsManagerRotation(secretOf(r), { userName: 'le gacy', automaticallyAfter: Duration.days(30) })).toThrow(
      "addSecretsManagerRotation(#1).userName: 'le gacy' is not an IAM user name",
    );
  });

  test('fails when the old-key action is unknown', () => {
    const r = rotation();
    expect(() =>
      r.addSecretsManagerRotation(secretOf(r), { userName: 'legacy', automaticallyAfter: Duration.days(30), oldKeyAction: 'shred' as never }),
    ).toThrow("addSecretsManagerRotation(#1).oldKeyAction: must be 'delete' or 'deactivate', got 'shred'");
  });
});

/**
 * The rotation state machine as Step Functions receives it: the definition is read back from
 * the synthesized template, checked state by state, validated with asl-validator, and executed
 * on the local engine (aws-local-stepfunctions) with each Lambda replaced by a stub, so paths,
 * payloads, retries and catches are observed rather than assumed.
 */
import aslValidator from 'asl-validator';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { TRANSIENT_ERROR_NAMES } from '../../lambdas/core/errors';
import { STATE_MACHINE_LAMBDAS } from '../../infra/bundling';
import { definitionFromTemplate, type AslDefinition, type AslState } from '../../infra/definition-from-template';
import { LAMBDA_CRASH_ERRORS, LAMBDA_SERVICE_ERRORS, LAMBDA_TIMEOUT_ERRORS, STATE } from '../../infra/rotation-state-machine';
import { buildStack, typicalProps, type TestStack } from './helpers';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Handler = (input: Json) => Json | Promise<Json>;

let built: TestStack;
let definition: AslDefinition;
let functionsByResource: Readonly<Record<string, string>>;

beforeAll(() => {
  built = buildStack();
  ({ definition, functionsByResource } = definitionFromTemplate(built.template.toJSON() as never));
});

function state(name: string): AslState {
  const found = definition.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
}

// Until AWSCURRENT moves nothing is delivered: PromoteSecret's failures roll back too.
const TASKS_BEFORE_DELIVERY = [STATE.purgeStaleKey, STATE.createKey, STATE.deriveSmtpPasswords, STATE.storeSecret, STATE.encryptForPgp, STATE.verifyNewKey, STATE.promoteSecret];
const TASKS_AFTER_PROMOTION = [STATE.deactivateOldKey, STATE.deleteOldKey];
const ALL_TASKS = [STATE.plan, ...TASKS_BEFORE_DELIVERY, ...TASKS_AFTER_PROMOTION, STATE.rollBack, STATE.releaseLock];

// ---- stubs of the Lambdas ------------------------------------------------------------------

class NamedError extends Error {
  constructor(name: string, message = `${name} (stub)`) {
    super(message);
    this.name = name;
  }
}

interface Scenario {
  readonly delivery?: 'secretsManager' | 'pgp';
  readonly sesSmtpRegions?: string[];
  readonly staleAccessKeyId?: string | null;
  readonly dryRun?: boolean;
}

function planFor(scenario: Scenario): Json {
  return {
    rotationId: 'rotation-1',
    userName: 'app-smtp',
    userArn: 'arn:aws:iam::123456789012:user/app-smtp',
    delivery:
      scenario.delivery === 'pgp'
        ? { type: 'pgp', pgpKey: 'keybase:alice' }
        : { type: 'secretsManager', secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf' },
    sesSmtpRegions: scenario.sesSmtpRegions ?? ['eu-west-1'],
    newKeyStatus: 'Active',
    oldKey: { action: 'delete', gracePeriodSeconds: 0, deletionDelaySeconds: 0, requireUnusedSeconds: 0 },
    dryRun: scenario.dryRun ?? false,
    oldAccessKeyId: 'AKIAOLD0000000000000',
    staleAccessKeyId: scenario.staleAccessKeyId ?? null,
    currentKeySource: 'secretsManager',
    snapshot: ['AKIAOLD0000000000000'],
    lockExpiresAt: '2030-01-01T00:00:00Z',
  };
}

/** Stubs that succeed, recording the payload each state's Lambda receives. */
function stubs(scenario: Scenario, calls: Record<string, Json[]>, overrides: Record<string, Handler> = {}): Record<string, Handler> {
  const record =
    (name: string, result: Handler): Handler =>
    (input) => {
      (calls[name] ??= []).push(input);
      return (overrides[name] ?? result)(input);
    };
  const pgp = scenario.delivery === 'pgp';
  return {
    [STATE.plan]: record(STATE.plan, () => planFor(scenario)),
    [STATE.purgeStaleKey]: record(STATE.purgeStaleKey, () => ({ deleted: 'AKIASTALE00000000000', result: 'deleted' })),
    [STATE.createKey]: record(STATE.createKey, () => ({
      accessKeyId: 'AKIANEW0000000000000',
      status: 'Active',
      createDate: '2026-11-27T22:00:00Z',
      sealedSecret: 'c2VhbGVkLXNlY3JldA==',
    })),
    [STATE.deriveSmtpPasswords]: record(STATE.deriveSmtpPasswords, () => ({ regions: ['eu-west-1'], sealedPasswords: 'c2VhbGVkLXNtdHA=' })),
    [STATE.storeSecret]: record(STATE.storeSecret, () => ({
      type: 'secretsManager',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf',
      secretVersionId: 'v-new',
    })),
    [STATE.encryptForPgp]: record(STATE.encryptForPgp, () => ({
      type: 'pgp',
      encryptedSecret: 'wcBMA...',
      encryptedSesSmtpPasswordV4: null,
      encryptedSesSmtpPasswords: {},
      keyFingerprint: '50b79eaab1749c814083747984b6072fccb1de54',
    })),
    [STATE.verifyNewKey]: record(STATE.verifyNewKey, () => ({ callerArn: 'arn:aws:iam::123456789012:user/app-smtp', attempts: 1 })),
    [STATE.promoteSecret]: record(STATE.promoteSecret, () => ({ secretVersionId: 'v-new', previousVersionId: 'v-old' })),
    [STATE.deactivateOldKey]: record(STATE.deactivateOldKey, () => ({ oldKey: { id: 'AKIAOLD0000000000000', status: 'Inactive' } })),
    [STATE.deleteOldKey]: record(STATE.deleteOldKey, () => ({
      id: 'AKIANEW0000000000000',
      userName: 'app-smtp',
      status: 'Active',
      createDate: '2026-11-27T22:00:00Z',
      sesSmtpRegions: pgp ? [] : ['eu-west-1'],
      previousKey: { id: 'AKIAOLD0000000000000', action: 'deleted' },
      rotationId: 'rotation-1',
    })),
    [STATE.rollBack]: record(STATE.rollBack, () => ({ deletedKeys: ['AKIANEW0000000000000'], withdrawnVersion: null })),
    [STATE.releaseLock]: record(STATE.releaseLock, () => ({ deletedKeys: [], withdrawnVersion: null })),
  };
}

interface Run {
  readonly entered: string[];
  readonly output?: Json;
  readonly error?: { name: string; cause: string };
  readonly calls: Record<string, Json[]>;
}

async function execute(input: Json, scenario: Scenario, overrides: Record<string, Handler> = {}, asl: AslDefinition = definition): Promise<Run> {
  const calls: Record<string, Json[]> = {};
  const machine = new StateMachine(asl as unknown as StateMachineDefinition, { validationOptions: { checkArn: true, checkPaths: true } });
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: stubs(scenario, calls, overrides),
      // Waits and retry intervals are asserted on the definition; the run does not sleep.
      waitTimeOverrides: { [STATE.waitGracePeriod]: 0, [STATE.waitDeletionDelay]: 0 },
      retryIntervalOverrides: Object.fromEntries(ALL_TASKS.map((name) => [name, 0])),
    },
    context: { Execution: { Id: 'arn:aws:states:eu-west-1:123456789012:execution:m:rotation-1', Name: 'rotation-1' } } as never,
  });
  const entered: string[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') entered.push(event.state.name);
    }
  })();
  let output: Json | undefined;
  let error: Run['error'];
  try {
    output = (await execution.result) as Json;
  } catch (failure) {
    const cause = (failure as { cause?: { name?: string; message?: string } }).cause;
    error = { name: cause?.name ?? String(failure), cause: cause?.message ?? '' };
  }
  await collect;
  return { entered, output, error, calls };
}

const INPUT: Json = { userName: 'app-smtp', delivery: { type: 'secretsManager', secretId: 'app' } };

// ---- the definition ------------------------------------------------------------------------

describe('rotation state machine definition', () => {
  test('passes asl-validator (schema, transitions, paths, ARNs)', () => {
    // Act
    const result = aslValidator(JSON.parse(JSON.stringify(definition)), { checkPaths: true, checkArn: true });

    // Assess
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('is a Standard workflow in JSONPath (the local engine runs JSONPath only)', () => {
    built.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
    });
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(JSON.stringify(definition)).not.toMatch(/\{%/);
  });

  test('has exactly the states of docs/internals.md, starting at Plan', () => {
    expect(definition.StartAt).toBe(STATE.plan);
    expect(Object.keys(definition.States).sort()).toEqual(Object.values(STATE).sort());
  });

  test('each Task invokes its own Lambda by ARN (payload response only)', () => {
    // Prepare
    const expected: Record<string, string> = {
      [STATE.plan]: 'plan',
      [STATE.purgeStaleKey]: 'purgeStaleKey',
      [STATE.createKey]: 'createKey',
      [STATE.deriveSmtpPasswords]: 'deriveSmtpPasswords',
      [STATE.storeSecret]: 'storeSecret',
      [STATE.encryptForPgp]: 'encryptForPgp',
      [STATE.verifyNewKey]: 'verifyNewKey',
      [STATE.promoteSecret]: 'promoteSecret',
      [STATE.deactivateOldKey]: 'retireOldKey',
      [STATE.deleteOldKey]: 'retireOldKey',
      [STATE.rollBack]: 'rollBack',
      [STATE.releaseLock]: 'rollBack',
    };
    const stack = built.stack;

    // Act / Assess
    for (const [stateName, fnName] of Object.entries(expected)) {
      const resource = state(stateName).Resource as string;
      expect(resource).not.toMatch(/^arn:aws:states:::lambda:invoke/);
      const fn = built.rotation.functions[fnName as keyof typeof STATE_MACHINE_LAMBDAS];
      expect(functionsByResource[resource]).toBe(stack.getLogicalId(fn.node.defaultChild as never));
    }
  });

  test('each Task passes and stores what docs/internals.md says', () => {
    const plan = { 'plan.$': '$.plan' };
    expect(state(STATE.plan)).toMatchObject({
      Parameters: { 'input.$': '$', 'rotationId.$': '$$.Execution.Name' },
      ResultSelector: { 'plan.$': '$' },
    });
    // ResultPath "$" is the default; written by omission (see rotation-state-machine.ts).
    expect(state(STATE.plan).ResultPath).toBeUndefined();
    expect(state(STATE.purgeStaleKey)).toMatchObject({ Parameters: plan, ResultPath: null });
    expect(state(STATE.createKey)).toMatchObject({ Parameters: plan, ResultPath: '$.newKey' });
    expect(state(STATE.deriveSmtpPasswords)).toMatchObject({ Parameters: { ...plan, 'newKey.$': '$.newKey' }, ResultPath: '$.smtp' });
    // The whole state { plan, newKey, smtp? } is the payload: `smtp` may be absent.
    expect(state(STATE.storeSecret).Parameters).toBeUndefined();
    expect(state(STATE.storeSecret).ResultPath).toBe('$.delivery');
    expect(state(STATE.encryptForPgp).Parameters).toBeUndefined();
    expect(state(STATE.encryptForPgp).ResultPath).toBe('$.delivery');
    expect(state(STATE.verifyNewKey)).toMatchObject({ Parameters: { ...plan, 'newKey.$': '$.newKey' }, ResultPath: '$.verification' });
    expect(state(STATE.promoteSecret)).toMatchObject({ Parameters: { ...plan, 'delivery.$': '$.delivery' }, ResultPath: '$.promotion' });
    expect(state(STATE.deactivateOldKey)).toMatchObject({
      Parameters: { step: 'deactivate', ...plan, 'newKey.$': '$.newKey', 'delivery.$': '$.delivery' },
    });
    expect(state(STATE.deleteOldKey)).toMatchObject({
      Parameters: { step: 'finish', ...plan, 'newKey.$': '$.newKey', 'delivery.$': '$.delivery' },
      End: true,
    });
    expect(state(STATE.deleteOldKey).ResultPath).toBeUndefined();
    expect(state(STATE.releaseLock)).toMatchObject({
      Parameters: { mode: 'release', ...plan, 'newKey.$': '$.newKey', 'delivery.$': '$.delivery', 'error.$': '$.error' },
    });
    expect(state(STATE.prepareRollBack)).toMatchObject({ Type: 'Pass', Result: 'rollback', ResultPath: '$.mode', Next: STATE.rollBack });
    expect(state(STATE.rollBack).Parameters).toBeUndefined();
  });

  test('grace period and deletion delay are Wait states driven by the plan (no Lambda waits)', () => {
    expect(state(STATE.waitGracePeriod)).toMatchObject({ Type: 'Wait', SecondsPath: '$.plan.oldKey.gracePeriodSeconds', Next: STATE.deactivateOldKey });
    expect(state(STATE.waitDeletionDelay)).toMatchObject({ Type: 'Wait', SecondsPath: '$.plan.oldKey.deletionDelaySeconds', Next: STATE.deleteOldKey });
  });

  test('every Task retries transient AWS errors, Lambda service errors and timeouts with backoff and full jitter', () => {
    for (const name of ALL_TASKS) {
      expect(state(name).Retry).toEqual(
        expect.arrayContaining([
          {
            ErrorEquals: ['TransientAwsError', ...LAMBDA_SERVICE_ERRORS, ...LAMBDA_TIMEOUT_ERRORS, ...LAMBDA_CRASH_ERRORS],
            IntervalSeconds: 2,
            BackoffRate: 2,
            MaxAttempts: 6,
            JitterStrategy: 'FULL',
          },
        ]),
      );
    }
  });

  test('VerifyNewKey retries KeyNotPropagatedError with its own policy, before the generic one', () => {
    const retry = state(STATE.verifyNewKey).Retry ?? [];
    expect(retry[0]).toEqual({
      ErrorEquals: ['KeyNotPropagatedError'],
      IntervalSeconds: 5,
      BackoffRate: 1.5,
      MaxAttempts: 8,
      MaxDelaySeconds: 30,
      JitterStrategy: 'NONE',
    });
  });

  test('DeactivateOldKey re-checks a recently used old key at the configured interval', () => {
    expect((state(STATE.deactivateOldKey).Retry ?? [])[0]).toEqual({
      ErrorEquals: ['OldKeyRecentlyUsedError'],
      IntervalSeconds: 3600,
      BackoffRate: 1,
      MaxAttempts: 24,
      JitterStrategy: 'NONE',
    });
  });

  test('the re-check interval and count come from the props', () => {
    // Prepare
    const custom = buildStack((secret) => ({ ...typicalProps(secret), oldKeyRecheckInterval: Duration.minutes(15), oldKeyMaxRechecks: 96 }));

    // Act
    const { definition: customDefinition } = definitionFromTemplate(custom.template.toJSON() as never);

    // Assess
    expect(customDefinition.States[STATE.deactivateOldKey]?.Retry?.[0]).toMatchObject({ IntervalSeconds: 900, MaxAttempts: 96 });
  });

  test('every transient error name is retried where it can be raised; no terminal error is retried', () => {
    const retried = new Set(Object.values(definition.States).flatMap((s) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals)));
    for (const name of TRANSIENT_ERROR_NAMES) expect(retried).toContain(name);
    for (const name of ['States.ALL', 'States.TaskFailed', 'ValidationError', 'VerificationFailedError', 'OldKeyInUseError']) {
      expect(retried).not.toContain(name);
    }
  });

  test('failures before delivery roll back; failures after promotion only release the lock; Plan is not caught', () => {
    for (const name of TASKS_BEFORE_DELIVERY) {
      expect(state(name).Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: STATE.prepareRollBack, ResultPath: '$.error' }]);
    }
    for (const name of TASKS_AFTER_PROMOTION) {
      expect(state(name).Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: STATE.releaseLock, ResultPath: '$.error' }]);
    }
    expect(state(STATE.plan).Catch).toBeUndefined();
    expect(state(STATE.rotationFailed)).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(state(STATE.rollBack)).toMatchObject({
      Next: STATE.rotationFailed,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: STATE.rollBackFailed, ResultPath: '$.rollBackError' }],
    });
    expect(state(STATE.releaseLock)).toMatchObject({
      Next: STATE.rotationFailed,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: STATE.rotationFailed, ResultPath: '$.releaseLockError' }],
    });
  });

  test('execution history is encrypted with the construct key; logs exclude execution data; X-Ray is on', () => {
    built.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: Match.anyValue() },
      LoggingConfiguration: { IncludeExecutionData: false, Level: 'ALL', Destinations: Match.anyValue() },
      TracingConfiguration: { Enabled: true },
    });
  });
});

// ---- executions on the local engine ------------------------------------------------------

describe('rotation state machine on the local engine', () => {
  test('a plain rotation (Secrets Manager, one SES region, grace 0, delete) enters at most 14 states', async () => {
    // Act
    const run = await execute(INPUT, { delivery: 'secretsManager', sesSmtpRegions: ['eu-west-1'] });

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.entered).toEqual([
      STATE.plan,
      STATE.route,
      STATE.createKey,
      STATE.needSmtpPasswords,
      STATE.deriveSmtpPasswords,
      STATE.chooseDelivery,
      STATE.storeSecret,
      STATE.verifyNewKey,
      STATE.needPromotion,
      STATE.promoteSecret,
      STATE.waitGracePeriod,
      STATE.deactivateOldKey,
      STATE.waitDeletionDelay,
      STATE.deleteOldKey,
    ]);
    expect(run.entered.length).toBeLessThanOrEqual(14);
    expect(run.output).toMatchObject({ id: 'AKIANEW0000000000000', previousKey: { action: 'deleted' } });
  });

  test('Lambdas receive the payloads of the contract', async () => {
    // Act
    const { calls } = await execute(INPUT, { delivery: 'secretsManager' });

    // Assess
    expect(calls[STATE.plan]).toEqual([{ input: INPUT, rotationId: 'rotation-1' }]);
    expect(Object.keys(calls[STATE.createKey]?.[0] as object)).toEqual(['plan']);
    expect(Object.keys(calls[STATE.storeSecret]?.[0] as object).sort()).toEqual(['newKey', 'plan', 'smtp']);
    expect(calls[STATE.deactivateOldKey]?.[0]).toMatchObject({ step: 'deactivate', plan: {}, newKey: {}, delivery: { secretVersionId: 'v-new' } });
    expect(calls[STATE.deleteOldKey]?.[0]).toMatchObject({ step: 'finish', plan: {}, newKey: {}, delivery: {} });
  });

  test('PGP delivery without SES regions skips DeriveSmtpPasswords and PromoteSecret; smtp is absent', async () => {
    // Act
    const run = await execute(INPUT, { delivery: 'pgp', sesSmtpRegions: [] });

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.entered).toContain(STATE.encryptForPgp);
    expect(run.entered).not.toContain(STATE.deriveSmtpPasswords);
    expect(run.entered).not.toContain(STATE.storeSecret);
    expect(run.entered).not.toContain(STATE.promoteSecret);
    expect(Object.keys(run.calls[STATE.encryptForPgp]?.[0] as object).sort()).toEqual(['newKey', 'plan']);
  });

  test('a stale Inactive key is purged before CreateKey', async () => {
    const run = await execute(INPUT, { staleAccessKeyId: 'AKIASTALE00000000000' });

    expect(run.entered.slice(0, 4)).toEqual([STATE.plan, STATE.route, STATE.purgeStaleKey, STATE.createKey]);
  });

  test('a dry run stops after Plan with the plan as output and changes nothing', async () => {
    // Act
    const run = await execute({ ...(INPUT as object), dryRun: true }, { dryRun: true });

    // Assess
    expect(run.entered).toEqual([STATE.plan, STATE.route, STATE.dryRunSucceeded]);
    expect(run.output).toEqual(planFor({ dryRun: true }));
    expect(Object.keys(run.calls)).toEqual([STATE.plan]);
  });

  test('a failure before delivery rolls back (without newKey when CreateKey failed) and fails with the typed error', async () => {
    // Act
    const run = await execute(INPUT, {}, {
      [STATE.createKey]: () => {
        throw new NamedError('RotationLockLostError', 'rotation rotation-1 no longer holds the lock');
      },
    });

    // Assess
    expect(run.entered.slice(-3)).toEqual([STATE.prepareRollBack, STATE.rollBack, STATE.rotationFailed]);
    expect(run.calls[STATE.rollBack]?.[0]).toMatchObject({ mode: 'rollback', plan: {}, error: { Error: 'RotationLockLostError' } });
    expect(run.calls[STATE.rollBack]?.[0]).not.toHaveProperty('newKey');
    expect(run.error?.name).toBe('RotationLockLostError');
    expect(run.calls[STATE.createKey]).toHaveLength(1);
  });

  test('a verification failure rolls back with the new key and the delivery', async () => {
    const run = await execute(INPUT, {}, {
      [STATE.verifyNewKey]: () => {
        throw new NamedError('VerificationFailedError');
      },
    });

    expect(run.calls[STATE.rollBack]?.[0]).toMatchObject({
      mode: 'rollback',
      newKey: { accessKeyId: 'AKIANEW0000000000000' },
      delivery: { type: 'secretsManager' },
    });
    expect(run.entered).not.toContain(STATE.deactivateOldKey);
    expect(run.error?.name).toBe('VerificationFailedError');
  });

  test('a failure after promotion releases the lock, rolls nothing back and fails with the typed error', async () => {
    const run = await execute(INPUT, {}, {
      [STATE.deactivateOldKey]: () => {
        throw new NamedError('OldKeyInUseError');
      },
    });

    expect(run.entered.slice(-2)).toEqual([STATE.releaseLock, STATE.rotationFailed]);
    expect(run.entered).not.toContain(STATE.rollBack);
    expect(run.calls[STATE.releaseLock]?.[0]).toMatchObject({ mode: 'release', error: { Error: 'OldKeyInUseError' } });
    expect(run.error?.name).toBe('OldKeyInUseError');
  });

  test('a Lambda timeout is retried like a transient error (the steps are idempotent)', async () => {
    let timeouts = 1;
    const run = await execute(INPUT, {}, {
      [STATE.verifyNewKey]: () => {
        if (timeouts-- > 0) throw new NamedError('Sandbox.Timedout', 'Task timed out after 60.00 seconds');
        return { callerArn: 'arn:aws:iam::123456789012:user/app-smtp', attempts: 3 };
      },
    });

    expect(run.error).toBeUndefined();
    expect(run.calls[STATE.verifyNewKey]).toHaveLength(2);
  });

  test('a crashed Lambda process (Runtime.ExitError) is retried: the step converges on a re-run', async () => {
    let crashes = 1;
    const run = await execute(INPUT, {}, {
      [STATE.storeSecret]: () => {
        if (crashes-- > 0) throw new NamedError('Runtime.ExitError', 'RequestId: 1 Error: Runtime exited with error: signal: killed');
        return { type: 'secretsManager', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf', secretVersionId: 'v-new' };
      },
    });

    expect(run.error).toBeUndefined();
    expect(run.calls[STATE.storeSecret]).toHaveLength(2);
  });

  test('a PromoteSecret failure rolls back (nothing is delivered until AWSCURRENT moves)', async () => {
    const run = await execute(INPUT, {}, {
      [STATE.promoteSecret]: () => {
        throw new NamedError('AccessDeniedError');
      },
    });

    expect(run.entered.slice(-3)).toEqual([STATE.prepareRollBack, STATE.rollBack, STATE.rotationFailed]);
    expect(run.error?.name).toBe('AccessDeniedError');
  });

  test('a transient error is retried and the rotation goes on', async () => {
    // Prepare
    let failures = 1;

    // Act
    const run = await execute(INPUT, {}, {
      [STATE.createKey]: () => {
        if (failures-- > 0) throw new NamedError('TransientAwsError');
        return { accessKeyId: 'AKIANEW0000000000000', status: 'Active', createDate: '2026-11-27T22:00:00Z', sealedSecret: 'x' };
      },
    });

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.calls[STATE.createKey]).toHaveLength(2);
  });

  test('a recently used old key is re-checked oldKeyMaxRechecks times, then the lock is released', async () => {
    const run = await execute(INPUT, {}, {
      [STATE.deactivateOldKey]: () => {
        throw new NamedError('OldKeyRecentlyUsedError');
      },
    });

    expect(run.calls[STATE.deactivateOldKey]).toHaveLength(1 + 24);
    expect(run.entered.slice(-2)).toEqual([STATE.releaseLock, STATE.rotationFailed]);
    expect(run.error?.name).toBe('OldKeyRecentlyUsedError');
  });

  test('a failed RollBack ends in RollBackFailed with its own error', async () => {
    const run = await execute(INPUT, {}, {
      [STATE.storeSecret]: () => {
        throw new NamedError('SecretNotFoundError');
      },
      [STATE.rollBack]: () => {
        throw new NamedError('AccessDeniedError');
      },
    });

    expect(run.entered.slice(-1)).toEqual([STATE.rollBackFailed]);
    expect(run.error?.name).toBe('AccessDeniedError');
  });

  test('Plan errors fail the execution as they are, with nothing to roll back', async () => {
    const run = await execute(INPUT, {}, {
      [STATE.plan]: () => {
        throw new NamedError('ValidationError', "invalid delivery.type: must be 'secretsManager' or 'pgp'");
      },
    });

    expect(run.entered).toEqual([STATE.plan]);
    expect(run.error?.name).toBe('ValidationError');
    expect(run.calls[STATE.plan]).toHaveLength(1);
  });
});

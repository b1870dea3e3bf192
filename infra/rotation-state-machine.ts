/**
 * The rotation state machine (docs/internals.md "The state machine"): Standard workflow,
 * JSONPath, one Lambda per step, states named as in the design so the console graph reads
 * like it. JSONPath, not JSONata, because the local engine (aws-local-stepfunctions) runs
 * JSONPath only.
 *
 * Only references and KMS ciphertext travel in the state (guarantee "no plaintext secrets"): the Lambdas
 * return `NewKeyRef`, `SmtpPasswordsRef`, `DeliveryResult`, never a plaintext secret.
 */
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { TRANSIENT_ERROR_NAMES } from '../lambdas/core/errors';
import type { StateMachineLambdaName } from './bundling';

/** State names: part of the contract with the local engine, the CLI and the docs. */
export const STATE = {
  plan: 'Plan',
  route: 'Route',
  dryRunSucceeded: 'DryRunSucceeded',
  purgeStaleKey: 'PurgeStaleKey',
  createKey: 'CreateKey',
  needSmtpPasswords: 'NeedSmtpPasswords',
  deriveSmtpPasswords: 'DeriveSmtpPasswords',
  chooseDelivery: 'ChooseDelivery',
  storeSecret: 'StoreSecret',
  encryptForPgp: 'EncryptForPgp',
  verifyNewKey: 'VerifyNewKey',
  needPromotion: 'NeedPromotion',
  promoteSecret: 'PromoteSecret',
  waitGracePeriod: 'WaitGracePeriod',
  deactivateOldKey: 'DeactivateOldKey',
  waitDeletionDelay: 'WaitDeletionDelay',
  deleteOldKey: 'DeleteOldKey',
  prepareRollBack: 'PrepareRollBack',
  rollBack: 'RollBack',
  releaseLock: 'ReleaseLock',
  rotationFailed: 'RotationFailed',
  rollBackFailed: 'RollBackFailed',
} as const;

/**
 * Errors a Lambda invocation itself can raise (not the function's own errors): retried like
 * throttling, because the same invocation may succeed a moment later.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * A Lambda that ran out of time (Lambda reports `Sandbox.Timedout`; `States.Timeout` if a Task
 * timeout is ever set). Retried like a transient error: every step is idempotent, so running it
 * again converges (CreateKey deletes the orphan of an interrupted attempt).
 */
export const LAMBDA_TIMEOUT_ERRORS = ['Sandbox.Timedout', 'States.Timeout'] as const;

/**
 * The function's process died (out of memory, a crash) before it answered. Retried like a
 * timeout: the step may or may not have made its change, and every step converges on a re-run.
 */
export const LAMBDA_CRASH_ERRORS = ['Runtime.ExitError'] as const;

const [TRANSIENT_AWS, KEY_NOT_PROPAGATED, OLD_KEY_RECENTLY_USED] = TRANSIENT_ERROR_NAMES;

export interface RotationDefinitionProps {
  /** One function per state machine Lambda. */
  readonly functions: Readonly<Record<StateMachineLambdaName, IFunction>>;
  /** How long DeactivateOldKey waits before re-checking a recently used old key. */
  readonly oldKeyRecheckInterval: Duration;
  /** How many re-checks before the rotation stops with both keys Active. */
  readonly oldKeyMaxRechecks: number;
}

/**
 * Builds the rotation graph under `scope` (a construct that only holds the states) and returns
 * its start state.
 */
export function buildRotationDefinition(scope: Construct, props: RotationDefinitionProps): sfn.IChainable {
  const s = new Construct(scope, 'States');
  const fn = props.functions;

  // Transient AWS errors, Lambda service errors and timeouts: the same call can succeed later. Full
  // jitter spreads the retries of rotations started together by schedules at the same minute.
  const retryTransient = (task: sfn.TaskStateBase): void => {
    task.addRetry({
      errors: [TRANSIENT_AWS, ...LAMBDA_SERVICE_ERRORS, ...LAMBDA_TIMEOUT_ERRORS, ...LAMBDA_CRASH_ERRORS],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      jitterStrategy: sfn.JitterType.FULL,
    });
  };

  // `resultPath: '$'` (replace the state with the result) is written by omitting ResultPath:
  // the same in Step Functions (it is the default), and aws-local-stepfunctions 3.0 mishandles
  // an explicit "$" (it stores the result under a key named "$").
  const invoke = (
    id: string,
    lambda: IFunction,
    payload: Record<string, unknown> | undefined,
    resultPath: string | null,
  ): tasks.LambdaInvoke => {
    const task = new tasks.LambdaInvoke(s, id, {
      lambdaFunction: lambda,
      // Resource = the function ARN: the result is the function's own payload, no envelope.
      payloadResponseOnly: true,
      // Replaced by retryTransient, which adds full jitter and the transient error names.
      retryOnServiceExceptions: false,
      payload: payload === undefined ? undefined : sfn.TaskInput.fromObject(payload),
      resultPath: resultPath === null ? sfn.JsonPath.DISCARD : resultPath === '$' ? undefined : resultPath,
    });
    return task;
  };

  const plan$ = { plan: sfn.JsonPath.objectAt('$.plan') };
  const newKey$ = { newKey: sfn.JsonPath.objectAt('$.newKey') };
  const delivery$ = { delivery: sfn.JsonPath.objectAt('$.delivery') };

  // ---- terminal states ---------------------------------------------------------------------
  const rotationFailed = new sfn.Fail(s, STATE.rotationFailed, {
    comment: 'The typed error of the step that failed (the class name is the error type).',
    errorPath: '$.error.Error',
    causePath: '$.error.Cause',
  });
  const rollBackFailed = new sfn.Fail(s, STATE.rollBackFailed, {
    comment: 'RollBack itself failed: the new key may still exist; the old key is untouched.',
    errorPath: '$.rollBackError.Error',
    causePath: '$.rollBackError.Cause',
  });
  const dryRunSucceeded = new sfn.Succeed(s, STATE.dryRunSucceeded, {
    comment: 'Dry run: the plan is the output; nothing was changed.',
    outputPath: '$.plan',
  });

  // ---- failure paths -----------------------------------------------------------------------
  // RollBack reads `{ mode, plan, newKey?, delivery?, error }`. JSONPath Parameters cannot name
  // a field that may be absent (States.Runtime), and newKey/delivery are absent when CreateKey
  // or delivery failed, so the mode is added to the state and the whole state is passed.
  const prepareRollBack = new sfn.Pass(s, STATE.prepareRollBack, {
    comment: 'Marks the state for RollBack: { mode: "rollback" } beside plan, newKey?, delivery?, error.',
    result: sfn.Result.fromString('rollback'),
    resultPath: '$.mode',
  });
  const rollBack = invoke(STATE.rollBack, fn.rollBack, undefined, '$.rollBack');
  retryTransient(rollBack);
  rollBack.addCatch(rollBackFailed, { errors: [sfn.Errors.ALL], resultPath: '$.rollBackError' });
  prepareRollBack.next(rollBack);
  rollBack.next(rotationFailed);

  // After promotion every field exists, so ReleaseLock names them explicitly.
  const releaseLock = invoke(
    STATE.releaseLock,
    fn.rollBack,
    { mode: 'release', ...plan$, ...newKey$, ...delivery$, error: sfn.JsonPath.objectAt('$.error') },
    '$.releaseLock',
  );
  retryTransient(releaseLock);
  // The lock also expires on its own (plan.lockExpiresAt): report the rotation's error.
  releaseLock.addCatch(rotationFailed, { errors: [sfn.Errors.ALL], resultPath: '$.releaseLockError' });
  releaseLock.next(rotationFailed);

  const beforeDelivery = (task: sfn.TaskStateBase): void => {
    task.addCatch(prepareRollBack, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  };
  const afterPromotion = (task: sfn.TaskStateBase): void => {
    task.addCatch(releaseLock, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  };

  // ---- the happy path ----------------------------------------------------------------------
  const planTask = new tasks.LambdaInvoke(s, STATE.plan, {
    lambdaFunction: fn.plan,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    // The execution name is the rotation id: the lock owner and the idempotency token.
    payload: sfn.TaskInput.fromObject({
      input: sfn.JsonPath.entirePayload,
      rotationId: sfn.JsonPath.executionName,
    }),
    // The state becomes { plan } (ResultPath "$", the default, see `invoke`).
    resultSelector: { plan: sfn.JsonPath.entirePayload },
  });
  retryTransient(planTask);
  // No Catch: Plan changes nothing, its typed error fails the execution as is.

  const purgeStaleKey = invoke(STATE.purgeStaleKey, fn.purgeStaleKey, { ...plan$ }, null);
  const createKey = invoke(STATE.createKey, fn.createKey, { ...plan$ }, '$.newKey');
  const deriveSmtpPasswords = invoke(
    STATE.deriveSmtpPasswords,
    fn.deriveSmtpPasswords,
    { ...plan$, ...newKey$ },
    '$.smtp',
  );
  // The whole state is `{ plan, newKey, smtp? }` here; passing it as is lets `smtp` be absent
  // (no SES region asked for) without a JSONPath error.
  const storeSecret = invoke(STATE.storeSecret, fn.storeSecret, undefined, '$.delivery');
  const encryptForPgp = invoke(STATE.encryptForPgp, fn.encryptForPgp, undefined, '$.delivery');
  const verifyNewKey = invoke(STATE.verifyNewKey, fn.verifyNewKey, { ...plan$, ...newKey$ }, '$.verification');
  const promoteSecret = invoke(STATE.promoteSecret, fn.promoteSecret, { ...plan$, ...delivery$ }, '$.promotion');
  const deactivateOldKey = invoke(
    STATE.deactivateOldKey,
    fn.retireOldKey,
    { step: 'deactivate', ...plan$, ...newKey$, ...delivery$ },
    '$.deactivation',
  );
  // The last step returns RotationOutput, which becomes the execution output (ResultPath $).
  const deleteOldKey = invoke(
    STATE.deleteOldKey,
    fn.retireOldKey,
    { step: 'finish', ...plan$, ...newKey$, ...delivery$ },
    '$',
  );

  // IAM is eventually consistent: a new key typically authenticates after 5-15 s. Each
  // invocation already retries for KEYROTATE_VERIFY_SECONDS; this retrier adds spaced-out
  // attempts up to a deadline. No jitter: nothing competes here, jitter would only shorten the
  // guaranteed total wait (5 + 7.5 + 11.25 + 16.9 + 25.3 + 30 + 30 + 30 s ≈ 156 s).
  verifyNewKey.addRetry({
    errors: [KEY_NOT_PROPAGATED],
    interval: Duration.seconds(5),
    backoffRate: 1.5,
    maxAttempts: 8,
    maxDelay: Duration.seconds(30),
    jitterStrategy: sfn.JitterType.NONE,
  });
  // The old key was used within requireUnusedSeconds: wait and re-check, at a fixed interval.
  // When the re-checks run out the Catch releases the lock and fails; both keys stay Active.
  deactivateOldKey.addRetry({
    errors: [OLD_KEY_RECENTLY_USED],
    interval: props.oldKeyRecheckInterval,
    backoffRate: 1,
    maxAttempts: props.oldKeyMaxRechecks,
    jitterStrategy: sfn.JitterType.NONE,
  });

  // PromoteSecret too: until AWSCURRENT has moved nothing is delivered, so a failure there rolls
  // back; RollBack itself keeps everything once this rotation's version is AWSCURRENT.
  for (const task of [purgeStaleKey, createKey, deriveSmtpPasswords, storeSecret, encryptForPgp, verifyNewKey, promoteSecret]) {
    retryTransient(task);
    beforeDelivery(task);
  }
  for (const task of [deactivateOldKey, deleteOldKey]) {
    retryTransient(task);
    afterPromotion(task);
  }

  const waitGracePeriod = new sfn.Wait(s, STATE.waitGracePeriod, {
    comment: 'Consumers pick up the new key; no Lambda waits (a rotation may span days).',
    time: sfn.WaitTime.secondsPath('$.plan.oldKey.gracePeriodSeconds'),
  });
  const waitDeletionDelay = new sfn.Wait(s, STATE.waitDeletionDelay, {
    comment: 'The old key stays Inactive (restorable) before it is deleted.',
    time: sfn.WaitTime.secondsPath('$.plan.oldKey.deletionDelaySeconds'),
  });

  const chooseDelivery = new sfn.Choice(s, STATE.chooseDelivery)
    .when(sfn.Condition.stringEquals('$.plan.delivery.type', 'pgp'), encryptForPgp)
    .otherwise(storeSecret);
  const needSmtpPasswords = new sfn.Choice(s, STATE.needSmtpPasswords)
    .when(sfn.Condition.isPresent('$.plan.sesSmtpRegions[0]'), deriveSmtpPasswords)
    .otherwise(chooseDelivery);
  const needPromotion = new sfn.Choice(s, STATE.needPromotion)
    .when(sfn.Condition.stringEquals('$.delivery.type', 'secretsManager'), promoteSecret)
    .otherwise(waitGracePeriod);
  const route = new sfn.Choice(s, STATE.route)
    .when(sfn.Condition.booleanEquals('$.plan.dryRun', true), dryRunSucceeded)
    .when(
      sfn.Condition.and(
        sfn.Condition.isPresent('$.plan.staleAccessKeyId'),
        sfn.Condition.isString('$.plan.staleAccessKeyId'),
      ),
      purgeStaleKey,
    )
    .otherwise(createKey);

  purgeStaleKey.next(createKey);
  createKey.next(needSmtpPasswords);
  deriveSmtpPasswords.next(chooseDelivery);
  storeSecret.next(verifyNewKey);
  encryptForPgp.next(verifyNewKey);
  verifyNewKey.next(needPromotion);
  promoteSecret.next(waitGracePeriod);
  waitGracePeriod.next(deactivateOldKey);
  deactivateOldKey.next(waitDeletionDelay);
  waitDeletionDelay.next(deleteOldKey);

  return sfn.Chain.start(planTask).next(route);
}

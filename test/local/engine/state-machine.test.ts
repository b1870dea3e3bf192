import path from 'node:path';
import { causeMessage, type ExecutionEvent } from '../../../local/engine/events';
import { type LocalFunction, LocalLambdaRuntime } from '../../../local/engine/lambda-runtime';
import { LocalStateMachine, MissingTaskHandlerError } from '../../../local/engine/state-machine';

const ACCOUNT = '000000000000';
const arn = (name: string) => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${name}`;
const SM_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:Fixture`;

describe('LocalStateMachine', () => {
  let runtime: LocalLambdaRuntime;
  let functions: Map<string, LocalFunction>;

  beforeEach(() => {
    runtime = new LocalLambdaRuntime({ baseEnvironment: { AWS_REGION: 'eu-west-1' } });
    functions = new Map();
    for (const handler of ['add', 'fail', 'flaky', 'echo']) {
      const fn = runtime.register({
        name: handler,
        arn: arn(handler),
        codeDirectory: path.join(__dirname, 'fixtures', 'functions'),
        handler: `handlers.${handler}`,
        environment: {},
        timeoutSeconds: 10,
        memorySizeMb: 128,
      });
      functions.set(arn(handler), fn);
    }
  });

  afterEach(async () => {
    await runtime.stop();
  });

  it('runs Tasks on the local functions, with overridden waits, and reports events and counts', async () => {
    // Prepare
    const machine = new LocalStateMachine({
      stateMachineArn: SM_ARN,
      functions,
      waits: { allMs: 10 },
      definition: {
        StartAt: 'First',
        States: {
          First: { Type: 'Task', Resource: arn('add'), ResultPath: '$.first', Next: 'Route' },
          Route: { Type: 'Choice', Choices: [{ Variable: '$.first.value', NumericEquals: 2, Next: 'Pause' }], Default: 'Nope' },
          Pause: { Type: 'Wait', Seconds: 3600, Next: 'Second' },
          Second: { Type: 'Task', Resource: arn('add'), InputPath: '$.first', End: true },
          Nope: { Type: 'Fail', Error: 'Wrong' },
        },
      },
    });
    const events: ExecutionEvent[] = [];

    // Act
    const execution = machine.start({ value: 1 }, { onEvent: (e) => events.push(e) });
    const result = await execution.result;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    if (result.status !== 'SUCCEEDED') return;
    expect(result.output).toMatchObject({ value: 3 });
    expect(result.stats).toMatchObject({ statesEntered: 4, stateTransitions: 4, lambdaInvocations: 2 });
    expect(result.stats.durationMs).toBeLessThan(3000);
    const entered = events.filter((e) => e.type === 'StateEntered').map((e) => (e.type === 'StateEntered' ? e.stateName : ''));
    expect(entered).toEqual(['First', 'Route', 'Pause', 'Second']);
    expect(events[0]?.type).toBe('ExecutionStarted');
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
    const exited = events.find((e) => e.type === 'StateExited' && e.stateName === 'Pause');
    expect(exited).toMatchObject({ stateType: 'Wait', durationMs: expect.any(Number) });
    expect(execution.history).toEqual(events);
    expect(execution.invocations.map((i) => i.stateName)).toEqual(['First', 'Second']);
  });

  it('retries a Task by the error name the function threw', async () => {
    // Prepare
    const machine = new LocalStateMachine({
      stateMachineArn: SM_ARN,
      functions,
      retryIntervalMs: 5,
      definition: {
        StartAt: 'Flaky',
        States: {
          Flaky: {
            Type: 'Task',
            Resource: arn('flaky'),
            Retry: [{ ErrorEquals: ['TransientAwsError'], IntervalSeconds: 60, MaxAttempts: 3 }],
            End: true,
          },
        },
      },
    });

    // Act
    const execution = machine.start({ failures: 2 });
    const result = await execution.result;

    // Assess
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { calls: 3 } });
    expect(result.stats).toMatchObject({ statesEntered: 1, stateTransitions: 3, lambdaInvocations: 3 });
    expect(execution.history.filter((e) => e.type === 'StateRetried')).toHaveLength(2);
  });

  it('does not retry an error of another name, and catches it by name with the Lambda cause', async () => {
    // Prepare
    const machine = new LocalStateMachine({
      stateMachineArn: SM_ARN,
      functions,
      definition: {
        StartAt: 'Verify',
        States: {
          Verify: {
            Type: 'Task',
            Resource: arn('fail'),
            Retry: [{ ErrorEquals: ['TransientAwsError'], MaxAttempts: 3 }],
            Catch: [{ ErrorEquals: ['KeyNotPropagatedError'], ResultPath: '$.error', Next: 'Failed' }],
            End: true,
          },
          Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
        },
      },
    });

    // Act
    const execution = machine.start({ accessKeyId: 'AKIAEXAMPLE' });
    const result = await execution.result;

    // Assess
    expect(result.status).toBe('FAILED');
    if (result.status !== 'FAILED') return;
    expect(result.error).toBe('KeyNotPropagatedError');
    expect(JSON.parse(result.cause)).toEqual({
      errorType: 'KeyNotPropagatedError',
      errorMessage: 'new access key AKIAEXAMPLE is not accepted by STS yet',
    });
    expect(causeMessage(result.cause)).toBe('new access key AKIAEXAMPLE is not accepted by STS yet');
    expect(result.stats.lambdaInvocations).toBe(1);
    expect(execution.history.find((e) => e.type === 'StateCaught')).toMatchObject({ stateName: 'Verify', error: 'KeyNotPropagatedError' });
    expect(execution.history.at(-1)).toMatchObject({ type: 'ExecutionFailed', error: 'KeyNotPropagatedError' });
  });

  it('provides $$.Execution and $$.StateMachine values through the context object', async () => {
    // Prepare
    const machine = new LocalStateMachine({
      stateMachineArn: SM_ARN,
      functions,
      definition: {
        StartAt: 'Echo',
        States: {
          Echo: {
            Type: 'Task',
            Resource: arn('echo'),
            Parameters: { 'name.$': '$$.Execution.Name', 'id.$': '$$.Execution.Id', 'start.$': '$$.Execution.StartTime', 'input.$': '$$.Execution.Input', 'sm.$': '$$.StateMachine.Name' },
            OutputPath: '$.event',
            End: true,
          },
        },
      },
    });

    // Act
    const execution = machine.start({ userName: 'alice' }, { name: 'rotation-42' });
    const result = await execution.result;

    // Assess
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        name: 'rotation-42',
        id: `arn:aws:states:eu-west-1:${ACCOUNT}:execution:Fixture:rotation-42`,
        start: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        input: { userName: 'alice' },
        sm: 'Fixture',
      },
    });
    expect(execution.executionArn).toBe(`arn:aws:states:eu-west-1:${ACCOUNT}:execution:Fixture:rotation-42`);
  });

  it('supports the lambda:invoke integration (Payload in, Payload out)', async () => {
    // Prepare
    const machine = new LocalStateMachine({
      stateMachineArn: SM_ARN,
      functions,
      definition: {
        StartAt: 'Invoke',
        States: {
          Invoke: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: arn('add'), 'Payload.$': '$' },
            ResultSelector: { 'value.$': '$.Payload.value', 'status.$': '$.StatusCode' },
            End: true,
          },
        },
      },
    });

    // Act
    const result = await machine.start({ value: 41 }).result;

    // Assess
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { value: 42, status: 200 } });
  });

  it('fails when a Task calls a function the engine does not have', () => {
    // Prepare
    const definition = {
      StartAt: 'Unknown',
      States: { Unknown: { Type: 'Task', Resource: arn('not-registered'), End: true } },
    };

    // Act
    const act = () => new LocalStateMachine({ stateMachineArn: SM_ARN, functions, definition });

    // Assess
    expect(act).toThrow(MissingTaskHandlerError);
    expect(act).toThrow(`Task state 'Unknown' has no local handler (Resource ${arn('not-registered')})`);
  });

  it('fails when a Task uses a service integration other than Lambda, even inside a Parallel branch', () => {
    // Prepare
    const definition = {
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Parallel',
          End: true,
          Branches: [
            {
              StartAt: 'Put',
              States: { Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Parameters: { TableName: 't', Item: {} }, End: true } },
            },
          ],
        },
      },
    };

    // Act
    const act = () => new LocalStateMachine({ stateMachineArn: SM_ARN, functions, definition });

    // Assess
    expect(act).toThrow("Task state 'Put' has no local handler (Resource arn:aws:states:::dynamodb:putItem)");
  });

  it('reports an aborted execution', async () => {
    // Prepare
    const machine = new LocalStateMachine({
      stateMachineArn: SM_ARN,
      functions,
      definition: { StartAt: 'Long', States: { Long: { Type: 'Wait', Seconds: 60, End: true } } },
    });
    const execution = machine.start({});

    // Act
    setTimeout(() => execution.abort(), 20);
    const result = await execution.result;

    // Assess
    expect(result.status).toBe('ABORTED');
    expect(execution.history.at(-1)?.type).toBe('ExecutionAborted');
  });
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CfnElement, Duration, type Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { type LocalFunction, LocalLambdaRuntime } from '../../../local/engine/lambda-runtime';
import { LocalStateMachine } from '../../../local/engine/state-machine';
import { synthesize } from '../../../local/engine/synth';
import { lambdaFunctions, localPhysicalResources, stateMachineDefinition } from '../../../local/engine/template';

const fixtures = path.join(__dirname, 'fixtures', 'functions');

/** A small app shaped like the real one: Lambda Tasks (ARN as Resource), a Choice, a Wait. */
function buildFixture(stack: Stack, label: string): void {
  const fn = (id: string) =>
    new lambda.Function(stack, id, {
      code: lambda.Code.fromAsset(fixtures),
      handler: 'handlers.add',
      runtime: lambda.Runtime.NODEJS_22_X,
      timeout: Duration.seconds(5),
      environment: { LABEL: label },
    });
  const first = new tasks.LambdaInvoke(stack, 'First', { lambdaFunction: fn('FirstFn'), payloadResponseOnly: true, resultPath: '$.first' });
  const second = new tasks.LambdaInvoke(stack, 'Second', { lambdaFunction: fn('SecondFn'), payloadResponseOnly: true, inputPath: '$.first' });
  const pause = new sfn.Wait(stack, 'Pause', { time: sfn.WaitTime.secondsPath('$.first.value') });
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(first.next(pause).next(second)) });
}

describe('synthesize', () => {
  const cacheDirectory = mkdtempSync(path.join(tmpdir(), 'keyrotate-synth-test-'));
  afterAll(() => rmSync(cacheDirectory, { recursive: true, force: true }));

  it('synthesizes in process, and the engine runs the assets the assembly holds', async () => {
    // Prepare
    const request = { stackName: 'Fixture', build: (s: Stack) => buildFixture(s, 'one'), cacheKey: { label: 'one' }, sourceDirectories: [fixtures], cacheDirectory };
    const runtime = new LocalLambdaRuntime({ baseEnvironment: { AWS_REGION: 'eu-west-1' } });

    // Act
    const synth = await synthesize(request);
    const ctx = { accountId: '000000000000', region: 'eu-west-1', partition: 'aws', stackName: 'Fixture' };
    const resolve = { ...ctx, resources: localPhysicalResources(synth.template, ctx) };
    const functions = new Map<string, LocalFunction>();
    for (const fn of lambdaFunctions(synth.template, resolve, synth.assemblyDirectory)) {
      functions.set(fn.arn, runtime.register({ ...fn }));
    }
    const machine = new LocalStateMachine({
      definition: stateMachineDefinition(synth.template, resolve),
      stateMachineArn: 'arn:aws:states:eu-west-1:000000000000:stateMachine:Fixture',
      functions,
      waits: { allMs: 0 },
    });
    const result = await machine.start({ value: 0 }).result;
    await runtime.stop();

    // Assess
    expect(synth.cached).toBe(false);
    expect(synth.synthMs).toBeGreaterThan(0);
    const codeDirs = lambdaFunctions(synth.template, resolve, synth.assemblyDirectory).map((f) => f.codeDirectory);
    expect(codeDirs.every((d) => d.startsWith(synth.assemblyDirectory) && existsSync(path.join(d, 'handlers.cjs')))).toBe(true);
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { value: 2 } });
  });

  it('reuses the cached assembly while sources and props are unchanged, and not when props change', async () => {
    // Prepare
    const build = (s: Stack) => {
      buildFixture(s, 'two');
      return { machine: s.getLogicalId(s.node.findChild('Machine').node.defaultChild as CfnElement) };
    };
    const request = { stackName: 'Fixture', build, cacheKey: { label: 'two' }, sourceDirectories: [fixtures], cacheDirectory };
    const first = await synthesize(request);

    // Act
    const again = await synthesize(request);
    const otherProps = await synthesize({ ...request, build: (s: Stack) => buildFixture(s, 'three'), cacheKey: { label: 'three' } });

    // Assess
    expect(again.cached).toBe(true);
    expect(again.assemblyDirectory).toBe(first.assemblyDirectory);
    expect(again.durationMs).toBeLessThan(first.durationMs);
    expect(again.synthMs).toBe(first.synthMs);
    // What build returned comes back on a cache hit, where build does not run.
    expect(first.metadata).toEqual({ machine: expect.stringMatching(/^Machine/) });
    expect(again.metadata).toEqual(first.metadata);
    expect(otherProps.cached).toBe(false);
    expect(otherProps.assemblyDirectory).not.toBe(first.assemblyDirectory);
  });
});

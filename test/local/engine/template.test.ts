import {
  type CfnTemplate,
  lambdaFunctions,
  localPhysicalResources,
  type ResolveContext,
  resolveIntrinsics,
  schedules,
  stateMachineDefinition,
  TemplateResolutionError,
} from '../../../local/engine/template';

const base = { accountId: '000000000000', region: 'eu-west-1', partition: 'aws', stackName: 'Local' };

/** A template shaped like CDK's output: functions, a key, a table, a state machine, a schedule. */
const template: CfnTemplate = {
  Resources: {
    PlanFn1234: {
      Type: 'AWS::Lambda::Function',
      Metadata: { 'aws:asset:path': 'asset.abc123', 'aws:asset:property': 'Code' },
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Timeout: 30,
        MemorySize: 256,
        Environment: {
          Variables: {
            KEYROTATE_KMS_KEY_ID: { 'Fn::GetAtt': ['SealKey99', 'Arn'] },
            KEYROTATE_LOCK_TABLE: { Ref: 'LockTable77' },
            KEYROTATE_SCOPE: '{"pathPrefix":"/"}',
            REGION_COPY: { Ref: 'AWS::Region' },
          },
        },
      },
    },
    VerifyFn5678: {
      Type: 'AWS::Lambda::Function',
      Metadata: { 'aws:asset:path': 'asset.def456' },
      Properties: { Handler: 'index.handler' },
    },
    SealKey99: { Type: 'AWS::KMS::Key', Properties: {} },
    LockTable77: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Plan","States":{"Plan":{"Type":"Task","Resource":"',
              { 'Fn::GetAtt': ['PlanFn1234', 'Arn'] },
              '","Next":"Verify"},"Verify":{"Type":"Task","Resource":"',
              { 'Fn::GetAtt': ['VerifyFn5678', 'Arn'] },
              '","Comment":"${note}","End":true}}}',
            ],
          ],
        },
        DefinitionSubstitutions: { note: { 'Fn::Sub': 'in ${AWS::Region}' } },
      },
    },
    Nightly: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        ScheduleExpression: 'rate(30 days)',
        Target: { Arn: { Ref: 'Machine' }, Input: '{"userName":"mailer","delivery":{"type":"secretsManager","secretId":"s"}}' },
      },
    },
  },
};

function context(overrides = {}): ResolveContext {
  return { ...base, resources: localPhysicalResources(template, base, overrides) };
}

describe('resolveIntrinsics', () => {
  it('resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split', () => {
    // Prepare
    const ctx = context();
    const value = {
      ref: { Ref: 'LockTable77' },
      att: { 'Fn::GetAtt': 'PlanFn1234.Arn' },
      join: { 'Fn::Join': ['/', ['a', { Ref: 'AWS::AccountId' }]] },
      sub: { 'Fn::Sub': ['${X}-${AWS::Partition}-${PlanFn1234.Arn}-${!Literal}', { X: { Ref: 'AWS::Region' } }] },
      select: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
      nested: [{ Ref: 'AWS::StackName' }],
    };

    // Act
    const resolved = resolveIntrinsics(value, ctx);

    // Assess
    expect(resolved).toEqual({
      ref: 'Local-LockTable77',
      att: 'arn:aws:lambda:eu-west-1:000000000000:function:Local-PlanFn1234',
      join: 'a/000000000000',
      sub: 'eu-west-1-aws-arn:aws:lambda:eu-west-1:000000000000:function:Local-PlanFn1234-${Literal}',
      select: 'b',
      nested: ['Local'],
    });
  });

  it('uses the physical values of the resources created locally', () => {
    // Prepare
    const ctx = context({
      SealKey99: { ref: 'key-1', attributes: { Arn: 'arn:aws:kms:eu-west-1:000000000000:key/key-1' } },
      LockTable77: { ref: 'locks', attributes: { Arn: 'arn:aws:dynamodb:eu-west-1:000000000000:table/locks' } },
    });

    // Act
    const resolved = resolveIntrinsics([{ Ref: 'LockTable77' }, { 'Fn::GetAtt': ['SealKey99', 'Arn'] }], ctx);

    // Assess
    expect(resolved).toEqual(['locks', 'arn:aws:kms:eu-west-1:000000000000:key/key-1']);
  });

  it('fails naming where, for an unsupported intrinsic', () => {
    // Prepare
    const ctx = context();

    // Act
    const act = () => resolveIntrinsics({ a: { b: { 'Fn::ImportValue': 'x' } } }, ctx);

    // Assess
    expect(act).toThrow(TemplateResolutionError);
    expect(act).toThrow('cannot resolve $.a.b.Fn::ImportValue: intrinsic Fn::ImportValue is not supported by the local engine');
  });

  it('fails for a Ref to an unknown resource', () => {
    // Prepare
    const ctx = context();

    // Act
    const act = () => resolveIntrinsics({ Ref: 'Nope' }, ctx, 'Env');

    // Assess
    expect(act).toThrow("cannot resolve Env.Ref: Ref to unknown resource or parameter 'Nope'");
  });
});

describe('stateMachineDefinition', () => {
  it('resolves the DefinitionString and applies DefinitionSubstitutions', () => {
    // Prepare
    const ctx = context();

    // Act
    const definition = stateMachineDefinition(template, ctx);

    // Assess
    expect(definition).toEqual({
      StartAt: 'Plan',
      States: {
        Plan: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:000000000000:function:Local-PlanFn1234', Next: 'Verify' },
        Verify: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:000000000000:function:Local-VerifyFn5678', Comment: 'in eu-west-1', End: true },
      },
    });
  });

  it('fails when the template has no state machine', () => {
    // Prepare
    const empty: CfnTemplate = { Resources: {} };

    // Act
    const act = () => stateMachineDefinition(empty, { ...base, resources: {} });

    // Assess
    expect(act).toThrow('expected exactly one state machine (found: none)');
  });
});

describe('lambdaFunctions', () => {
  it('reads each function: bundle directory, handler, resolved environment, timeout and memory', () => {
    // Prepare
    const ctx = context({ SealKey99: { ref: 'key-1', attributes: { Arn: 'arn:aws:kms:eu-west-1:000000000000:key/key-1' } } });

    // Act
    const functions = lambdaFunctions(template, ctx, '/tmp/assembly');

    // Assess
    expect(functions).toEqual([
      {
        logicalId: 'PlanFn1234',
        name: 'Local-PlanFn1234',
        arn: 'arn:aws:lambda:eu-west-1:000000000000:function:Local-PlanFn1234',
        codeDirectory: '/tmp/assembly/asset.abc123',
        handler: 'index.handler',
        runtime: 'nodejs24.x',
        environment: {
          KEYROTATE_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:000000000000:key/key-1',
          KEYROTATE_LOCK_TABLE: 'Local-LockTable77',
          KEYROTATE_SCOPE: '{"pathPrefix":"/"}',
          REGION_COPY: 'eu-west-1',
        },
        timeoutSeconds: 30,
        memorySizeMb: 256,
      },
      expect.objectContaining({ logicalId: 'VerifyFn5678', codeDirectory: '/tmp/assembly/asset.def456', environment: {}, timeoutSeconds: 3, memorySizeMb: 128 }),
    ]);
  });

  it('fails for a function without a bundled asset', () => {
    // Prepare
    const inline: CfnTemplate = {
      Resources: { Inline: { Type: 'AWS::Lambda::Function', Properties: { Code: { ZipFile: 'exports.handler=()=>1' } } } },
    };

    // Act
    const act = () => lambdaFunctions(inline, { ...base, resources: localPhysicalResources(inline, base) }, '/tmp');

    // Assess
    expect(act).toThrow('the local engine runs bundled assets only');
  });
});

describe('schedules', () => {
  it('returns each schedule with the exact input it sends to its target', () => {
    // Prepare
    const ctx = context();

    // Act
    const found = schedules(template, ctx);

    // Assess
    expect(found).toEqual([
      {
        logicalId: 'Nightly',
        scheduleExpression: 'rate(30 days)',
        targetArn: 'arn:aws:states:eu-west-1:000000000000:stateMachine:Local-Machine',
        input: { userName: 'mailer', delivery: { type: 'secretsManager', secretId: 's' } },
      },
    ]);
  });
});

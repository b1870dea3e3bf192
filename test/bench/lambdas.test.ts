import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deployedBundles, isEngineMetadata, sizeTargetBytes, type TemplateLike } from '../../bench/lambdas';

describe('deployedBundles', () => {
  let assembly: string;
  beforeAll(() => {
    // Prepare: a cloud assembly with two function assets.
    assembly = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotate-assembly-'));
    for (const asset of ['asset.plan', 'asset.rotation']) {
      fs.mkdirSync(path.join(assembly, asset));
      fs.writeFileSync(path.join(assembly, asset, 'index.js'), 'exports.handler = () => 1;');
    }
  });
  afterAll(() => {
    fs.rmSync(assembly, { recursive: true, force: true });
  });

  const template: TemplateLike = {
    Resources: {
      PlanFn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler', MemorySize: 256 }, Metadata: { 'aws:asset:path': 'asset.plan' } },
      RotationFn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' }, Metadata: { 'aws:asset:path': 'asset.rotation' } },
      Table: { Type: 'AWS::DynamoDB::Table' },
    },
  };

  it('maps each function to its asset bundle, handler file and memory', () => {
    // Act
    const bundles = deployedBundles(template, { functions: { plan: 'PlanFn' }, rotationFunctions: ['RotationFn'] }, assembly);
    // Assess
    expect(bundles).toEqual([
      { name: 'plan', logicalId: 'PlanFn', handlerFile: 'plan', codeDirectory: path.join(assembly, 'asset.plan'), bundle: path.join(assembly, 'asset.plan', 'index.js'), memoryMb: 256 },
      {
        name: 'secretsManagerRotation',
        logicalId: 'RotationFn',
        handlerFile: 'secrets-manager-rotation',
        codeDirectory: path.join(assembly, 'asset.rotation'),
        bundle: path.join(assembly, 'asset.rotation', 'index.js'),
        memoryMb: 128,
      },
    ]);
  });

  it('accepts rotation functions recorded as an object keyed by logical id', () => {
    const bundles = deployedBundles(template, { functions: {}, rotationFunctions: { RotationFn: 'RotationFn' } }, assembly);
    expect(bundles.map((b) => b.logicalId)).toEqual(['RotationFn']);
  });

  it('fails when a logical id is not a function', () => {
    expect(() => deployedBundles(template, { functions: { plan: 'Table' }, rotationFunctions: [] }, assembly)).toThrow('plan: Table is not a Lambda function');
  });

  it('fails when a function has no asset metadata', () => {
    const inline: TemplateLike = { Resources: { PlanFn: { Type: 'AWS::Lambda::Function', Properties: {} } } };
    expect(() => deployedBundles(inline, { functions: { plan: 'PlanFn' }, rotationFunctions: [] }, assembly)).toThrow('no aws:asset:path');
  });
});

describe('isEngineMetadata', () => {
  it('recognises what the engine records and rejects anything else', () => {
    expect(isEngineMetadata({ functions: {}, rotationFunctions: [] })).toBe(true);
    expect(isEngineMetadata({ functions: {} })).toBe(false);
    expect(isEngineMetadata(null)).toBe(false);
  });
});

describe('sizeTargetBytes', () => {
  it('allows the PGP Lambda twice the others', () => {
    expect(sizeTargetBytes('encrypt-for-pgp')).toBe(700 * 1024);
    expect(sizeTargetBytes('create-key')).toBe(350 * 1024);
  });
});

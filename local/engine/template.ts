/**
 * Reads what the local engine needs out of a synthesized CloudFormation template: the state
 * machine definition (a DefinitionString built with Fn::Join and Fn::GetAtt of the functions),
 * each Lambda function (bundle directory, handler, environment, timeout, memory) and the
 * schedules' target input. CloudFormation intrinsics are resolved against local physical
 * values: the ones the engine created on the local endpoint (KMS key, lock table), and
 * deterministic names for everything else.
 */
import path from 'node:path';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
}

/** The local stand-in of a deployed resource: what Ref and Fn::GetAtt return. */
export interface PhysicalResource {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ResolveContext {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  readonly stackName: string;
  readonly resources: Readonly<Record<string, PhysicalResource>>;
}

/** A template that the local engine cannot run (unsupported intrinsic, missing resource, …). */
export class TemplateResolutionError extends Error {
  constructor(
    readonly at: string,
    detail: string,
  ) {
    super(`cannot resolve ${at}: ${detail}`);
    this.name = 'TemplateResolutionError';
  }
}

const PSEUDO_PARAMETERS = (ctx: ResolveContext): Record<string, string> => ({
  'AWS::AccountId': ctx.accountId,
  'AWS::Region': ctx.region,
  'AWS::Partition': ctx.partition,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': ctx.stackName,
  'AWS::StackId': `arn:${ctx.partition}:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/local`,
  'AWS::NoValue': '',
});

function resolveRef(name: string, ctx: ResolveContext, at: string): string {
  const pseudo = PSEUDO_PARAMETERS(ctx)[name];
  if (pseudo !== undefined) return pseudo;
  const resource = ctx.resources[name];
  if (resource) return resource.ref;
  throw new TemplateResolutionError(at, `Ref to unknown resource or parameter '${name}'`);
}

function resolveGetAtt(logicalId: string, attribute: string, ctx: ResolveContext, at: string): string {
  const resource = ctx.resources[logicalId];
  if (!resource) throw new TemplateResolutionError(at, `Fn::GetAtt of unknown resource '${logicalId}'`);
  const value = resource.attributes[attribute];
  if (value === undefined) throw new TemplateResolutionError(at, `Fn::GetAtt ${logicalId}.${attribute} has no local value`);
  return value;
}

function asString(value: unknown, at: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateResolutionError(at, `expected a string, got ${JSON.stringify(value)}`);
}

function resolveSub(args: unknown, ctx: ResolveContext, at: string): string {
  const [template, variables] = Array.isArray(args) ? [args[0], args[1]] : [args, undefined];
  const text = asString(template, at);
  const vars = (variables ?? {}) as Record<string, unknown>;
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    if (name in vars) return asString(resolveIntrinsics(vars[name], ctx, `${at}.${name}`), at);
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) return resolveGetAtt(name.slice(0, dot), name.slice(dot + 1), ctx, at);
    return resolveRef(name, ctx, at);
  });
}

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split, recursively. */
export function resolveIntrinsics(value: unknown, ctx: ResolveContext, at = '$'): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveIntrinsics(v, ctx, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [first] = entries;
  if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
    const [fn, args] = first;
    const where = `${at}.${fn}`;
    switch (fn) {
      case 'Ref':
        return resolveRef(asString(args, where), ctx, where);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(args) ? args : asString(args, where).split(/\.(.+)/);
        return resolveGetAtt(asString(id, where), asString(attr, where), ctx, where);
      }
      case 'Fn::Join': {
        if (!Array.isArray(args) || args.length !== 2) throw new TemplateResolutionError(where, 'expected [delimiter, list]');
        const list = resolveIntrinsics(args[1], ctx, where);
        if (!Array.isArray(list)) throw new TemplateResolutionError(where, 'expected a list to join');
        return list.map((v) => asString(v, where)).join(asString(args[0], where));
      }
      case 'Fn::Sub':
        return resolveSub(args, ctx, where);
      case 'Fn::Select': {
        if (!Array.isArray(args) || args.length !== 2) throw new TemplateResolutionError(where, 'expected [index, list]');
        const list = resolveIntrinsics(args[1], ctx, where);
        const index = Number(resolveIntrinsics(args[0], ctx, where));
        if (!Array.isArray(list) || !(index in list)) throw new TemplateResolutionError(where, `index ${index} out of range`);
        return list[index] as unknown;
      }
      case 'Fn::Split': {
        if (!Array.isArray(args) || args.length !== 2) throw new TemplateResolutionError(where, 'expected [delimiter, string]');
        return asString(resolveIntrinsics(args[1], ctx, where), where).split(asString(args[0], where));
      }
      default:
        throw new TemplateResolutionError(where, `intrinsic ${fn} is not supported by the local engine`);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, ctx, `${at}.${k}`)]));
}

/** AWS service name in ARNs, per CloudFormation resource type prefix. */
function arnOf(type: string, name: string, ctx: ResolveContext): string {
  const base = (service: string, resource: string, global = false) =>
    `arn:${ctx.partition}:${service}:${global ? '' : ctx.region}:${ctx.accountId}:${resource}`;
  switch (type) {
    case 'AWS::Lambda::Function':
      return base('lambda', `function:${name}`);
    case 'AWS::IAM::Role':
      return base('iam', `role/${name}`, true);
    case 'AWS::IAM::User':
      return base('iam', `user/${name}`, true);
    case 'AWS::StepFunctions::StateMachine':
      return base('states', `stateMachine:${name}`);
    case 'AWS::DynamoDB::Table':
      return base('dynamodb', `table/${name}`);
    case 'AWS::KMS::Key':
      return base('kms', `key/${name}`);
    case 'AWS::SecretsManager::Secret':
      return base('secretsmanager', `secret:${name}`);
    case 'AWS::Logs::LogGroup':
      return base('logs', `log-group:${name}:*`);
    case 'AWS::SQS::Queue':
      return base('sqs', name);
    case 'AWS::SNS::Topic':
      return base('sns', name);
    case 'AWS::Scheduler::Schedule':
      return base('scheduler', `schedule/default/${name}`);
    case 'AWS::Scheduler::ScheduleGroup':
      return base('scheduler', `schedule-group/${name}`);
    default: {
      const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
      return base(service, name);
    }
  }
}

const REF_IS_NAME = new Set(['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::DynamoDB::Table', 'AWS::Scheduler::Schedule', 'AWS::Logs::LogGroup', 'AWS::KMS::Key']);

/**
 * Deterministic local stand-ins for every resource of the template (name `<stack>-<logicalId>`
 * unless the template names it), overlaid with `overrides` for the resources the engine really
 * created on the local endpoint.
 */
export function localPhysicalResources(
  template: CfnTemplate,
  ctx: Omit<ResolveContext, 'resources'>,
  overrides: Readonly<Record<string, PhysicalResource>> = {},
): Record<string, PhysicalResource> {
  const out: Record<string, PhysicalResource> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const explicitName = ['FunctionName', 'RoleName', 'StateMachineName', 'TableName', 'Name', 'QueueName', 'TopicName', 'LogGroupName']
      .map((p) => resource.Properties?.[p])
      .find((v): v is string => typeof v === 'string');
    const name = explicitName ?? `${ctx.stackName}-${logicalId}`.slice(0, 64);
    const arn = arnOf(resource.Type, name, { ...ctx, resources: {} });
    // What Ref returns per type: a name for these, the ARN for the rest (close enough locally;
    // the resources whose id matters are created for real and passed as overrides).
    const ref = REF_IS_NAME.has(resource.Type) ? name : arn;
    out[logicalId] = { ref, attributes: { Arn: arn, Name: name, KeyId: ref, StreamArn: `${arn}/stream/local` } };
  }
  for (const [logicalId, resource] of Object.entries(overrides)) out[logicalId] = resource;
  return out;
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The (only, or named) state machine's definition, intrinsics resolved, substitutions applied. */
export function stateMachineDefinition(template: CfnTemplate, ctx: ResolveContext, logicalId?: string): Record<string, unknown> {
  const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
  const entry = logicalId ? machines.find(([id]) => id === logicalId) : machines.length === 1 ? machines[0] : undefined;
  if (!entry) {
    const found = machines.map(([id]) => id).join(', ') || 'none';
    throw new TemplateResolutionError('Resources', logicalId ? `no state machine '${logicalId}' (found: ${found})` : `expected exactly one state machine (found: ${found})`);
  }
  const [id, resource] = entry;
  const props = resource.Properties ?? {};
  const at = `Resources.${id}.Properties`;
  let definition: unknown;
  if (props.DefinitionString !== undefined) {
    const text = asString(resolveIntrinsics(props.DefinitionString, ctx, `${at}.DefinitionString`), at);
    const substitutions = resolveIntrinsics(props.DefinitionSubstitutions ?? {}, ctx, `${at}.DefinitionSubstitutions`) as Record<string, unknown>;
    const substituted = text.replace(/\$\{([^}]+)\}/g, (match, name: string) => (name in substitutions ? asString(substitutions[name], at) : match));
    definition = JSON.parse(substituted) as unknown;
  } else if (props.Definition !== undefined) {
    definition = resolveIntrinsics(props.Definition, ctx, `${at}.Definition`);
  } else {
    throw new TemplateResolutionError(at, 'the state machine has no DefinitionString or Definition');
  }
  if (definition === null || typeof definition !== 'object' || !('States' in definition)) {
    throw new TemplateResolutionError(at, 'the definition has no States');
  }
  return definition as Record<string, unknown>;
}

export interface TemplateFunction {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The bundle directory inside the cloud assembly (asset.<hash>). */
  readonly codeDirectory: string;
  readonly handler: string;
  readonly runtime: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
}

/**
 * Every Lambda function of the template with its bundle directory. Needs asset metadata
 * (`aws:asset:path`), which the engine's CDK app turns on (context aws:cdk:enable-asset-metadata).
 */
export function lambdaFunctions(template: CfnTemplate, ctx: ResolveContext, assemblyDirectory: string): TemplateFunction[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').map(([logicalId, resource]) => {
    const props = resource.Properties ?? {};
    const at = `Resources.${logicalId}`;
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof assetPath !== 'string') {
      throw new TemplateResolutionError(`${at}.Metadata`, 'no aws:asset:path (inline code, or asset metadata disabled); the local engine runs bundled assets only');
    }
    const physical = ctx.resources[logicalId];
    if (!physical) throw new TemplateResolutionError(at, 'no local physical resource');
    const variables = ((props.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}) as Record<string, unknown>;
    const environment = resolveIntrinsics(variables, ctx, `${at}.Properties.Environment.Variables`) as Record<string, unknown>;
    return {
      logicalId,
      name: physical.ref,
      arn: physical.attributes.Arn ?? physical.ref,
      codeDirectory: path.resolve(assemblyDirectory, assetPath),
      handler: typeof props.Handler === 'string' ? props.Handler : 'index.handler',
      runtime: typeof props.Runtime === 'string' ? props.Runtime : 'nodejs',
      environment: Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, asString(v, `${at}.Environment.${k}`)])),
      // CloudFormation's defaults for AWS::Lambda::Function.
      timeoutSeconds: typeof props.Timeout === 'number' ? props.Timeout : 3,
      memorySizeMb: typeof props.MemorySize === 'number' ? props.MemorySize : 128,
    };
  });
}

export interface TemplateSchedule {
  readonly logicalId: string;
  readonly scheduleExpression: string;
  readonly targetArn: string;
  /** The target input, parsed from its JSON string. */
  readonly input: unknown;
}

/** EventBridge Scheduler schedules and the exact input each sends to its target. */
export function schedules(template: CfnTemplate, ctx: ResolveContext): TemplateSchedule[] {
  return resourcesOfType(template, 'AWS::Scheduler::Schedule').map(([logicalId, resource]) => {
    const props = resolveIntrinsics(resource.Properties ?? {}, ctx, `Resources.${logicalId}.Properties`) as {
      ScheduleExpression?: string;
      Target?: { Arn?: string; Input?: string };
    };
    return {
      logicalId,
      scheduleExpression: props.ScheduleExpression ?? '',
      targetArn: props.Target?.Arn ?? '',
      input: props.Target?.Input === undefined ? {} : (JSON.parse(props.Target.Input) as unknown),
    };
  });
}

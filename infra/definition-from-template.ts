/**
 * Reads the rotation state machine's definition (Amazon States Language) back out of a
 * synthesized CloudFormation template, with each Lambda ARN replaced by a value of the caller's
 * choosing. The local engine uses it to run exactly the deployed graph; the tests use it to
 * assert on the graph as Step Functions will see it.
 */

/** The subset of ASL this project's definition uses. */
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly ResultSelector?: Record<string, unknown>;
  readonly ResultPath?: string | null;
  readonly OutputPath?: string;
  readonly Result?: unknown;
  readonly Retry?: ReadonlyArray<{
    readonly ErrorEquals: readonly string[];
    readonly IntervalSeconds?: number;
    readonly MaxAttempts?: number;
    readonly BackoffRate?: number;
    readonly MaxDelaySeconds?: number;
    readonly JitterStrategy?: string;
  }>;
  readonly Catch?: ReadonlyArray<{ readonly ErrorEquals: readonly string[]; readonly Next: string; readonly ResultPath?: string }>;
  readonly Choices?: ReadonlyArray<Record<string, unknown> & { readonly Next: string }>;
  readonly Default?: string;
  readonly SecondsPath?: string;
  readonly ErrorPath?: string;
  readonly CausePath?: string;
  readonly Comment?: string;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly Comment?: string;
  readonly QueryLanguage?: string;
}

interface CfnTemplate {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

export interface RenderedDefinition {
  /** Logical id of the AWS::StepFunctions::StateMachine resource. */
  readonly stateMachineLogicalId: string;
  readonly definition: AslDefinition;
  /** Logical ids of the functions the definition invokes, by the value that replaced their ARN. */
  readonly functionsByResource: Readonly<Record<string, string>>;
}

function flatten(value: unknown, arnFor: (logicalId: string) => string, seen: Record<string, string>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    const join = node['Fn::Join'];
    if (Array.isArray(join) && join.length === 2 && Array.isArray(join[1])) {
      return (join[1] as unknown[]).map((part) => flatten(part, arnFor, seen)).join(String(join[0]));
    }
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') {
      const resource = arnFor(getAtt[0]);
      seen[resource] = getAtt[0];
      return resource;
    }
  }
  throw new Error(`unsupported intrinsic in the state machine definition: ${JSON.stringify(value).slice(0, 200)}`);
}

/**
 * The definition of the (single) state machine in `template`. `arnFor` maps a Lambda logical
 * id to the string that replaces its ARN (default: a fake ARN naming the logical id).
 */
export function definitionFromTemplate(
  template: CfnTemplate,
  arnFor: (logicalId: string) => string = (id) => `arn:aws:lambda:us-east-1:123456789012:function:${id}`,
): RenderedDefinition {
  const machines = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const [stateMachineLogicalId, resource] = machines[0] as [string, { Properties?: Record<string, unknown> }];
  const functionsByResource: Record<string, string> = {};
  const text = flatten(resource.Properties?.DefinitionString, arnFor, functionsByResource);
  return { stateMachineLogicalId, definition: JSON.parse(text) as AslDefinition, functionsByResource };
}

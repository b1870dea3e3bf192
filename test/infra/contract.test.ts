/**
 * The construct against the Lambdas' own documentation (docs/readme/lambdas.md, written with
 * the handlers): each role gets the IAM, Secrets Manager and DynamoDB actions listed there, no
 * more and no fewer, and each function the environment variables listed there.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { lambdaId, PROJECT_ROOT, ROTATION_LAMBDA_FILE, STATE_MACHINE_LAMBDAS, type StateMachineLambdaName } from '../../infra/bundling';
import { ROTATION_ACCESS, STATE_MACHINE_ACCESS, type LambdaAccess } from '../../infra/permissions';
import { buildStack } from './helpers';

const lambdasDoc = readFileSync(path.join(PROJECT_ROOT, 'docs', 'readme', 'lambdas.md'), 'utf8');

/** The documented row of a handler file: [actions, environment variables]. */
function documented(file: string): { actions: string[]; environment: string[] } {
  const row = lambdasDoc.split('\n').find((line) => line.startsWith(`| \`${file}.ts\``));
  if (!row) throw new Error(`docs/readme/lambdas.md has no row for ${file}.ts`);
  const cells = row.split(' | ');
  const tokens = (cell: string | undefined) => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  return {
    actions: tokens(cells[2]).filter((t) => /^(iam|secretsmanager|dynamodb|kms):\w+$/.test(t)),
    environment: tokens(cells[3]).filter((t) => t.startsWith('KEYROTATE_')),
  };
}

function granted(access: LambdaAccess): string[] {
  return [
    ...access.iam,
    ...access.secretsManager,
    ...access.lock,
    ...(access.seal.length > 0 ? ['kms:Encrypt'] : []),
    ...(access.open.length > 0 ? ['kms:Decrypt'] : []),
  ].sort();
}

const rows: [string, LambdaAccess][] = [
  ...Object.entries(STATE_MACHINE_LAMBDAS).map(([name, file]) => [file, STATE_MACHINE_ACCESS[name as keyof typeof STATE_MACHINE_LAMBDAS]] as [string, LambdaAccess]),
  [ROTATION_LAMBDA_FILE, ROTATION_ACCESS],
];

test.each(rows)('%s: the role grants exactly the actions docs/readme/lambdas.md lists', (file, access) => {
  expect(granted(access)).toEqual([...new Set(documented(file).actions)].sort());
});

test('each function gets the environment variables docs/readme/lambdas.md lists', () => {
  // Prepare
  const built = buildStack(undefined, {
    configure: (rotation, stack) => {
      rotation.addSecretsManagerRotation(new Secret(stack, 'Rotated'), { userName: 'app-smtp', automaticallyAfter: Duration.days(30) });
    },
  });
  const functions: [string, { node: { defaultChild?: unknown } }][] = [
    ...Object.entries(STATE_MACHINE_LAMBDAS).map(([name, file]) => [file, built.rotation.functions[name as keyof typeof STATE_MACHINE_LAMBDAS]] as [string, { node: { defaultChild?: unknown } }]),
    [ROTATION_LAMBDA_FILE, built.rotation.rotationFunctions[0] as { node: { defaultChild?: unknown } }],
  ];

  // Act / Assess
  for (const [file, fn] of functions) {
    const variables = built.template.toJSON().Resources[built.stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables as Record<string, unknown>;
    for (const name of documented(file).environment) expect({ file, name, set: name in variables }).toEqual({ file, name, set: true });
  }
});

/**
 * The README's Permissions table (docs/readme/construct.md) is a second, shorter view of the
 * same roles; it once drifted (a missing UpdateAccessKey, an empty lock column), so it is
 * checked cell by cell against the code too.
 */
describe('the Permissions table of docs/readme/construct.md', () => {
  const constructDoc = readFileSync(path.join(PROJECT_ROOT, 'docs', 'readme', 'construct.md'), 'utf8');
  const section = constructDoc.slice(constructDoc.indexOf('### Permissions'));
  // RollBack's function also runs the ReleaseLock state; its row says so.
  const label = (name: StateMachineLambdaName) => (name === 'rollBack' ? 'RollBack / ReleaseLock' : lambdaId(name));
  const tableRows: [string, LambdaAccess][] = [
    ...(Object.keys(STATE_MACHINE_LAMBDAS) as StateMachineLambdaName[]).map((name) => [label(name), STATE_MACHINE_ACCESS[name]] as [string, LambdaAccess]),
    ['Secrets Manager rotation', ROTATION_ACCESS],
  ];
  /** "GetUser, ListAccessKeys (its user only)" → ['GetUser', 'ListAccessKeys']; "—" → []. */
  const actionsIn = (cell: string) => cell.replace(/\([^)]*\)/g, '').split(',').map((a) => a.trim()).filter((a) => a !== '' && a !== '—');
  const withoutService = (actions: readonly string[]) => actions.map((a) => a.slice(a.indexOf(':') + 1));
  /** "Decrypt `secretAccessKey`, Encrypt `sesSmtpPasswords`" / "Decrypt both" → the purposes per operation. */
  const purposesIn = (cell: string, operation: 'Encrypt' | 'Decrypt') => {
    const all = ['secretAccessKey', 'sesSmtpPasswords'];
    return cell
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.startsWith(operation))
      .flatMap((part) => (part.endsWith('both') ? all : [...part.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)));
  };

  test.each(tableRows)('%s: the row lists exactly what the role grants', (name, access) => {
    // Prepare
    const row = section.split('\n').find((line) => line.startsWith(`| ${name} |`));
    if (!row) throw new Error(`the Permissions table has no row for ${name}`);
    const [iamCell, secretsCell, lockCell, sealCell] = row.split(' | ').slice(1).map((c) => c.replace(/\|\s*$/, '').trim());

    // Assess
    expect(actionsIn(iamCell ?? '').sort()).toEqual(withoutService(access.iam).sort());
    expect(actionsIn(secretsCell ?? '').sort()).toEqual(withoutService(access.secretsManager).sort());
    expect(actionsIn(lockCell ?? '').sort()).toEqual(withoutService(access.lock).sort());
    expect(purposesIn(sealCell ?? '', 'Encrypt').sort()).toEqual([...access.seal].sort());
    expect(purposesIn(sealCell ?? '', 'Decrypt').sort()).toEqual([...access.open].sort());
  });
});

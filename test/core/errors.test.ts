/**
 * Error names are Step Functions error types: Retry and Catch match them as strings. Each class
 * states its name as a literal (not derived from the class at run time), so a minified bundle
 * that renames classes still reports the same types.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as errors from '../../lambdas/core/errors';

const source = readFileSync(path.join(__dirname, '../../lambdas/core/errors.ts'), 'utf8');
const concrete = [...source.matchAll(/^export class (\w+) extends \w+ \{\n {2}override readonly name = '(\w+)';/gm)];

test('every concrete error class declares its own name as a literal equal to the class name', () => {
  // Prepare
  const declared = [...source.matchAll(/^export class (\w+) extends/gm)].map((m) => m[1]);

  // Assess
  expect(declared.length).toBeGreaterThan(0);
  expect(concrete.map((m) => m[1])).toEqual(declared);
  for (const [, className, literal] of concrete) expect(literal).toBe(className);
});

test('the name survives a renamed class (as a minifier would rename it)', () => {
  // Prepare
  const Renamed = class extends errors.KeyStateConflictError {};

  // Act
  const error = new Renamed('recorded key differs');

  // Assess
  expect(Renamed.name).toBe('Renamed');
  expect(error.name).toBe('KeyStateConflictError');
  expect(`${error}`).toBe('KeyStateConflictError: recorded key differs');
});

test.each(errors.TRANSIENT_ERROR_NAMES)('%s is a transient error class of that name', (name) => {
  // Prepare
  const ErrorClass = (errors as unknown as Record<string, new (...args: string[]) => errors.KeyRotateError>)[name];

  // Act
  const error = ErrorClass ? new ErrorClass('AKIAEXAMPLE') : undefined;

  // Assess
  expect(error?.name).toBe(name);
  expect(error?.transient).toBe(true);
});

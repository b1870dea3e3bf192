/**
 * Returns the `name` of keyrotate's own errors as a bundle sees them. The state machine retries
 * and catches by these names, so a bundling option that renames classes must fail this check.
 */
import { KeyNotPropagatedError, TransientAwsError, ValidationError } from '../../lambdas/core/errors';

export async function handler(): Promise<string[]> {
  return [new TransientAwsError('throttled').name, new KeyNotPropagatedError('AKIAEXAMPLE').name, new ValidationError('userName', 'missing').name];
}

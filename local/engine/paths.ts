import path from 'node:path';
import { projectRoot } from '../../infra/project-root';

export { projectRoot };

/** The script each local Lambda container runs (see lambda-runner.cjs). */
export function lambdaRunnerPath(): string {
  return path.join(projectRoot(), 'local', 'engine', 'lambda-runner.cjs');
}

/** Shared set-up for the core tests: a user in an in-memory account, and plans made for it. */
import { planRotation, type PlanConfig } from '../../lambdas/core/rotation';
import { buildSecretValue, serializeSecretValue } from '../../lambdas/core/secret-value';
import type { KeyStatus, RotationPlan } from '../../lambdas/core/types';
import { type MemoryWorld, memoryWorld } from '../helpers/memory-adapters';

export const USER = 'loadbalancer';
export const SECRET = 'keyrotate/loadbalancer';
export const CONFIG: PlanConfig = { scope: { userNames: [USER] }, defaultSesSmtpRegions: ['eu-west-1'] };

export interface Fixture extends MemoryWorld {
  /** The user's keys before the test, in creation order. */
  readonly existing: Array<{ accessKeyId: string; secretAccessKey: string }>;
  readonly userArn: string;
}

/**
 * A user with keys of the given statuses (oldest first). `secret`: absent, an empty secret, a
 * seed naming the user, or a full value naming the first Active key as current.
 */
export function fixture(
  options: { keys?: KeyStatus[]; secret?: 'absent' | 'empty' | 'seed' | 'current'; propagationDelayMs?: number } = {},
): Fixture {
  const world = memoryWorld({ propagationDelayMs: options.propagationDelayMs ?? 0 });
  const user = world.directory.addUser(USER, { path: '/service/' });
  const statuses = options.keys ?? ['Active'];
  const existing = statuses.map((status, i) =>
    world.directory.addKey(USER, { status, createDate: new Date(world.clock.now().getTime() - (statuses.length - i) * 86_400_000) }),
  );
  const secret = options.secret ?? 'current';
  if (secret === 'empty') world.secrets.createSecret(SECRET);
  if (secret === 'seed') world.secrets.createSecret(SECRET, JSON.stringify({ userName: USER }));
  if (secret === 'current') {
    const current = existing.find((_k, i) => statuses[i] === 'Active');
    world.secrets.createSecret(
      SECRET,
      current
        ? serializeSecretValue(
            buildSecretValue({
              userName: USER,
              accessKeyId: current.accessKeyId,
              secretAccessKey: current.secretAccessKey,
              createDate: '2026-01-01T00:00:00Z',
              smtpPasswords: {},
            }),
          )
        : JSON.stringify({ userName: USER }),
    );
  }
  return { ...world, existing, userArn: user.arn };
}

export function secretsManagerInput(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { userName: USER, delivery: { type: 'secretsManager', secretId: SECRET }, ...extra };
}

export function pgpInput(pgpKey: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { userName: USER, delivery: { type: 'pgp', pgpKey }, ...extra };
}

export function makePlan(f: Fixture, input: Record<string, unknown> = secretsManagerInput(), rotationId = 'rotation-1'): Promise<RotationPlan> {
  return planRotation(f.deps, { input, rotationId }, CONFIG);
}

/** Runs `act` and returns what it threw (fails the test when it does not throw). */
export async function caught(act: () => Promise<unknown>): Promise<Error> {
  try {
    await act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

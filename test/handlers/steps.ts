/** Helpers shared by the handler tests: run earlier steps through their real handlers. */
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSecretSealer } from '../../lambdas/adapters/kms-secret-sealer';
import type { DeliveryResult, NewKeyRef, RotationPlan, SmtpPasswordsRef } from '../../lambdas/core/types';
import { handler as createKeyHandler } from '../../lambdas/handlers/create-key';
import { handler as deriveHandler } from '../../lambdas/handlers/derive-smtp-passwords';
import { handler as planHandler } from '../../lambdas/handlers/plan';
import { handler as storeHandler } from '../../lambdas/handlers/store-secret';
import { type FakeAws, REGION } from './fake-aws';
import { KMS_KEY_ID, lambdaContext } from './lambda-env';

/** The starting point of most handler tests: user `smtp` under /service/ with one key, and a secret naming it. */
export function givenSmtpUser(aws: FakeAws): void {
  aws.addUser('smtp', { path: '/service/' });
  aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp' }));
  aws.addKey('smtp');
}

export const secretsManagerInput = (overrides: Record<string, unknown> = {}) => ({
  userName: 'smtp',
  delivery: { type: 'secretsManager', secretId: 'smtp-secret' },
  ...overrides,
});

export async function plan(rotationId = 'exec-1', input: unknown = secretsManagerInput()): Promise<RotationPlan> {
  return (await planHandler({ input, rotationId }, lambdaContext())) as RotationPlan;
}

export async function createKey(rotationPlan: RotationPlan): Promise<NewKeyRef> {
  return (await createKeyHandler({ plan: rotationPlan }, lambdaContext())) as NewKeyRef;
}

/** Opens a sealed value the way the next Lambda would (through the fake KMS). */
export function openSealed(sealed: string, context: Record<string, string>): Promise<string> {
  return new KmsSecretSealer(new KMSClient({ region: REGION }), KMS_KEY_ID).open(sealed, context);
}

export function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
}

export async function deriveSmtp(rotationPlan: RotationPlan, newKey: NewKeyRef): Promise<SmtpPasswordsRef> {
  return (await deriveHandler({ plan: rotationPlan, newKey }, lambdaContext())) as SmtpPasswordsRef;
}

export async function storeSecret(rotationPlan: RotationPlan, newKey: NewKeyRef, smtp: SmtpPasswordsRef | null): Promise<DeliveryResult> {
  return (await storeHandler({ plan: rotationPlan, newKey, smtp }, lambdaContext())) as DeliveryResult;
}

/** Plan → CreateKey → DeriveSmtpPasswords → StoreSecret, through the real handlers. */
export async function delivered(rotationId = 'exec-1', input: unknown = secretsManagerInput()) {
  const rotationPlan = await plan(rotationId, input);
  const newKey = await createKey(rotationPlan);
  const smtp = await deriveSmtp(rotationPlan, newKey);
  const delivery = await storeSecret(rotationPlan, newKey, smtp);
  return { plan: rotationPlan, newKey, smtp, delivery };
}

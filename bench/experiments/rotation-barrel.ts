/**
 * The shape of lambdas/core/rotation.ts: one module exporting every step, so importing one
 * step imports them all. Here one step lists keys (IAM) and another encrypts (openpgp).
 */
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { createMessage, encrypt, readKey } from 'openpgp';

export async function listKeyIds(iam: IAMClient, userName: string): Promise<string[]> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return (out.AccessKeyMetadata ?? []).map((k) => k.AccessKeyId ?? '');
}

export async function encryptTo(armoredKey: string, plaintext: string): Promise<Uint8Array> {
  const encryptionKeys = await readKey({ armoredKey });
  return encrypt({ message: await createMessage({ text: plaintext }), encryptionKeys, format: 'binary' });
}

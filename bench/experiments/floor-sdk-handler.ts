/**
 * Floor experiment: one AWS SDK client and one command, nothing else (no middy, no logger).
 * What any Lambda that calls AWS pays at cold start, whatever else it does.
 */
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';

const iam = new IAMClient({});

export async function handler(event: { readonly userName: string }): Promise<{ keys: string[] }> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: event.userName }));
  return { keys: (out.AccessKeyMetadata ?? []).map((k) => k.AccessKeyId ?? '') };
}

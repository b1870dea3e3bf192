import { lambdaContext } from './lambda-env';
import { decrypt, generateKey, readKey, readMessage, readPrivateKey } from 'openpgp';
import { deriveSmtpPasswordV4 } from '../../lambdas/core/smtp-password';
import type { DeliveryResult } from '../../lambdas/core/types';
import { handler } from '../../lambdas/handlers/encrypt-for-pgp';
import { keybaseAnswer, type KeyServer, startKeyServer } from '../helpers/pgp-keys';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';
import { createKey, deriveSmtp, plan } from './steps';

let aws: FakeAws;
let output: Captured;
let keyServer: KeyServer;
let publicKeyBase64: string;
let armoredPublicKey: string;
let armoredPrivateKey: string;
let fingerprint: string;

type PgpDelivery = Extract<DeliveryResult, { type: 'pgp' }>;

beforeAll(async () => {
  const generated = await generateKey({ userIDs: [{ name: 'Alice', email: 'alice@example.com' }], format: 'armored' });
  armoredPublicKey = generated.publicKey;
  armoredPrivateKey = generated.privateKey;
  const key = await readKey({ armoredKey: armoredPublicKey });
  fingerprint = key.getFingerprint();
  publicKeyBase64 = Buffer.from(key.write()).toString('base64');
  keyServer = await startKeyServer((req, res) => {
    const known = req.url?.includes('usernames=alice');
    res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' });
    res.end(known ? keybaseAnswer(armoredPublicKey) : '{}');
  });
  // Read by the handler on its first invocation (after this hook).
  process.env.KEYROTATE_KEYBASE_URL = keyServer.url;
});

afterAll(() => keyServer.close());

beforeEach(() => {
  aws = new FakeAws();
  aws.addUser('smtp', { path: '/service/' });
  aws.addKey('smtp');
  output = captureOutput();
});

afterEach(() => output.restore());

async function decryptBase64(message: string): Promise<string> {
  const decrypted = await decrypt({
    message: await readMessage({ binaryMessage: Buffer.from(message, 'base64') }),
    decryptionKeys: await readPrivateKey({ armoredKey: armoredPrivateKey }),
  });
  return String(decrypted.data);
}

const pgpInput = (pgpKey: string) => ({ userName: 'smtp', delivery: { type: 'pgp', pgpKey }, sesSmtpRegions: ['eu-west-1'] });

describe('EncryptForPgp handler', () => {
  it("encrypts the secret and SMTP password to a Terraform-style base64 key, changing nothing in AWS", async () => {
    // Prepare
    const rotationPlan = await plan('exec-1', pgpInput(publicKeyBase64));
    const newKey = await createKey(rotationPlan);
    const smtp = await deriveSmtp(rotationPlan, newKey);
    const secret = aws.user('smtp').keys.find((k) => k.accessKeyId === newKey.accessKeyId)?.secretAccessKey ?? '';
    const writesBefore = aws.calls.filter((c) => !/^(List|Get|Describe|Decrypt)/.test(c)).length;

    // Act
    const delivery = (await handler({ plan: rotationPlan, newKey, smtp }, lambdaContext())) as PgpDelivery;

    // Assess
    expect(delivery).toMatchObject({ type: 'pgp', keyFingerprint: fingerprint });
    await expect(decryptBase64(delivery.encryptedSecret)).resolves.toBe(secret);
    await expect(decryptBase64(delivery.encryptedSesSmtpPasswordV4 ?? '')).resolves.toBe(deriveSmtpPasswordV4(secret, 'eu-west-1'));
    expect(Object.keys(delivery.encryptedSesSmtpPasswords)).toEqual(['eu-west-1']);
    expect(aws.calls.filter((c) => !/^(List|Get|Describe|Decrypt)/.test(c)).length).toBe(writesBefore);
    const [line] = output.logLines().filter((l) => l.message === 'EncryptForPgp succeeded');
    expect(line).toMatchObject({ result: { type: 'pgp', keyFingerprint: fingerprint } });
    expect(JSON.stringify(line)).not.toContain(delivery.encryptedSecret);
  });

  it('fetches keybase: keys from KEYROTATE_KEYBASE_URL, and gives the same fingerprint when re-run', async () => {
    const rotationPlan = await plan('exec-1', pgpInput('keybase:alice'));
    const newKey = await createKey(rotationPlan);
    const smtp = await deriveSmtp(rotationPlan, newKey);

    const first = (await handler({ plan: rotationPlan, newKey, smtp }, lambdaContext())) as PgpDelivery;
    const second = (await handler({ plan: rotationPlan, newKey, smtp }, lambdaContext())) as PgpDelivery;

    expect(first.keyFingerprint).toBe(fingerprint);
    expect(second.keyFingerprint).toBe(fingerprint);
    await expect(decryptBase64(second.encryptedSecret)).resolves.toBe(await decryptBase64(first.encryptedSecret));
  });

  it('fails with PgpKeyError when Keybase has no such user', async () => {
    const rotationPlan = await plan('exec-1', pgpInput('keybase:nobody'));
    const newKey = await createKey(rotationPlan);
    const smtp = await deriveSmtp(rotationPlan, newKey);

    await expect(handler({ plan: rotationPlan, newKey, smtp }, lambdaContext())).rejects.toMatchObject({ name: 'PgpKeyError', form: 'keybase' });
  });
});

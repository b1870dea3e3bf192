/**
 * Lost answers against the real SDK retry: the module-scope clients (standard retries, 3
 * attempts) talk HTTP to a tiny stateful endpoint on 127.0.0.1 that can carry out a call and then
 * cut the connection without answering, as when a response is lost on the way back. The SDK sees
 * a reset connection and, for a retrying client, sends the call again.
 *
 * - IAM CreateAccessKey makes a key per call: the directory must send it once (no SDK re-send),
 *   so a lost answer leaves one key and a TransientAwsError for the step's retry to reconcile.
 * - Secrets Manager UpdateSecretVersionStage refuses the re-send (the label already moved, so
 *   RemoveFromVersionId no longer holds it): the store must read the labels and succeed.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { iamClient, iamClientWithoutRetries, secretsManagerClient } from '../../lambdas/adapters/clients';
import { IamAccessKeyDirectory } from '../../lambdas/adapters/iam-access-key-directory';
import { SecretsManagerSecretStore } from '../../lambdas/adapters/secrets-manager-secret-store';
import { TransientAwsError } from '../../lambdas/core/errors';

/** The endpoint's state: IAM keys of user 'smtp', the labels of secret 'smtp'. */
const keys: string[] = [];
let labels: Record<string, string[]> = {};
/** Operations seen, in order. */
const seen: string[] = [];
/** Operations whose next call is carried out, then its connection cut without an answer. */
const dropNext = new Set<string>();

let server: Server;

function read(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

function createAccessKey(): Answer {
  const id = `AKIANEW${keys.length + 1}`;
  keys.push(id);
  return {
    status: 200,
    contentType: 'text/xml',
    body:
      '<CreateAccessKeyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateAccessKeyResult><AccessKey>' +
      `<UserName>smtp</UserName><AccessKeyId>${id}</AccessKeyId><Status>Active</Status>` +
      '<SecretAccessKey>wire-test-secret</SecretAccessKey><CreateDate>2024-05-01T00:00:00Z</CreateDate>' +
      '</AccessKey></CreateAccessKeyResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></CreateAccessKeyResponse>',
  };
}

function json(body: unknown, status = 200): Answer {
  return { status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(body) };
}

/** Secrets Manager's rule: RemoveFromVersionId must name the version that holds the label. */
function updateSecretVersionStage(input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }): Answer {
  const { VersionStage: stage, MoveToVersionId: to, RemoveFromVersionId: from } = input;
  const holder = Object.keys(labels).find((id) => labels[id]?.includes(stage));
  if (from !== undefined && holder !== from) {
    return json({ __type: 'InvalidParameterException', message: `RemoveFromVersionId must hold ${stage}` }, 400);
  }
  if (holder !== undefined) labels[holder] = (labels[holder] ?? []).filter((s) => s !== stage);
  if (to !== undefined) labels[to] = [...(labels[to] ?? []), stage];
  return json({ ARN: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:smtp-AbCdEf', Name: 'smtp' });
}

function serve(operation: string, body: string): Answer {
  if (operation === 'CreateAccessKey') return createAccessKey();
  if (operation === 'DescribeSecret') {
    return json({ ARN: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:smtp-AbCdEf', Name: 'smtp', VersionIdsToStages: labels });
  }
  if (operation === 'UpdateSecretVersionStage') return updateSecretVersionStage(JSON.parse(body) as { VersionStage: string });
  return json({ __type: 'InvalidAction', message: operation }, 400);
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = await read(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target ? (target.split('.')[1] ?? '') : (new URLSearchParams(body).get('Action') ?? '');
    seen.push(operation);
    const { status, contentType, body: answer } = serve(operation, body);
    if (dropNext.delete(operation)) {
      request.socket.destroy();
      return;
    }
    response.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': 'r1' });
    response.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Set before the first client is created (clients.ts creates them lazily); the SDK's own
  // retry settings stay the production ones.
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_REGION = 'eu-central-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIALAMBDAROLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'lambda-role-secret';
  delete process.env.AWS_MAX_ATTEMPTS;
  delete process.env.AWS_RETRY_MODE;
});

afterAll(async () => {
  for (const client of [iamClient(), iamClientWithoutRetries(), secretsManagerClient()]) client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  keys.length = 0;
  seen.length = 0;
  dropNext.clear();
});

describe('IAM CreateAccessKey whose answer is lost', () => {
  it('is sent once, as the handlers build the directory, and fails with TransientAwsError leaving one key', async () => {
    // Prepare
    const directory = new IamAccessKeyDirectory(iamClient());
    dropNext.add('CreateAccessKey');

    // Act
    const error: unknown = await directory.createAccessKey('smtp').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransientAwsError);
    expect(seen).toEqual(['CreateAccessKey']);
    expect(keys).toEqual(['AKIANEW1']);
  });

  it('would be sent again, making a second key, through the retrying client (why it has its own)', async () => {
    // Prepare
    const directory = new IamAccessKeyDirectory(iamClient(), { createKeyClient: iamClient() });
    dropNext.add('CreateAccessKey');

    // Act
    const created = await directory.createAccessKey('smtp');

    // Assess
    expect(created.accessKeyId).toBe('AKIANEW2');
    expect(keys).toEqual(['AKIANEW1', 'AKIANEW2']);
  });
});

describe('Secrets Manager UpdateSecretVersionStage whose answer is lost', () => {
  // Made in each test: the module-scope client must not exist before beforeAll sets the endpoint.
  const store = () => new SecretsManagerSecretStore(secretsManagerClient(), { versionDates: false });

  it('moves AWSCURRENT: the SDK re-send is refused, the labels show the move, the promotion succeeds', async () => {
    // Prepare
    labels = { old: ['AWSCURRENT'], new: ['AWSPENDING'] };
    dropNext.add('UpdateSecretVersionStage');

    // Act
    await store().moveStage('smtp', 'AWSCURRENT', 'new', 'old');

    // Assess
    expect(seen).toEqual(['DescribeSecret', 'UpdateSecretVersionStage', 'UpdateSecretVersionStage', 'DescribeSecret']);
    expect(labels).toEqual({ old: [], new: ['AWSPENDING', 'AWSCURRENT'] });
  });

  it('removes AWSPENDING: the SDK re-send is refused, the labels show the removal', async () => {
    // Prepare
    labels = { old: ['AWSPREVIOUS'], new: ['AWSCURRENT', 'AWSPENDING'] };
    dropNext.add('UpdateSecretVersionStage');

    // Act
    await store().removeStage('smtp', 'AWSPENDING', 'new');

    // Assess
    expect(seen.filter((op) => op === 'UpdateSecretVersionStage')).toHaveLength(2);
    expect(labels).toEqual({ old: ['AWSPREVIOUS'], new: ['AWSCURRENT'] });
  });
});

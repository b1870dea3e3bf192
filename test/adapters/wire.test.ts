/**
 * The adapters against real SDK clients talking HTTP to a tiny fake endpoint on 127.0.0.1:
 * proves that `AWS_ENDPOINT_URL` redirects the module-scope clients and the per-call STS client,
 * that the candidate key signs the STS call, and that the error codes AWS puts on the wire
 * (query XML for IAM/STS, JSON for Secrets Manager/DynamoDB) reach the typed mappings.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dynamoDbClient, iamClient, sdkClientConfig, secretsManagerClient } from '../../lambdas/adapters/clients';
import { DynamoDbRotationLock } from '../../lambdas/adapters/dynamodb-rotation-lock';
import { IamAccessKeyDirectory } from '../../lambdas/adapters/iam-access-key-directory';
import { SecretsManagerSecretStore } from '../../lambdas/adapters/secrets-manager-secret-store';
import { StsCredentialVerifier } from '../../lambdas/adapters/sts-credential-verifier';
import {
  KeyNotPropagatedError,
  RotationInProgressError,
  SecretNotFoundError,
  TransientAwsError,
  UserNotFoundError,
  VerificationFailedError,
} from '../../lambdas/core/errors';

interface Answer {
  status: number;
  body: string;
  contentType: string;
}

interface Seen {
  authorization: string;
  target: string;
  body: string;
}

let server: Server;
const seen: Seen[] = [];
let answer: (request: Seen) => Answer = () => ({ status: 500, body: '', contentType: 'text/plain' });

function queryError(code: string, status = 400): Answer {
  return {
    status,
    contentType: 'text/xml',
    body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>echo of the request</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
  };
}

function jsonError(type: string, status = 400): Answer {
  return { status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: type, message: 'echo of the request' }) };
}

function read(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const entry = {
      authorization: String(request.headers.authorization ?? ''),
      target: String(request.headers['x-amz-target'] ?? ''),
      body: await read(request),
    };
    seen.push(entry);
    const { status, body, contentType } = answer(entry);
    response.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': 'r1' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Set before the first client is created: clients.ts creates them lazily.
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_REGION = 'eu-central-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIALAMBDAROLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'lambda-role-secret';
  process.env.AWS_MAX_ATTEMPTS = '1';
});

afterAll(async () => {
  for (const client of [iamClient(), secretsManagerClient(), dynamoDbClient()]) client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
});

describe('STS through AWS_ENDPOINT_URL', () => {
  const verifier = new StsCredentialVerifier(sdkClientConfig());

  it('signs with the candidate key in the Lambda region and returns the caller ARN', async () => {
    // Prepare
    answer = () => ({
      status: 200,
      contentType: 'text/xml',
      body:
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        '<Arn>arn:aws:iam::111122223333:user/smtp</Arn><UserId>AIDA1</UserId><Account>111122223333</Account>' +
        '</GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
    });

    // Act
    const arn = await verifier.callerArn('AKIACANDIDATE', 'candidate-secret');

    // Assess
    expect(arn).toBe('arn:aws:iam::111122223333:user/smtp');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.authorization).toMatch(/Credential=AKIACANDIDATE\/\d{8}\/eu-central-1\/sts\/aws4_request/);
    expect(seen[0]?.body).toContain('Action=GetCallerIdentity');
  });

  it('maps InvalidClientTokenId to KeyNotPropagatedError after exactly one attempt', async () => {
    answer = () => queryError('InvalidClientTokenId', 403);

    await expect(verifier.callerArn('AKIACANDIDATE', 'candidate-secret')).rejects.toThrow(KeyNotPropagatedError);
    expect(seen).toHaveLength(1);
  });

  it('maps SignatureDoesNotMatch to VerificationFailedError', async () => {
    answer = () => queryError('SignatureDoesNotMatch', 403);

    await expect(verifier.callerArn('AKIACANDIDATE', 'candidate-secret')).rejects.toThrow(VerificationFailedError);
  });
});

describe('IAM, Secrets Manager and DynamoDB through AWS_ENDPOINT_URL', () => {
  it('reads the NoSuchEntity code of an IAM XML error as UserNotFoundError, signed with the Lambda role', async () => {
    answer = () => queryError('NoSuchEntity', 404);

    await expect(new IamAccessKeyDirectory(iamClient()).listAccessKeys('ghost')).rejects.toThrow(UserNotFoundError);
    expect(seen[0]?.authorization).toMatch(/Credential=AKIALAMBDAROLE\/\d{8}\/eu-central-1\/iam\/aws4_request/);
    expect(seen[0]?.body).toContain('Action=ListAccessKeys');
  });

  it('reads an IAM Throttling XML error as TransientAwsError', async () => {
    answer = () => queryError('Throttling', 400);

    await expect(new IamAccessKeyDirectory(iamClient()).getUser('smtp')).rejects.toThrow(TransientAwsError);
  });

  it('reads a Secrets Manager ResourceNotFoundException as SecretNotFoundError', async () => {
    answer = () => jsonError('ResourceNotFoundException');

    await expect(new SecretsManagerSecretStore(secretsManagerClient()).describe('nope')).rejects.toThrow(SecretNotFoundError);
    expect(seen[0]?.target).toBe('secretsmanager.DescribeSecret');
  });

  it('reads a DynamoDB ConditionalCheckFailedException as a held lock', async () => {
    answer = (request) =>
      request.target.endsWith('PutItem')
        ? jsonError('com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException')
        : {
            status: 200,
            contentType: 'application/x-amz-json-1.0',
            body: JSON.stringify({ Item: { userName: { S: 'smtp' }, owner: { S: 'rot-other' }, expiresAt: { N: '9999999999' } } }),
          };

    const failure = new DynamoDbRotationLock(dynamoDbClient(), 'locks').acquire('smtp', 'rot-1', new Date(Date.now() + 60_000));

    await expect(failure).rejects.toThrow(RotationInProgressError);
    await expect(failure).rejects.toThrow(/rot-other/);
  });
});

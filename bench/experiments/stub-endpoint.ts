/**
 * A tiny AWS endpoint for the bundle experiments: just enough IAM (query/XML), KMS and DynamoDB
 * (JSON) for the experiment handlers to make real SDK calls, and a full SigV4 check of every
 * request against the credentials the handler was given. A bundling trick that breaks signing,
 * credentials, serialisation or parsing therefore fails the experiment instead of producing a
 * small, broken bundle. (The project's real local endpoint lives in local/; this stub keeps the
 * experiments independent of it.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface StubCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface StubRequest {
  readonly service: string;
  readonly action: string;
  readonly accessKeyId: string;
  readonly signatureValid: boolean;
}

export interface StubEndpoint {
  readonly url: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

/** "Ciphertext" of the stub KMS: reversible on purpose, the experiments only need a round trip. */
const SEAL_PREFIX = 'stub-kms:';
export function stubSeal(plaintext: string): string {
  return Buffer.from(SEAL_PREFIX + plaintext, 'utf8').toString('base64');
}

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/;

/** Re-signs the request with the expected secret and compares signatures. */
async function verifySignature(
  req: http.IncomingMessage,
  body: string,
  credentials: StubCredentials,
): Promise<{ accessKeyId: string; service: string; valid: boolean }> {
  const match = AUTH_PATTERN.exec(req.headers.authorization ?? '');
  if (!match) return { accessKeyId: '', service: '', valid: false };
  const [, accessKeyId = '', , region = '', service = '', signedHeaderList = '', signature = ''] = match;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signedHeaders = signedHeaderList.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '');
  const url = new URL(req.url ?? '/', 'http://stub');
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ''))?.[1];
  return { accessKeyId, service, valid: accessKeyId === credentials.accessKeyId && expected === signature };
}

function iamResponse(action: string, params: URLSearchParams): { status: number; body: string } {
  const userName = params.get('UserName') ?? 'unknown';
  const ns = 'https://iam.amazonaws.com/doc/2010-05-08/';
  const meta = '<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>';
  switch (action) {
    case 'ListAccessKeys':
      return {
        status: 200,
        body:
          `<ListAccessKeysResponse xmlns="${ns}"><ListAccessKeysResult><AccessKeyMetadata>` +
          `<member><UserName>${userName}</UserName><AccessKeyId>AKIASTUBOLDKEY000001</AccessKeyId><Status>Active</Status>` +
          `<CreateDate>2024-01-02T03:04:05Z</CreateDate></member>` +
          `</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult>${meta}</ListAccessKeysResponse>`,
      };
    case 'CreateAccessKey':
      return {
        status: 200,
        body:
          `<CreateAccessKeyResponse xmlns="${ns}"><CreateAccessKeyResult><AccessKey>` +
          `<UserName>${userName}</UserName><AccessKeyId>AKIASTUBNEWKEY000002</AccessKeyId><Status>Active</Status>` +
          `<SecretAccessKey>stub-secret-access-key</SecretAccessKey><CreateDate>2024-05-06T07:08:09Z</CreateDate>` +
          `</AccessKey></CreateAccessKeyResult>${meta}</CreateAccessKeyResponse>`,
      };
    case 'UpdateAccessKey':
    case 'DeleteAccessKey':
      return { status: 200, body: `<${action}Response xmlns="${ns}">${meta}</${action}Response>` };
    default:
      return {
        status: 400,
        body: `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>stub: ${action}</Message></Error>${meta}</ErrorResponse>`,
      };
  }
}

function jsonResponse(target: string, input: Record<string, unknown>): { status: number; body: unknown } {
  switch (target) {
    case 'TrentService.Encrypt':
      return {
        status: 200,
        body: {
          KeyId: 'arn:aws:kms:us-east-1:123456789012:key/stub',
          CiphertextBlob: stubSeal(Buffer.from(String(input.Plaintext ?? ''), 'base64').toString('utf8')),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        },
      };
    case 'TrentService.Decrypt': {
      const sealed = Buffer.from(String(input.CiphertextBlob ?? ''), 'base64').toString('utf8');
      if (!sealed.startsWith(SEAL_PREFIX)) return { status: 400, body: { __type: 'InvalidCiphertextException', message: 'stub' } };
      return {
        status: 200,
        body: {
          KeyId: 'arn:aws:kms:us-east-1:123456789012:key/stub',
          Plaintext: Buffer.from(sealed.slice(SEAL_PREFIX.length), 'utf8').toString('base64'),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        },
      };
    }
    case 'DynamoDB_20120810.GetItem':
    case 'DynamoDB_20120810.PutItem':
      return { status: 200, body: {} };
    default:
      return { status: 400, body: { __type: 'UnknownOperationException', message: `stub: ${target}` } };
  }
}

/** Starts the stub on 127.0.0.1 (a free port). */
export async function startStubEndpoint(credentials: StubCredentials): Promise<StubEndpoint> {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      void (async () => {
        const check = await verifySignature(req, body, credentials);
        const target = req.headers['x-amz-target'];
        if (typeof target === 'string') {
          requests.push({ service: check.service, action: target, accessKeyId: check.accessKeyId, signatureValid: check.valid });
          const reply = check.valid
            ? jsonResponse(target, JSON.parse(body || '{}') as Record<string, unknown>)
            : { status: 403, body: { __type: 'InvalidSignatureException', message: 'stub: signature mismatch' } };
          const contentType = target.startsWith('DynamoDB') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
          res.writeHead(reply.status, { 'content-type': contentType }).end(JSON.stringify(reply.body));
          return;
        }
        const params = new URLSearchParams(body);
        const action = params.get('Action') ?? '';
        requests.push({ service: check.service, action, accessKeyId: check.accessKeyId, signatureValid: check.valid });
        const reply = check.valid
          ? iamResponse(action, params)
          : {
              status: 403,
              body: '<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>stub</Message></Error></ErrorResponse>',
            };
        res.writeHead(reply.status, { 'content-type': 'text/xml' }).end(reply.body);
      })().catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as zlib from 'node:zlib';
import type { CallLog } from './control/call-log';
import type { FaultAction, Faults } from './control/faults';
import type { Throttle } from './control/throttle';
import { AwsError } from './errors';
import type { CallContext, Caller, JsonOperation, QueryOperation, ServiceName } from './protocol/context';
import { JsonInput, QueryInput } from './protocol/input';
import { parseAuthorization, verifySignature } from './protocol/sigv4';
import { type QueryService, jsonContentType, jsonErrorBody, queryErrorBody, queryResponseBody, toJsonValue } from './protocol/wire';
import type { IamModel } from './services/iam';
import type { EndpointClock } from './util';

type JsonService = Exclude<ServiceName, QueryService>;

export interface ServerDeps {
  readonly accountId: string;
  readonly clock: EndpointClock;
  readonly iam: IamModel;
  readonly propagationDelayMs: () => number;
  readonly throttle: Throttle;
  readonly faults: Faults;
  readonly calls: CallLog;
  readonly queryApis: Readonly<Record<QueryService, Readonly<Record<string, QueryOperation>>>>;
  readonly jsonApis: Readonly<Record<JsonService, Readonly<Record<string, JsonOperation>>>>;
  /** Each service's parameter-validation error. */
  readonly invalid: Readonly<Record<ServiceName, (message: string) => AwsError>>;
  /** Saves the state file if anything changed. */
  readonly flush: () => void;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** `X-Amz-Target` prefixes of the JSON protocol services. */
const TARGET_PREFIXES: Readonly<Record<string, JsonService>> = {
  secretsmanager: 'secretsmanager',
  TrentService: 'kms',
  DynamoDB_20120810: 'dynamodb',
};

/** STS actions, to tell STS from IAM when a query request carries no credential scope. */
const STS_ACTIONS = new Set(['GetCallerIdentity', 'AssumeRole', 'GetSessionToken', 'GetAccessKeyInfo', 'GetFederationToken', 'DecodeAuthorizationMessage']);

const DYNAMODB_ITEM_OPERATIONS = new Set(['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem']);

const INVALID_TOKEN_MESSAGE = 'The security token included in the request is invalid.';
const SIGNATURE_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

type Route =
  | { readonly protocol: 'query'; readonly service: QueryService; readonly operation: string; readonly params: URLSearchParams }
  | { readonly protocol: 'json'; readonly service: JsonService; readonly operation: string };

/** Authentication errors in each protocol's own words (query services answer 403, JSON ones 400). */
function authError(route: Route, kind: 'invalid-token' | 'signature' | 'missing' | 'incomplete'): AwsError {
  const query = route.protocol === 'query';
  switch (kind) {
    case 'invalid-token':
      return query ? new AwsError('InvalidClientTokenId', INVALID_TOKEN_MESSAGE, 403) : new AwsError('UnrecognizedClientException', INVALID_TOKEN_MESSAGE, 400);
    case 'signature':
      return query ? new AwsError('SignatureDoesNotMatch', SIGNATURE_MESSAGE, 403) : new AwsError('InvalidSignatureException', SIGNATURE_MESSAGE, 400);
    case 'missing':
      return query
        ? new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
        : new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400);
    case 'incomplete':
      return new AwsError(query ? 'IncompleteSignature' : 'IncompleteSignatureException', 'The request signature does not conform to AWS standards.', 400);
  }
}

/** Each service's own throttling error, the one its SDK client classifies as throttling. */
function throttlingError(service: ServiceName, operation: string): AwsError {
  switch (service) {
    case 'iam':
    case 'sts':
      return new AwsError('Throttling', 'Rate exceeded', 400);
    case 'secretsmanager':
      return new AwsError('ThrottlingException', 'Rate exceeded', 400);
    case 'kms':
      return new AwsError('ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.', 400);
    case 'dynamodb':
      return DYNAMODB_ITEM_OPERATIONS.has(operation)
        ? new AwsError(
            'ProvisionedThroughputExceededException',
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
            400,
          )
        : new AwsError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.', 400);
  }
}

/** The error a `fail` fault answers with by default: the service's internal error. */
function faultError(service: ServiceName, action: Extract<FaultAction, { mode: 'fail' }>): AwsError {
  const internal: Record<ServiceName, string> = {
    iam: 'ServiceFailure',
    sts: 'InternalFailure',
    secretsmanager: 'InternalServiceError',
    kms: 'KMSInternalException',
    dynamodb: 'InternalServerError',
  };
  const code = action.code ?? internal[service];
  const status = action.status ?? (action.code === undefined ? 500 : 400);
  return new AwsError(code, action.message ?? `Injected fault: ${code} (local AWS endpoint)`, status);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new AwsError('RequestEntityTooLargeException', 'Request body too large', 413);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Tells the service and operation apart: `X-Amz-Target` for the JSON protocols, the SigV4
 * credential scope (then the action name) for the query protocol.
 */
function route(req: IncomingMessage, body: Buffer): Route {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const dot = target.lastIndexOf('.');
    const service = TARGET_PREFIXES[target.slice(0, dot)];
    if (dot < 0 || service === undefined) throw new AwsError('UnknownOperationException', `Unknown target ${target}`, 400);
    return { protocol: 'json', service, operation: target.slice(dot + 1) };
  }
  const url = new URL(req.url ?? '/', 'http://local');
  const params = new URLSearchParams(body.toString('utf8'));
  for (const [name, value] of url.searchParams) if (!params.has(name)) params.set(name, value);
  const operation = params.get('Action') ?? '';
  const scoped = parseAuthorization(req.headers.authorization)?.service;
  const service: QueryService = scoped === 'iam' || scoped === 'sts' ? scoped : STS_ACTIONS.has(operation) ? 'sts' : 'iam';
  return { protocol: 'query', service, operation, params };
}

/**
 * The request pipeline: route → authenticate → throttle → faults → operation → save state →
 * answer (or drop the connection) → call log. Each step either passes or answers with the
 * AWS error the real service would send.
 */
export function createRequestHandler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  function authenticate(req: IncomingMessage, body: Buffer, r: Route): { caller: Caller; region: string; principal: string } {
    const header = req.headers.authorization;
    if (header === undefined) throw authError(r, 'missing');
    const auth = parseAuthorization(header);
    if (!auth) throw authError(r, 'incomplete');
    const key = deps.iam.findAccessKey(auth.accessKeyId);
    if (!key) {
      // A deleted key must keep failing; any other unknown key id is the admin principal.
      if (deps.iam.isRetired(auth.accessKeyId)) throw authError(r, 'invalid-token');
      return { caller: { kind: 'admin', accessKeyId: auth.accessKeyId }, region: auth.region, principal: 'admin' };
    }
    const age = deps.clock.now().getTime() - key.createDate.getTime();
    // An Inactive key, or one IAM has not propagated yet, is unknown to the service.
    if (key.status !== 'Active' || age < deps.propagationDelayMs()) throw authError(r, 'invalid-token');
    const signed = { method: req.method ?? 'GET', url: req.url ?? '/', rawHeaders: req.rawHeaders, body };
    if (!verifySignature(signed, auth, key.secretAccessKey)) throw authError(r, 'signature');
    deps.iam.recordUse(key.accessKeyId, auth.service, auth.region);
    const user = deps.iam.getUser(key.userName);
    return {
      caller: { kind: 'user', accessKeyId: key.accessKeyId, userName: key.userName },
      region: auth.region,
      principal: deps.iam.userArn(user),
    };
  }

  function send(res: ServerResponse, r: Route | undefined, status: number, body: string, requestId: string): void {
    const headers: Record<string, string | number> = { 'x-amzn-RequestId': requestId, 'Content-Length': Buffer.byteLength(body) };
    if (r?.protocol === 'json') {
      headers['Content-Type'] = jsonContentType(r.service);
      // DynamoDB checksums its answers; zlib.crc32 exists from Node.js 22.2 (the project runs 24).
      if (r.service === 'dynamodb' && typeof zlib.crc32 === 'function') headers['x-amz-crc32'] = zlib.crc32(Buffer.from(body, 'utf8'));
    } else {
      headers['Content-Type'] = 'text/xml';
    }
    res.writeHead(status, headers);
    res.end(body);
  }

  function sendError(res: ServerResponse, r: Route | undefined, error: AwsError, requestId: string, json: boolean): void {
    if (r?.protocol === 'json' || (!r && json)) {
      const body = jsonErrorBody(error);
      if (r) send(res, r, error.status, body, requestId);
      else {
        res.writeHead(error.status, { 'x-amzn-RequestId': requestId, 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      }
      return;
    }
    send(res, r, error.status, queryErrorBody(r?.service ?? 'iam', error, requestId), requestId);
  }

  /** Finds the operation and reads its input; throws the protocol's error for an unknown one. */
  function prepare(r: Route, body: Buffer): (ctx: CallContext) => unknown {
    if (r.protocol === 'query') {
      const operation = deps.queryApis[r.service][r.operation];
      const version = r.service === 'iam' ? '2010-05-08' : '2011-06-15';
      if (!operation) throw new AwsError('InvalidAction', `Could not find operation ${r.operation} for version ${version}`, 400);
      const input = new QueryInput(r.params, deps.invalid[r.service]);
      return (ctx) => operation(input, ctx);
    }
    const operation = deps.jsonApis[r.service][r.operation];
    if (!operation) throw new AwsError('UnknownOperationException', '', 400);
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AwsError('SerializationException', 'Start of structure or map found where not expected.', 400);
    }
    const input = new JsonInput(parsed as Record<string, unknown>, deps.invalid[r.service]);
    return (ctx) => operation(input, ctx);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const time = deps.clock.now();
    let r: Route | undefined;
    let principal: string | undefined;
    let injected: 'throttle' | 'fault' | undefined;
    const accessKeyId = parseAuthorization(req.headers.authorization)?.accessKeyId;
    const log = (outcome: 'ok' | 'error' | 'dropped', status: number, errorCode?: string) => {
      if (!r) return;
      deps.calls.add({ service: r.service, operation: r.operation, time, outcome, status, errorCode, injected, accessKeyId, principal });
    };
    try {
      const body = await readBody(req);
      r = route(req, body);
      const current = r;
      const { caller, region, principal: who } = authenticate(req, body, current);
      principal = who;
      const ctx = { caller, region, requestId };
      if (deps.throttle.throttled(current.service, current.operation)) {
        injected = 'throttle';
        throw throttlingError(current.service, current.operation);
      }
      const invoke = prepare(current, body);
      const fault = deps.faults.next(current.service, current.operation);
      if (fault?.mode === 'fail') {
        injected = 'fault';
        throw faultError(current.service, fault);
      }
      const result = await invoke(ctx);
      deps.flush();
      if (fault?.mode === 'drop') {
        // The side effect happened and is saved; the answer is lost, as when a network fails.
        injected = 'fault';
        req.socket.destroy();
        log('dropped', 0);
        return;
      }
      const text =
        current.protocol === 'query'
          ? queryResponseBody(current.service, current.operation, result, requestId)
          : JSON.stringify(toJsonValue(result ?? {}) ?? {});
      send(res, current, 200, text, requestId);
      log('ok', 200);
    } catch (caught) {
      const error =
        caught instanceof AwsError
          ? caught
          : new AwsError('InternalFailure', `internal error in the local AWS endpoint (${caught instanceof Error ? `${caught.name}: ${caught.message}` : 'unknown'})`, 500);
      try {
        deps.flush();
      } catch {
        // The answer below already reports a failure.
      }
      sendError(res, r, error, requestId, typeof req.headers['x-amz-target'] === 'string');
      log('error', error.status, error.code);
    }
  }

  return (req, res) => {
    void handle(req, res);
  };
}

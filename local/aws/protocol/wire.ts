import { XMLBuilder } from 'fast-xml-parser';
import type { AwsError } from '../errors';
import { epochSeconds, isoSeconds } from '../util';
import type { ServiceName } from './context';

/** The XML namespaces of the query protocol services. */
export const QUERY_NAMESPACES = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
} as const;

export type QueryService = keyof typeof QUERY_NAMESPACES;

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: false, processEntities: true });

/**
 * A result object as the query protocol's XML tree: lists become `<member>` elements (an empty
 * list an empty element), timestamps ISO 8601, absent members are left out.
 */
function toXmlTree(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return isoSeconds(value);
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length === 0 ? '' : { member: value.map(toXmlTree) };
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const converted = toXmlTree(v);
      if (converted !== undefined) out[k] = converted;
    }
    return out;
  }
  return String(value);
}

/** `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId>…` */
export function queryResponseBody(service: QueryService, operation: string, result: unknown, requestId: string): string {
  const response: Record<string, unknown> = { '@_xmlns': QUERY_NAMESPACES[service] };
  const tree = toXmlTree(result);
  if (tree !== undefined) response[`${operation}Result`] = tree;
  response.ResponseMetadata = { RequestId: requestId };
  return builder.build({ [`${operation}Response`]: response }) as string;
}

/** `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…` */
export function queryErrorBody(service: QueryService, error: AwsError, requestId: string): string {
  return builder.build({
    ErrorResponse: {
      '@_xmlns': QUERY_NAMESPACES[service],
      Error: { Type: error.status >= 500 ? 'Receiver' : 'Sender', Code: error.code, Message: error.message },
      RequestId: requestId,
    },
  }) as string;
}

/** A response object in the AWS JSON protocols: timestamps as epoch seconds, blobs as base64. */
export function toJsonValue(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return epochSeconds(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const converted = toJsonValue(v);
      if (converted !== undefined) out[k] = converted;
    }
    return out;
  }
  return value;
}

export function jsonErrorBody(error: AwsError): string {
  return JSON.stringify({ __type: error.code, message: error.message, ...(toJsonValue(error.fields) as object) });
}

/** JSON 1.0 for DynamoDB, 1.1 for Secrets Manager and KMS. */
export function jsonContentType(service: ServiceName): string {
  return service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
}

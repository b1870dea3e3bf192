/**
 * An error the emulated AWS service answers with. `code` is AWS's error code (the SDK's
 * exception name), `status` the HTTP status AWS uses for it. The protocol layer turns it into
 * the service's own error body (XML `ErrorResponse` or JSON `__type`).
 *
 * Messages name resources (user names, key ids, secret names) and never a secret value.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra members of the error body, e.g. DynamoDB's `Item` on a failed condition. */
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

/** Builds the parameter-validation error of one service (each names it differently). */
export type InvalidInput = (message: string) => AwsError;

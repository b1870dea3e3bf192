/**
 * SDK-shaped errors for aws-sdk-client-mock: what a v3 client throws for an AWS error answer
 * (`name` = the error code, `$fault`, `$metadata.httpStatusCode`) or a dropped socket.
 */
export function awsError(code: string, status = 400, message = `${code} from AWS`): Error {
  return Object.assign(new Error(message), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });
}

export function socketError(code: string, message = `connect ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

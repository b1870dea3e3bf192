/**
 * Stand-in for `@smithy/core/event-streams` in keyrotate's Lambda bundles (wired by the esbuild
 * alias in infra/slim-bundling.ts).
 *
 * Why: the SDK's HTTP protocol layer reaches event-stream support through a dynamic import,
 * so every client carries the whole event-stream codec (~15 KB minified, plus CRC32, which
 * loads node:zlib at start-up) even though none of the services keyrotate calls (IAM, STS,
 * Secrets Manager, KMS, DynamoDB) has an event-stream operation. If one ever gets here, fail
 * loudly instead of mis-serialising.
 */
function unsupported(): never {
  throw new Error('event streams are not bundled in keyrotate Lambdas (infra/slim-bundling.ts aliases them away)');
}

export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}

export const eventStreamSerdeProvider = (): never => unsupported();

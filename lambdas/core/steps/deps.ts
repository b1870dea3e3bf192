/**
 * What every rotation step may talk to. Each step takes only the ports it needs
 * (`Pick<RotationDeps, …>`), so a handler builds exactly the clients its Lambda role allows.
 */
import type {
  AccessKeyDirectory,
  Clock,
  CredentialVerifier,
  PgpKeyFetcher,
  RotationLock,
  SecretSealer,
  SecretStore,
} from '../ports';

export interface RotationDeps {
  readonly directory: AccessKeyDirectory;
  readonly secrets: SecretStore;
  readonly sealer: SecretSealer;
  readonly verifier: CredentialVerifier;
  readonly lock: RotationLock;
  readonly clock: Clock;
  readonly pgpFetcher: PgpKeyFetcher;
  /** Waits `ms` milliseconds (`setTimeout` in Lambda; tests advance a fake clock instead). */
  readonly sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for retry jitter (`Math.random` in Lambda). */
  readonly random: () => number;
}

/**
 * The contracts of keyrotate. Names are part of the public contract:
 * extend, never rename.
 */

export type KeyStatus = 'Active' | 'Inactive';

/** What IAM knows about one access key (ListAccessKeys + GetAccessKeyLastUsed). */
export interface AccessKeyInfo {
  readonly accessKeyId: string;
  readonly status: KeyStatus;
  readonly createDate: Date;
  /** Absent when the key was never used (or the caller did not ask). */
  readonly lastUsedDate?: Date;
}

export type Delivery =
  | { readonly type: 'secretsManager'; readonly secretId: string }
  | { readonly type: 'pgp'; readonly pgpKey: string };

/** What to do with the old key once the new one is delivered and verified. */
export type OldKeyAction = 'delete' | 'deactivate';

export interface OldKeyPolicy {
  /** `delete`: deactivate, wait `deletionDelaySeconds`, delete. `deactivate`: leave it Inactive. */
  readonly action: OldKeyAction;
  /** Wait between delivering the new key and deactivating the old one. */
  readonly gracePeriodSeconds: number;
  /** Wait between deactivating and deleting the old key. */
  readonly deletionDelaySeconds: number;
  /** If > 0, the old key must not have been used for this long before it is deactivated. */
  readonly requireUnusedSeconds: number;
}

/** The execution input, as a user writes it (all optional fields may be missing). */
export interface RotationInput {
  readonly userName?: string;
  readonly accessKeyId?: string;
  readonly oldAccessKeyId?: string;
  readonly delivery?: Delivery;
  readonly sesSmtpRegions?: readonly string[];
  readonly allowUnlistedSesRegions?: boolean;
  readonly newKeyStatus?: KeyStatus;
  readonly oldKey?: Partial<OldKeyPolicy>;
  readonly dryRun?: boolean;
}

/** The validated, defaulted request (parseRotationInput's result). */
export interface RotationRequest {
  /** Exactly one of userName / accessKeyId is set by the user; Plan resolves the user name. */
  readonly userName?: string;
  readonly accessKeyId?: string;
  /** The key the caller says is current (the one to retire). Optional. */
  readonly oldAccessKeyId?: string;
  readonly delivery: Delivery;
  readonly sesSmtpRegions: readonly string[];
  readonly newKeyStatus: KeyStatus;
  readonly oldKey: OldKeyPolicy;
  readonly dryRun: boolean;
}

/** Where the "current key" knowledge came from. */
export type CurrentKeySource = 'secretsManager' | 'oldAccessKeyId' | 'accessKeyId' | 'onlyActiveKey' | 'none';

/**
 * Why the stale key must go first. `inactive`: an Inactive leftover (never current). `unfinishedRetirement`:
 * an Active key an earlier rotation replaced (the secret was moved off it: the value labelled AWSPREVIOUS;
 * or keyrotate's delivery record names it as replaced) but failed to retire; PurgeStaleKey deactivates
 * it before deleting it.
 */
export type StaleKeyReason = 'inactive' | 'unfinishedRetirement';

/** Plan's decision (pure planKeys result, plus the resolved identity). */
export interface KeyPlan {
  /** The key to retire after the new one is verified, or null when the user has none. */
  readonly oldAccessKeyId: string | null;
  /** An Inactive leftover to delete first so CreateAccessKey has room, or null. */
  readonly staleAccessKeyId: string | null;
  /** Set exactly when staleAccessKeyId is; a plan without it (older Plan) means `inactive`. */
  readonly staleKeyReason?: StaleKeyReason;
  readonly currentKeySource: CurrentKeySource;
  /** Key ids that existed before this rotation (orphan detection). */
  readonly snapshot: readonly string[];
}

/**
 * The `$.plan` object of the state machine: everything later steps need, references only.
 * Produced by the Plan Lambda.
 */
export interface RotationPlan extends KeyPlan {
  readonly rotationId: string;
  readonly userName: string;
  readonly userArn: string;
  readonly delivery: Delivery;
  readonly sesSmtpRegions: readonly string[];
  readonly newKeyStatus: KeyStatus;
  readonly oldKey: OldKeyPolicy;
  readonly dryRun: boolean;
  /** ISO time until which this rotation holds the per-user lock. */
  readonly lockExpiresAt: string;
  /**
   * Dry runs only take no lock: the rotation id of another rotation holding the user's lock
   * (a real run would fail with RotationInProgressError), else null. Absent on real runs.
   */
  readonly lockHeldBy?: string | null;
}

/** `$.newKey`: CreateKey's result. The secret travels only sealed. */
export interface NewKeyRef {
  readonly accessKeyId: string;
  readonly status: KeyStatus;
  /** RFC 3339 UTC. */
  readonly createDate: string;
  /** KMS ciphertext (base64) of the secret access key; context: rotationId, accessKeyId, purpose. */
  readonly sealedSecret: string;
}

/** `$.smtp`: DeriveSmtpPasswords' result; sealed JSON `{ region: password }`. */
export interface SmtpPasswordsRef {
  readonly regions: readonly string[];
  /** null when no region was asked for. */
  readonly sealedPasswords: string | null;
}

export type DeliveryResult =
  | { readonly type: 'secretsManager'; readonly secretArn: string; readonly secretVersionId: string }
  | {
      readonly type: 'pgp';
      readonly encryptedSecret: string;
      /** For the first SES region (Terraform's single attribute); null without regions. */
      readonly encryptedSesSmtpPasswordV4: string | null;
      /** Every region's password, encrypted; {} without regions. */
      readonly encryptedSesSmtpPasswords: Readonly<Record<string, string>>;
      readonly keyFingerprint: string;
    };

/** The execution output (Terraform attribute names in camelCase). Never a plaintext secret. */
export interface RotationOutput {
  readonly id: string;
  readonly userName: string;
  readonly status: KeyStatus;
  readonly createDate: string;
  readonly sesSmtpRegions: readonly string[];
  readonly secretArn?: string;
  readonly secretVersionId?: string;
  readonly encryptedSecret?: string;
  readonly encryptedSesSmtpPasswordV4?: string | null;
  readonly encryptedSesSmtpPasswords?: Readonly<Record<string, string>>;
  readonly keyFingerprint?: string;
  /**
   * The retired key. `kept`: newKeyStatus was Inactive, so the old key stays Active (retiring it
   * would leave the user without a working key).
   */
  readonly previousKey: { readonly id: string; readonly action: 'deleted' | 'deactivated' | 'kept' } | null;
  readonly rotationId: string;
  /**
   * Present only when clean-up at the very end failed after the rotation's work was done (the
   * lock could not be released, the deactivated old key could not be deleted): what is left and
   * what resolves it. Identifiers and error names only.
   */
  readonly warnings?: readonly string[];
}

/** The JSON stored in Secrets Manager (delivery `secretsManager` and the rotation Lambda). */
export interface StoredSecretValue {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** For the first region of sesSmtpRegions; absent without regions. */
  readonly sesSmtpPasswordV4?: string;
  readonly sesSmtpRegion?: string;
  readonly sesSmtpPasswords: Readonly<Record<string, string>>;
  readonly createDate: string;
}

/** Scope: the users keyrotate may touch. A user is in scope if any configured rule matches. */
export interface UserScope {
  readonly userNames?: readonly string[];
  /** IAM path prefix, e.g. `/service/`. */
  readonly pathPrefix?: string;
  /** A tag the user must carry. */
  readonly tag?: { readonly key: string; readonly value: string };
}

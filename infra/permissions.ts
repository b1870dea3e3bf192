/**
 * What each Lambda may do, in one table (docs/readme/lambdas.md lists the same per handler).
 * The construct turns each row into statements limited to the users in scope, the configured
 * secrets, the lock table and the construct's KMS key. Least privilege (guarantee "least privilege"):
 * a Lambda gets exactly the calls its step makes.
 */
import type { StateMachineLambdaName } from './bundling';

/** Why a value is sealed; the `purpose` of the KMS encryption context (lambdas/core/steps/common.ts). */
export type SealPurpose = 'secretAccessKey' | 'sesSmtpPasswords';

/** The encryption context keys every sealed value carries, and nothing else. */
export const SEAL_CONTEXT_KEYS = ['rotationId', 'accessKeyId', 'purpose'] as const;

export interface LambdaAccess {
  /** IAM actions on the users in scope. */
  readonly iam: readonly string[];
  /** Secrets Manager actions on the configured secrets. */
  readonly secretsManager: readonly string[];
  /** DynamoDB actions on the lock table. */
  readonly lock: readonly string[];
  /** KMS Encrypt with these purposes (sealing). */
  readonly seal: readonly SealPurpose[];
  /** KMS Decrypt with these purposes (opening). */
  readonly open: readonly SealPurpose[];
}

const none = [] as const;

// IAM: GetAccessKeyLastUsed only where a key's last use matters (Plan starting from an
// accessKeyId or checking an unfinished retirement against requireUnusedSeconds, the
// DeactivateOldKey requireUnusedSeconds check); the other handlers list keys without it.
// Lock: acquire = PutItem, assertHeld/holder = GetItem, release = DeleteItem; the delivery record
// (a separate item of the same table) is written with PutItem and read with GetItem.
// Secrets Manager: DescribeSecret reads staging labels before a label moves or a value is
// written; only the rotation Lambda reads version creation dates (ListSecretVersionIds).
export const STATE_MACHINE_ACCESS: Readonly<Record<StateMachineLambdaName, LambdaAccess>> = {
  plan: {
    iam: ['iam:GetUser', 'iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'],
    secretsManager: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
    // DeleteItem: when Plan fails after taking the lock it releases the lock itself; without
    // it the user stays locked for the whole lease and every later rotation is refused.
    lock: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
    seal: none,
    open: none,
  },
  purgeStaleKey: {
    // UpdateAccessKey: an unfinished retirement (an Active key) is deactivated before it is deleted.
    iam: ['iam:ListAccessKeys', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey'],
    secretsManager: none,
    lock: ['dynamodb:GetItem'],
    seal: none,
    open: none,
  },
  createKey: {
    iam: ['iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:DeleteAccessKey'],
    secretsManager: none,
    lock: ['dynamodb:GetItem'],
    seal: ['secretAccessKey'],
    open: none,
  },
  deriveSmtpPasswords: {
    iam: none,
    secretsManager: none,
    lock: none,
    seal: ['sesSmtpPasswords'],
    open: ['secretAccessKey'],
  },
  storeSecret: {
    iam: none,
    secretsManager: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue'],
    lock: ['dynamodb:GetItem'],
    seal: none,
    open: ['secretAccessKey', 'sesSmtpPasswords'],
  },
  encryptForPgp: {
    iam: none,
    secretsManager: none,
    lock: none,
    seal: none,
    open: ['secretAccessKey', 'sesSmtpPasswords'],
  },
  verifyNewKey: {
    // STS GetCallerIdentity is signed with the new key itself and needs no permission.
    iam: none,
    secretsManager: none,
    // The delivery record: the lock is checked (GetItem), then the record written (PutItem).
    lock: ['dynamodb:PutItem', 'dynamodb:GetItem'],
    seal: none,
    open: ['secretAccessKey'],
  },
  promoteSecret: {
    iam: none,
    secretsManager: ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'],
    lock: ['dynamodb:GetItem'],
    seal: none,
    open: none,
  },
  retireOldKey: {
    iam: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey'],
    // Before retiring the old key: the secret must serve this rotation's version as AWSCURRENT.
    secretsManager: ['secretsmanager:DescribeSecret'],
    lock: ['dynamodb:GetItem', 'dynamodb:DeleteItem'],
    seal: none,
    open: none,
  },
  rollBack: {
    iam: ['iam:ListAccessKeys', 'iam:DeleteAccessKey'],
    secretsManager: ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'],
    lock: ['dynamodb:GetItem', 'dynamodb:DeleteItem'],
    seal: none,
    open: none,
  },
};

/** The Secrets Manager rotation Lambda: the whole rotation in one function, on its own secrets. */
export const ROTATION_ACCESS: LambdaAccess = {
  iam: [
    'iam:GetUser',
    'iam:ListAccessKeys',
    'iam:CreateAccessKey',
    'iam:UpdateAccessKey',
    'iam:DeleteAccessKey',
  ],
  secretsManager: [
    'secretsmanager:DescribeSecret',
    'secretsmanager:ListSecretVersionIds',
    'secretsmanager:GetSecretValue',
    'secretsmanager:PutSecretValue',
    'secretsmanager:UpdateSecretVersionStage',
  ],
  lock: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
  seal: none,
  open: none,
};

/**
 * The example stack's PGP recipient: an Ed25519/Curve25519 PUBLIC key, generated once with
 * GnuPG for the example only (`gpg --export FPR | base64 -w0`, Terraform's `pgp_key` form).
 * Its private key was never committed; nothing encrypted to it can be read by anyone here.
 *
 * uid: keyrotate example <keyrotate-example@example.invalid>
 * fingerprint: 50b79eaab1749c814083747984b6072fccb1de54
 */
export const EXAMPLE_PGP_PUBLIC_KEY =
  'mDMEawoMDhYJKwYBBAHaRw8BAQdAPqUKinW4ofmuwVOvsHTJNLShO8MJey0BW7zVA65X7Km0NWtleXJvdGF0ZSBleGFtcGxlIDxrZXlyb3RhdGUtZXhhbXBsZUBleGFtcGxlLmludmFsaWQ+iJAEExYIADgWIQRQt56qsXScgUCDdHmEtgcvzLHeVAUCawoMDgIbAQULCQgHAgYVCgkICwIEFgIDAQIeAQIXgAAKCRCEtgcvzLHeVBsiAQDsL6H0nssXWbK+4J7SE81pQcyIOxlQX9vFnhVgzAKuwwD/fKq4PJM7ocCVNTxwoGR+pOa5+WRdTfkpqepnOM2eJAa4OARrCgwOEgorBgEEAZdVAQUBAQdAAqBp4zBN2iy/2W94u5qtqil68Skds4QysuG8sulXJhsDAQgHiHgEGBYIACAWIQRQt56qsXScgUCDdHmEtgcvzLHeVAUCawoMDgIbDAAKCRCEtgcvzLHeVCjqAP40nmZGSF1gLx2wcPg+7RQNqhVr+Mw78w7Y0RWuSnkzJAD+LborcircmJmPlovXEpOhb4opgnlZP2CcPFARSmUAPA8=';

/** The primary key's fingerprint (lowercase hex), as keyrotate reports it in `keyFingerprint`. */
export const EXAMPLE_PGP_FINGERPRINT = '50b79eaab1749c814083747984b6072fccb1de54';

/**
 * The structural check of inline PGP keys that Plan runs without the OpenPGP library
 * (lambdas/core/pgp-key-spec.ts). The forms, names and URLs are covered in pgp.test.ts through
 * the re-exports of lambdas/core/pgp.ts; this file covers the packet framing and the armor.
 * openpgp is used here only to make real keys.
 */
import * as openpgp from 'openpgp';
import { PgpKeyError } from '../../lambdas/core/errors';
import { parsePgpKeySpec, pgpKeyMaterialFromText } from '../../lambdas/core/pgp-key-spec';

interface TestKey {
  readonly binary: Uint8Array;
  readonly armored: string;
  readonly secretBinary: Uint8Array;
}

async function makeKey(v6Keys: boolean): Promise<TestKey> {
  const { publicKey, privateKey } = await openpgp.generateKey({
    ...(v6Keys ? { type: 'curve25519' as const } : { type: 'ecc' as const, curve: 'curve25519Legacy' as const }),
    userIDs: [{ name: 'Spec Test', email: 'spec@example.com' }],
    format: 'binary',
    config: { v6Keys },
  });
  const armored = openpgp.armor(openpgp.enums.armor.publicKey, publicKey);
  return { binary: publicKey, armored, secretBinary: privateKey };
}

const base64 = (bytes: Uint8Array | number[]): string => Buffer.from(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)).toString('base64');

/** `count` filler bytes (a packet body whose content this check does not read). */
const body = (count: number): number[] => Array.from({ length: count }, (_, i) => i & 0xff);

/** Runs `act` and returns what it threw (fails the test when it throws nothing). */
function caught(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

let v4: TestKey;
let v6: TestKey;

beforeAll(async () => {
  [v4, v6] = await Promise.all([makeKey(false), makeKey(true)]);
});

describe('parsePgpKeySpec: packet framing of an inline binary key', () => {
  it('accepts real v4 and v6 keys in every inline form', () => {
    for (const key of [v4, v6]) {
      // Act
      const forms = [
        parsePgpKeySpec(base64(key.binary)).form,
        parsePgpKeySpec(key.armored).form,
        parsePgpKeySpec(Buffer.from(key.armored).toString('base64')).form,
      ];

      // Assess
      expect(forms).toEqual(['base64-binary', 'armored', 'base64-armored']);
    }
  });

  it.each([
    ['new format, 1-octet length', [0xc6, 4, ...body(4), 0xcd, 1, 0x41]],
    ['new format, 2-octet length', [0xc6, 192, 8, ...body(200)]],
    ['new format, 5-octet length', [0xc6, 255, 0, 0, 1, 0, ...body(256)]],
    ['old format, 1-octet length', [0x98, 3, ...body(3), 0xb4, 1, 0x41]],
    ['old format, 2-octet length (as gpg writes keys)', [0x99, 1, 0, ...body(256)]],
    ['old format, 4-octet length', [0x9a, 0, 0, 0, 2, ...body(2)]],
    ['old format, indeterminate length (runs to the end)', [0x9b, ...body(10)]],
  ])('accepts a public key packet with a header in the %s', (_name, bytes) => {
    // Act
    const spec = parsePgpKeySpec(base64(bytes));

    // Assess
    expect(spec).toEqual({ form: 'base64-binary' });
  });

  it.each([
    ['a header without its length', [0xc6], 'packet 1 is truncated'],
    ['a 2-octet length cut short', [0xc6, 192], 'packet 1 is truncated'],
    ['a 5-octet length cut short', [0xc6, 255, 0, 0], 'packet 1 is truncated'],
    ['an old 2-octet length cut short', [0x99, 1], 'packet 1 is truncated'],
    ['a body shorter than its length', [0xc6, 16, ...body(3)], 'packet 1 is truncated'],
    ['a second packet cut short', [0xc6, 2, ...body(2), 0xcd, 5, 0x41], 'packet 2 is truncated'],
    ['bytes after the last packet', [0xc6, 2, ...body(2), 0x00, 0x01], 'packet 2 has no packet header'],
    ['a partial body length', [0xc6, 0xe1, ...body(2)], 'packet 1 has a partial body length, which no key packet uses'],
    ['the reserved tag 0', [0xc6, 1, 4, 0x80, 0], 'packet 2 has the reserved tag 0'],
  ])('fails for %s, saying where', (_name, bytes, problem) => {
    // Act
    const error = caught(() => parsePgpKeySpec(base64(bytes)));

    // Assess
    expect(error).toBeInstanceOf(PgpKeyError);
    expect(error.message).toBe(`PGP key (base64-binary): not an OpenPGP public key packet sequence (${problem})`);
  });

  it('fails for a real key cut anywhere, or with bytes appended', () => {
    // Prepare
    const cuts = [2, 10, Math.floor(v4.binary.length / 2), v4.binary.length - 1].map((n) => v4.binary.subarray(0, n));
    const appended = Uint8Array.from([...v4.binary, 0xcd, 9, 0x41]);

    // Act
    const errors = [...cuts, appended].map((bytes) => caught(() => parsePgpKeySpec(base64(bytes))));

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(PgpKeyError);
      expect(error.message).toMatch(/^PGP key \(base64-binary\): not an OpenPGP public key packet sequence \(packet \d+ is truncated\)$/);
    }
  });

  it('fails for a sequence that starts with anything but a public key, naming a secret key as such', () => {
    // Act
    const userId = caught(() => parsePgpKeySpec(base64([0xcd, 1, 0x41])));
    const secret = caught(() => parsePgpKeySpec(base64(v6.secretBinary)));

    // Assess
    expect(userId.message).toBe('PGP key (base64-binary): not an OpenPGP public key packet sequence');
    expect(secret.message).toBe('PGP key (base64-binary): is a secret key; give the public key (gpg --export, not --export-secret-keys)');
  });
});

describe('parsePgpKeySpec: an inline armored key', () => {
  /** The armor lines of the v4 key: BEGIN, blank, base64 lines…, END. */
  const linesOf = (armored: string): string[] => armored.trim().split('\n');

  it('accepts what openpgp reads: CRLF, armor headers, trailing blanks, text around the block, any checksum', async () => {
    // Prepare
    const [begin, , ...rest] = linesOf(v4.armored);
    const data = rest.slice(0, -1).filter((line) => !/^=/.test(line));
    const end = rest[rest.length - 1] ?? '';
    const variants = [
      [begin, 'Version: Test 1.0', 'Comment: spec@example.com', '', ...data, '=AAAA', end].join('\r\n'),
      [begin, '', ...data.map((line) => `${line}  `), end].join('\n'),
      `Here is my key:\n\n${[begin, '', ...data, end].join('\n')}\nThanks.\n`,
    ];

    // Act
    const forms = variants.map((text) => parsePgpKeySpec(text).form);
    const read = await Promise.all(variants.map(async (armoredKey) => (await openpgp.readKey({ armoredKey })).getFingerprint()));

    // Assess: accepted here, and openpgp (which EncryptForPgp uses) reads the same key from each.
    expect(forms).toEqual(['armored', 'armored', 'armored']);
    expect(new Set(read).size).toBe(1);
  });

  it('fails for a block whose body is not base64, or whose packets were cut', () => {
    // Prepare
    const lines = linesOf(v4.armored);
    const damaged = lines.map((line, i) => (i === 3 ? `${line.slice(0, 10)}*${line.slice(11)}` : line)).join('\n');
    const dataLines = lines.filter((line, i) => i > 1 && !line.startsWith('-----') && !/^=/.test(line));
    const cut = lines.filter((line) => line !== dataLines[dataLines.length - 1]).join('\n');

    // Act
    const notBase64 = caught(() => parsePgpKeySpec(damaged));
    const truncated = caught(() => parsePgpKeySpec(cut));

    // Assess
    expect(notBase64).toBeInstanceOf(PgpKeyError);
    expect(notBase64.message).toBe('PGP key (armored): is not a readable ASCII-armored block (its body is not base64)');
    expect(truncated).toBeInstanceOf(PgpKeyError);
    expect(truncated.message).toMatch(/^PGP key \(armored\): not an OpenPGP public key packet sequence \(packet \d+ is truncated\)$/);
  });

  it('fails for a block flattened onto one line or without its END line', () => {
    // Prepare
    const flattened = v4.armored.replace(/\r?\n/g, ' ');
    const endless = v4.armored.replace(/-----END PGP PUBLIC KEY BLOCK-----/, '');

    // Act
    const errors = [flattened, endless].map((text) => caught(() => parsePgpKeySpec(text)));

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(PgpKeyError);
      expect(error.message).toBe(
        'PGP key (armored): is not a readable ASCII-armored block (the BEGIN and END lines must stand on lines of their own)',
      );
    }
  });

  it('fails for an empty block, a secret key under a public header, and two blocks', () => {
    // Prepare
    const empty = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n=twTO\n-----END PGP PUBLIC KEY BLOCK-----\n';
    const disguised = openpgp.armor(openpgp.enums.armor.publicKey, v4.secretBinary);
    const two = `${v4.armored}\n${v6.armored}`;

    // Act
    const [none, secret, several] = [empty, disguised, two].map((text) => caught(() => parsePgpKeySpec(text)));

    // Assess
    expect(none?.message).toBe('PGP key (armored): contains no public key');
    expect(secret?.message).toBe('PGP key (armored): is a secret key; give the public key (gpg --export, not --export-secret-keys)');
    expect(several?.message).toBe('PGP key (armored): holds 2 public key blocks; exactly one key is expected');
  });

  it('labels the complaint with the base64-armored form when the armor itself came in base64', () => {
    // Prepare
    const cut = openpgp.armor(openpgp.enums.armor.publicKey, v4.binary.subarray(0, 30));

    // Act
    const error = caught(() => parsePgpKeySpec(Buffer.from(cut).toString('base64')));

    // Assess
    expect(error.message).toMatch(/^PGP key \(base64-armored\): not an OpenPGP public key packet sequence \(packet \d+ is truncated\)$/);
  });
});

describe('pgpKeyMaterialFromText (fetched documents)', () => {
  it('labels a structural problem with the remote form and says it was the fetched document', () => {
    // Act
    const binary = caught(() => pgpKeyMaterialFromText(base64([0xc6, 9, 1]), { form: 'external', prefix: 'the fetched document ' }));
    const armored = caught(() =>
      pgpKeyMaterialFromText(v4.armored.replace(/-----END PGP PUBLIC KEY BLOCK-----/, ''), { form: 'github', prefix: 'the fetched document ' }),
    );

    // Assess
    expect(binary.message).toBe('PGP key (external): the fetched document is not an OpenPGP public key packet sequence (packet 1 is truncated)');
    expect(armored.message).toMatch(/^PGP key \(github\): the fetched document is not a readable ASCII-armored block/);
  });

  it('returns the material of a sound key', () => {
    // Act
    const found = pgpKeyMaterialFromText(base64(v6.binary), { form: 'external', prefix: 'the fetched document ' });

    // Assess
    expect(found?.form).toBe('base64-binary');
    expect(found?.material).toEqual({ binary: v6.binary });
  });
});

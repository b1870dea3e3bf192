import { AmbiguousCurrentKeyError, KeyStateConflictError } from '../../lambdas/core/errors';
import { type KnownCurrentKey, planKeys } from '../../lambdas/core/plan-keys';
import type { AccessKeyInfo, KeyStatus } from '../../lambdas/core/types';

const K1 = 'AKIAOLDEROLDEROLDER1';
const K2 = 'AKIANEWERNEWERNEWER2';
const ABSENT = 'AKIAABSENTABSENTABS3';

/** K1 was created before K2 unless `k2First`. */
function keys(statuses: readonly KeyStatus[], k2First = false): AccessKeyInfo[] {
  const dates = k2First ? [new Date('2026-02-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z')] : [new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z')];
  return statuses.map((status, i) => ({ accessKeyId: [K1, K2][i] as string, status, createDate: dates[i] as Date }));
}

type Known = 'none' | 'K1' | 'K2' | 'absent';
type Expected =
  | { old: string | null; stale: string | null; source: 'known' | 'onlyActiveKey' | 'none' }
  | { error: 'ambiguous' | 'conflict' };

// Every combination of 0, 1, 2 keys × Active/Inactive × known current (none, each key, absent).
// This table is the one in docs/readme/rotation-rules.md.
const table: Array<[statuses: KeyStatus[], known: Known, expected: Expected, k2First?: boolean]> = [
  [[], 'none', { old: null, stale: null, source: 'none' }],
  [[], 'absent', { error: 'conflict' }],
  [['Active'], 'none', { old: K1, stale: null, source: 'onlyActiveKey' }],
  [['Active'], 'K1', { old: K1, stale: null, source: 'known' }],
  [['Active'], 'absent', { error: 'conflict' }],
  [['Inactive'], 'none', { old: null, stale: null, source: 'none' }],
  [['Inactive'], 'K1', { error: 'conflict' }],
  [['Inactive'], 'absent', { error: 'conflict' }],
  [['Active', 'Active'], 'none', { error: 'ambiguous' }],
  [['Active', 'Active'], 'K1', { error: 'conflict' }],
  [['Active', 'Active'], 'K2', { error: 'conflict' }],
  [['Active', 'Active'], 'absent', { error: 'conflict' }],
  [['Active', 'Inactive'], 'none', { old: K1, stale: K2, source: 'onlyActiveKey' }],
  [['Active', 'Inactive'], 'K1', { old: K1, stale: K2, source: 'known' }],
  [['Active', 'Inactive'], 'K2', { error: 'conflict' }],
  [['Active', 'Inactive'], 'absent', { error: 'conflict' }],
  [['Inactive', 'Active'], 'none', { old: K2, stale: K1, source: 'onlyActiveKey' }],
  [['Inactive', 'Active'], 'K2', { old: K2, stale: K1, source: 'known' }],
  [['Inactive', 'Active'], 'K1', { error: 'conflict' }],
  [['Inactive', 'Active'], 'absent', { error: 'conflict' }],
  [['Inactive', 'Inactive'], 'none', { old: null, stale: K1, source: 'none' }],
  [['Inactive', 'Inactive'], 'none', { old: null, stale: K2, source: 'none' }, true],
  [['Inactive', 'Inactive'], 'K1', { error: 'conflict' }],
  [['Inactive', 'Inactive'], 'K2', { error: 'conflict' }],
  [['Inactive', 'Inactive'], 'absent', { error: 'conflict' }],
];

const sources: Array<KnownCurrentKey['source']> = ['secretsManager', 'oldAccessKeyId', 'accessKeyId'];

function knownKey(known: Known, source: KnownCurrentKey['source']): KnownCurrentKey | null {
  if (known === 'none') return null;
  return { accessKeyId: { K1, K2, absent: ABSENT }[known], source };
}

describe('planKeys', () => {
  // Known-current cases run once per source; "none" once.
  const cases = table.flatMap(([statuses, known, expected, k2First]) =>
    (known === 'none' ? (['none'] as const) : sources).map(
      (source) => [`${statuses.join('+') || 'no keys'}${k2First ? ' (K2 older)' : ''}, current ${known}${known === 'none' ? '' : ` (${source})`}`, statuses, known, source, expected, k2First ?? false] as const,
    ),
  );

  test.each(cases)('%s', (_name, statuses, known, source, expected, k2First) => {
    // Prepare
    const listed = keys(statuses, k2First);
    const current = source === 'none' ? null : knownKey(known, source);

    // Act
    const act = () => planKeys(listed, current, { userName: 'loadbalancer' });

    // Assess
    if ('error' in expected) {
      expect(act).toThrow(expected.error === 'ambiguous' ? AmbiguousCurrentKeyError : KeyStateConflictError);
      return;
    }
    expect(act()).toEqual({
      oldAccessKeyId: expected.old,
      staleAccessKeyId: expected.stale,
      ...(expected.stale === null ? {} : { staleKeyReason: 'inactive' }),
      currentKeySource: expected.source === 'known' ? source : expected.source,
      snapshot: listed.map((k) => k.accessKeyId),
    });
  });

  test('the table covers every combination of 0-2 keys, statuses and known current keys', () => {
    // Prepare
    const combos = new Set<string>();
    for (const count of [0, 1, 2]) {
      const statusSets: KeyStatus[][] =
        count === 0 ? [[]] : count === 1 ? [['Active'], ['Inactive']] : [['Active', 'Active'], ['Active', 'Inactive'], ['Inactive', 'Active'], ['Inactive', 'Inactive']];
      for (const statuses of statusSets) {
        const knowns: Known[] = ['none', 'absent', ...(['K1', 'K2'] as const).slice(0, count)];
        for (const known of knowns) combos.add(`${statuses.join('+')}|${known}`);
      }
    }

    // Act
    const covered = new Set(table.map(([statuses, known]) => `${statuses.join('+')}|${known}`));

    // Assess
    expect([...combos].filter((c) => !covered.has(c))).toEqual([]);
  });

  test('ambiguity names both keys and says how to resolve it', () => {
    // Prepare
    const listed = keys(['Active', 'Active']);

    // Act
    const act = () => planKeys(listed, null, { userName: 'loadbalancer' });

    // Assess
    expect(act).toThrow(/loadbalancer.*AKIAOLDEROLDEROLDER1, AKIANEWERNEWERNEWER2.*deactivate the one nothing uses/);
  });

  test('a second Active key beside the known current one is named, not touched', () => {
    // Prepare
    const listed = keys(['Active', 'Active']);

    // Act
    const act = () => planKeys(listed, { accessKeyId: K1, source: 'secretsManager' }, { userName: 'loadbalancer' });

    // Assess
    expect(act).toThrow(/another Active access key \(AKIANEWERNEWERNEWER2\)/);
  });

  describe('an unfinished retirement (the AWSPREVIOUS key still Active beside the AWSCURRENT one)', () => {
    test('is the stale key to remove first, and the current key is the old one', () => {
      // Prepare: K2 is current (AWSCURRENT), K1 the key AWSCURRENT was moved off (AWSPREVIOUS)
      const listed = keys(['Active', 'Active']);

      // Act
      const plan = planKeys(listed, { accessKeyId: K2, source: 'secretsManager' }, { userName: 'loadbalancer' }, { previousAccessKeyId: K1 });

      // Assess
      expect(plan).toEqual({
        oldAccessKeyId: K2,
        staleAccessKeyId: K1,
        staleKeyReason: 'unfinishedRetirement',
        currentKeySource: 'secretsManager',
        snapshot: [K1, K2],
      });
    });

    test.each(['oldAccessKeyId', 'accessKeyId'] as const)('is not recognised when the current key comes from %s (only the secret can say so)', (source) => {
      // Prepare
      const listed = keys(['Active', 'Active']);

      // Act
      const act = () => planKeys(listed, { accessKeyId: K2, source }, { userName: 'loadbalancer' }, { previousAccessKeyId: K1 });

      // Assess
      expect(act).toThrow(KeyStateConflictError);
    });

    test('is not recognised when AWSPREVIOUS names another key', () => {
      // Prepare
      const listed = keys(['Active', 'Active']);

      // Act
      const act = () => planKeys(listed, { accessKeyId: K2, source: 'secretsManager' }, { userName: 'loadbalancer' }, { previousAccessKeyId: ABSENT });

      // Assess
      expect(act).toThrow(/another Active access key \(AKIAOLDEROLDEROLDER1\).*deactivate it/);
    });

    test('without a known current key the ambiguity stays an error, whatever AWSPREVIOUS says', () => {
      // Prepare
      const listed = keys(['Active', 'Active']);

      // Act
      const act = () => planKeys(listed, null, { userName: 'loadbalancer' }, { previousAccessKeyId: K1 });

      // Assess
      expect(act).toThrow(AmbiguousCurrentKeyError);
    });

    test('evidence changes nothing when the previous key is already Inactive (an ordinary stale key)', () => {
      // Prepare
      const listed = keys(['Inactive', 'Active']);

      // Act
      const plan = planKeys(listed, { accessKeyId: K2, source: 'secretsManager' }, { userName: 'loadbalancer' }, { previousAccessKeyId: K1 });

      // Assess
      expect(plan).toMatchObject({ oldAccessKeyId: K2, staleAccessKeyId: K1, staleKeyReason: 'inactive' });
    });
  });

  describe("an unfinished retirement by keyrotate's delivery record (delivered and replaced key both still Active)", () => {
    const record = (accessKeyId: string, replacedAccessKeyId: string) => ({ delivered: { accessKeyId, replacedAccessKeyId } });

    test.each([
      ['K2 delivered, K1 replaced', K2, K1],
      ['K1 delivered, K2 replaced (whatever the age)', K1, K2],
    ])('without a known current key (PGP): %s → still ambiguous (nobody may have received the key), the message says what happened', (_name, delivered, replaced) => {
      // Prepare
      const listed = keys(['Active', 'Active']);

      // Act
      const act = () => planKeys(listed, null, { userName: 'loadbalancer' }, { delivered: { accessKeyId: delivered, replacedAccessKeyId: replaced, rotationId: 'r-1' } });

      // Assess
      expect(act).toThrow(AmbiguousCurrentKeyError);
      expect(act).toThrow(`rotation r-1 delivered ${delivered} (its encryptedSecret is in that execution's output or history) to replace ${replaced}`);
    });

    test.each(sources)('with a known current key from %s that is the delivered key', (source) => {
      // Prepare
      const listed = keys(['Active', 'Active']);

      // Act
      const plan = planKeys(listed, { accessKeyId: K2, source }, { userName: 'loadbalancer' }, record(K2, K1));

      // Assess
      expect(plan).toMatchObject({ oldAccessKeyId: K2, staleAccessKeyId: K1, staleKeyReason: 'unfinishedRetirement', currentKeySource: source });
    });

    test.each(sources)('is no evidence when %s names the replaced key as current', (source) => {
      // Prepare
      const listed = keys(['Active', 'Active']);

      // Act
      const act = () => planKeys(listed, { accessKeyId: K1, source }, { userName: 'loadbalancer' }, record(K2, K1));

      // Assess
      expect(act).toThrow(KeyStateConflictError);
    });

    test.each([
      ['names a key the user does not have as replaced', K2, ABSENT],
      ['names a key the user does not have as delivered', ABSENT, K1],
      ['names the same key twice', K2, K2],
    ])('is no evidence when it %s: the ambiguity stays', (_name, delivered, replaced) => {
      // Prepare
      const listed = keys(['Active', 'Active']);

      // Act
      const act = () => planKeys(listed, null, { userName: 'loadbalancer' }, record(delivered, replaced));

      // Assess
      expect(act).toThrow(AmbiguousCurrentKeyError);
    });

    test('changes nothing when the replaced key is already Inactive (an ordinary stale key)', () => {
      // Prepare
      const listed = keys(['Inactive', 'Active']);

      // Act
      const plan = planKeys(listed, null, { userName: 'loadbalancer' }, record(K2, K1));

      // Assess
      expect(plan).toMatchObject({ oldAccessKeyId: K2, staleAccessKeyId: K1, staleKeyReason: 'inactive', currentKeySource: 'onlyActiveKey' });
    });
  });

  test('fails when a user somehow has more keys than one purge can make room among', () => {
    // Prepare
    const listed: AccessKeyInfo[] = [
      ...keys(['Inactive', 'Inactive']),
      { accessKeyId: 'AKIATHIRDTHIRDTHIRD3', status: 'Active', createDate: new Date('2026-03-01T00:00:00Z') },
    ];

    // Act
    const act = () => planKeys(listed, null, { userName: 'loadbalancer' });

    // Assess
    expect(act).toThrow(KeyStateConflictError);
  });

  test('two Inactive keys created the same second: the smaller id is purged (deterministic)', () => {
    // Prepare
    const same = new Date('2026-01-01T00:00:00Z');
    const listed: AccessKeyInfo[] = [
      { accessKeyId: K2, status: 'Inactive', createDate: same },
      { accessKeyId: K1, status: 'Inactive', createDate: same },
    ];

    // Act
    const plan = planKeys(listed, null, { userName: 'loadbalancer' });

    // Assess
    expect(plan.staleAccessKeyId).toBe([K1, K2].sort()[0]);
  });
});

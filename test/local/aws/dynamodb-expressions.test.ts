import {
  type AttributeValue,
  type Item,
  Placeholders,
  applyUpdate,
  compareNumbers,
  evaluate,
  parseCondition,
  parseUpdate,
} from '../../../local/aws/services/dynamodb-expressions';

const item: Item = {
  userName: { S: 'mailer' },
  owner: { S: 'exec-1' },
  expiresAt: { N: '1700000000' },
  active: { BOOL: true },
  nothing: { NULL: true },
  tags: { SS: ['a', 'b'] },
  nested: { M: { inner: { S: 'x' }, list: { L: [{ N: '1' }, { S: 'two' }] } } },
};

function holds(expression: string, values: Record<string, AttributeValue> = {}, names: Record<string, string> = {}): boolean {
  return evaluate(parseCondition(expression, new Placeholders(names, values)), item);
}

describe('DynamoDB expressions', () => {
  describe('conditions', () => {
    it.each([
      ['attribute_exists(owner)', true],
      ['attribute_exists(missing)', false],
      ['attribute_not_exists(missing)', true],
      ['attribute_not_exists(nested.inner)', false],
      ['attribute_exists(nested.list[1])', true],
      ['attribute_exists(nested.list[5])', false],
    ])('evaluates %s as %s', (expression, expected) => {
      // Act
      const result = holds(expression);

      // Assess
      expect(result).toBe(expected);
    });

    it.each([
      ['expiresAt < :n', { ':n': { N: '1700000001' } }, true],
      ['expiresAt <= :n', { ':n': { N: '1700000000.0' } }, true],
      ['expiresAt > :n', { ':n': { N: '999999999' } }, true],
      ['expiresAt = :n', { ':n': { N: '1.7e9' } }, true],
      ['expiresAt >= :n', { ':n': { N: '1.7000000001E9' } }, false],
      ['owner = :s', { ':s': { S: 'exec-1' } }, true],
      ['owner <> :s', { ':s': { S: 'exec-2' } }, true],
      ['owner < :s', { ':s': { S: 'exec-2' } }, true],
      ['owner = :n', { ':n': { N: '1' } }, false],
      ['owner < :n', { ':n': { N: '1' } }, false],
      ['missing = :s', { ':s': { S: 'x' } }, false],
      ['missing <> :s', { ':s': { S: 'x' } }, true],
      ['active = :b', { ':b': { BOOL: true } }, true],
      ['nothing = :null', { ':null': { NULL: true } }, true],
      ['tags = :set', { ':set': { SS: ['b', 'a'] } }, true],
    ])('compares %s with DynamoDB\'s typed semantics', (expression, values, expected) => {
      // Act
      const result = holds(expression, values);

      // Assess
      expect(result).toBe(expected);
    });

    it('gives NOT precedence over AND, and AND over OR, with parentheses overriding', () => {
      // Prepare
      const values = { ':a': { S: 'exec-1' }, ':b': { S: 'other' } };

      // Act
      const plain = holds('NOT owner = :b AND owner = :b OR owner = :a', values);
      const grouped = holds('NOT (owner = :b AND owner = :b OR owner = :a)', values);
      const keywordsAnyCase = holds('not owner = :b and owner = :a', values);

      // Assess
      expect(plain).toBe(true);
      expect(grouped).toBe(false);
      expect(keywordsAnyCase).toBe(true);
    });

    it('evaluates the lock condition of docs/internals.md for each case', () => {
      // Prepare
      const condition = 'attribute_not_exists(userName) OR #owner = :owner OR expiresAt < :now';
      // `undefined` is "no item yet" (a default parameter would swallow it, so call evaluate directly).
      const check = (on: Item | undefined, owner: string, now: string) =>
        evaluate(parseCondition(condition, new Placeholders({ '#owner': 'owner' }, { ':owner': { S: owner }, ':now': { N: now } })), on);

      // Act
      const results = [check(undefined, 'exec-2', '1'), check(item, 'exec-1', '1'), check(item, 'exec-2', '1800000000'), check(item, 'exec-2', '1600000000')];

      // Assess
      expect(results).toEqual([true, true, true, false]);
    });

    it('supports BETWEEN, IN, begins_with, contains, attribute_type and size', () => {
      // Prepare
      const values = {
        ':lo': { N: '1' },
        ':hi': { N: '2000000000' },
        ':a': { S: 'x' },
        ':b': { S: 'exec-1' },
        ':p': { S: 'exec' },
        ':t': { S: 'a' },
        ':type': { S: 'SS' },
        ':six': { N: '6' },
      };

      // Act
      const results = [
        holds('expiresAt BETWEEN :lo AND :hi', values),
        holds('owner IN (:a, :b)', values),
        holds('begins_with(owner, :p)', values),
        holds('contains(tags, :t)', values),
        holds('attribute_type(tags, :type)', values),
        holds('size(owner) = :six', values),
      ];

      // Assess
      expect(results).toEqual([true, true, true, true, true, true]);
    });

    it('rejects undefined and unused placeholders, and syntax errors', () => {
      // Prepare
      const unused = new Placeholders({}, { ':v': { S: 'x' }, ':w': { S: 'y' } });
      parseCondition('owner = :v', unused);

      // Act / Assess
      expect(() => parseCondition('#n = :v', new Placeholders({}, { ':v': { S: 'x' } }))).toThrow('attribute name: #n');
      expect(() => parseCondition('owner = :v', new Placeholders())).toThrow('attribute value: :v');
      expect(() => unused.checkAllUsed()).toThrow('keys: {:w}');
      expect(() => parseCondition('owner = ', new Placeholders())).toThrow('Syntax error');
      expect(() => parseCondition('(owner = :v', new Placeholders({}, { ':v': { S: 'x' } }))).toThrow('Syntax error');
    });
  });

  describe('updates', () => {
    it('evaluates every right-hand side against the item before the update', () => {
      // Prepare
      const actions = parseUpdate('SET a = b, b = a', new Placeholders());

      // Act
      const { item: updated } = applyUpdate({ k: { S: 'key' }, a: { S: '1' }, b: { S: '2' } }, actions, 'k');

      // Assess
      expect(updated).toEqual({ k: { S: 'key' }, a: { S: '2' }, b: { S: '1' } });
    });

    it('sets nested map members, appends to lists, adds numbers and set members, deletes set members', () => {
      // Prepare
      const values = { ':x': { S: 'y' }, ':l': { L: [{ N: '3' }] }, ':n': { N: '5' }, ':add': { SS: ['c'] }, ':del': { SS: ['a'] } };
      const actions = parseUpdate('SET nested.inner = :x, nested.list = list_append(nested.list, :l) ADD counter :n, tags :add DELETE other :del', new Placeholders({}, values));

      // Act
      const { item: updated } = applyUpdate({ ...item, other: { SS: ['a', 'z'] } }, actions, 'userName');

      // Assess
      expect(updated.nested).toEqual({ M: { inner: { S: 'y' }, list: { L: [{ N: '1' }, { S: 'two' }, { N: '3' }] } } });
      expect(updated.counter).toEqual({ N: '5' });
      expect(updated.tags).toEqual({ SS: ['a', 'b', 'c'] });
      expect(updated.other).toEqual({ SS: ['z'] });
    });

    it('rejects overlapping paths, a repeated clause and an update of the key', () => {
      // Prepare
      const values = new Placeholders({}, { ':v': { S: 'x' } });

      // Act / Assess
      expect(() => applyUpdate(item, parseUpdate('SET a = :v REMOVE a', values), 'userName')).toThrow('Two document paths overlap');
      expect(() => parseUpdate('SET a = :v SET b = :v', new Placeholders({}, { ':v': { S: 'x' } }))).toThrow('can only be used once');
      expect(() => applyUpdate(item, parseUpdate('SET userName = :v', new Placeholders({}, { ':v': { S: 'x' } })), 'userName')).toThrow('part of the key');
    });
  });

  it('compares numbers exactly, beyond double precision', () => {
    // Act / Assess
    expect(compareNumbers('12345678901234567890123456789', '12345678901234567890123456788')).toBe(1);
    expect(compareNumbers('-1', '0.5')).toBe(-1);
    expect(compareNumbers('0.00', '-0')).toBe(0);
    expect(compareNumbers('-2', '-10')).toBe(1);
  });
});

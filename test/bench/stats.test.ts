import { median, round, shuffled } from '../../bench/lib/stats';

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    // Prepare
    const values = [9, 1, 5];
    // Act
    const result = median(values);
    // Assess
    expect(result).toBe(5);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('fails on an empty list', () => {
    expect(() => median([])).toThrow('median of an empty list');
  });
});

describe('shuffled', () => {
  it('returns a permutation driven by the random source', () => {
    // Prepare: always picking index 0 rotates the list deterministically.
    const items = ['a', 'b', 'c', 'd'];
    // Act
    const result = shuffled(items, () => 0);
    // Assess
    expect(result).toEqual(['b', 'c', 'd', 'a']);
    expect([...result].sort()).toEqual(items);
    expect(items).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('round', () => {
  it('keeps the requested decimals', () => {
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(1.5, 0)).toBe(2);
  });
});

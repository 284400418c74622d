import assert from 'node:assert/strict';
import { lowerMedian, mean, median, sampleStd } from '../src/util/stats.ts';

describe('util/stats', () => {
  it('median: the middle value, or the mean of the two middle values; lowerMedian: the smaller of those two', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(lowerMedian([3, 1, 2]), 2);
    assert.equal(lowerMedian([4, 1, 3, 2]), 2);
    assert.equal(lowerMedian([7]), 7);
    assert.throws(() => median([]), /median of nothing/);
    assert.throws(() => lowerMedian([]), /median of nothing/);
  });

  it('mean, and the sample std (n − 1), with no std for a single value', () => {
    assert.equal(mean([1, 2, 6]), 3);
    assert.equal(sampleStd([2, 4]), Math.SQRT2);
    assert.equal(sampleStd([5]), undefined);
    assert.throws(() => mean([]), /mean of nothing/);
  });
});

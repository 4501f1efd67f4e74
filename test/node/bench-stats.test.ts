/** The benchmark's arithmetic: medians, percentiles, and per-round ratios and differences with their range. */
import { describe, expect, it } from 'vitest';
import { median, percentile, perRoundDifference, perRoundRatio } from '../../bench/stats.ts';

describe('median', () => {
  it('is the middle value of an odd count, in any order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([10, 1, 7, 3, 5])).toBe(5);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('is NaN if a round measured nothing, rather than the median of the others', () => {
    expect(median([1, Number.NaN, 2])).toBeNaN();
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow(/no values/);
  });
});

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('is the nearest rank of sorted values', () => {
    expect(percentile(hundred, 50)).toBe(51);
    expect(percentile(hundred, 99)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('stays within the values at 100 and for one value', () => {
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN with no values (no request succeeded)', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('perRoundRatio', () => {
  it('pairs rounds by index: the median of per-round ratios, not a ratio of medians', () => {
    // Round by round the gateway is 0.9, 0.8 and 1.0 of the bare Worker, while the
    // medians (900 and 1000) alone would give 0.9 by chance of which rounds were slow.
    const summary = perRoundRatio([900, 400, 1500], [1000, 500, 1500]);
    expect(summary.median).toBeCloseTo(0.9, 10);
    expect(summary.min).toBeCloseTo(0.8, 10);
    expect(summary.max).toBeCloseTo(1, 10);
  });

  it('differs from the ratio of medians when rounds drift', () => {
    const summary = perRoundRatio([100, 200, 300], [300, 100, 150]);
    expect(summary.median).toBe(2);
    expect(median([100, 200, 300]) / median([300, 100, 150])).toBeCloseTo(4 / 3, 10);
  });

  it('refuses rounds that do not pair up', () => {
    expect(() => perRoundRatio([1, 2], [1])).toThrow(/2 rounds over 1/);
  });
});

describe('perRoundDifference', () => {
  it('pairs rounds by index: the median of per-round differences, with their range', () => {
    // CPU ms per request: an MCP call against the /api/* call, round by round.
    const summary = perRoundDifference([3.1, 2.9, 4.0], [1.0, 1.0, 1.5]);
    expect(summary.median).toBeCloseTo(2.1, 10);
    expect(summary.min).toBeCloseTo(1.9, 10);
    expect(summary.max).toBeCloseTo(2.5, 10);
  });

  it('may be negative, and is NaN if a round measured nothing', () => {
    expect(perRoundDifference([1], [2]).median).toBe(-1);
    expect(perRoundDifference([1, Number.NaN, 3], [0, 0, 0]).median).toBeNaN();
  });

  it('refuses rounds that do not pair up', () => {
    expect(() => perRoundDifference([1, 2], [1])).toThrow(/2 rounds and 1/);
  });
});

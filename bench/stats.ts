/**
 * The arithmetic the benchmark reports with. Rounds are interleaved on a shared machine,
 * so single rounds are noisy: figures are medians, and ratios come with their spread.
 */

/**
 * The median; for an even count, the mean of the two middle values. NaN if any value is
 * NaN (a round that measured nothing), so a gap is never hidden behind the other rounds.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  if (values.some(Number.isNaN)) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  // The index is in range: sorted is not empty and middle < length.
  const upper = sorted[middle]!;
  return sorted.length % 2 === 1 ? upper : (sorted[middle - 1]! + upper) / 2;
}

/**
 * The nearest-rank percentile `p` (0–100) of values already sorted ascending, or NaN when
 * there are none (a round in which no request succeeded has no latency to report).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Per-round figures summed up: their median, and their lowest and highest. */
export interface RoundsSummary {
  median: number;
  /** The lowest and highest single round: how far one round can be trusted. */
  min: number;
  max: number;
}

export type RatioSummary = RoundsSummary;

/**
 * Round i of `numerators` over round i of `denominators`: rounds that ran side by side
 * share whatever else the machine was doing, so their ratio is steadier than a ratio of
 * medians taken across rounds.
 */
export function perRoundRatio(numerators: readonly number[], denominators: readonly number[]): RatioSummary {
  if (numerators.length !== denominators.length) {
    throw new Error(`per-round ratio of ${numerators.length} rounds over ${denominators.length}`);
  }
  const ratios = numerators.map((n, i) => n / denominators[i]!);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

/**
 * Round i of `of` minus round i of `to`, summed up like perRoundRatio: for a quantity whose
 * difference is what matters (CPU time added per request), from rounds that ran side by side.
 */
export function perRoundDifference(of: readonly number[], to: readonly number[]): RoundsSummary {
  if (of.length !== to.length) throw new Error(`per-round difference of ${of.length} rounds and ${to.length}`);
  const differences = of.map((n, i) => n - to[i]!);
  return { median: median(differences), min: Math.min(...differences), max: Math.max(...differences) };
}

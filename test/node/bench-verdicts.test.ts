/**
 * The benchmark's verdicts: a run's figures against the targets, with the sentence the
 * report prints. Pure, so every boundary is checked here rather than by running the bench.
 */
import { describe, expect, it } from 'vitest';
import { TARGETS } from '../../bench/targets.ts';
import { judge, verdictLines, type RunFigures, type Verdict } from '../../bench/verdicts.ts';

const MIB = 1024 * 1024;

/** A run that meets every target, to change one figure at a time. */
function metFigures(): RunFigures {
  return {
    instructionsRatio: 0.95,
    perConcurrency: [1, 8].map((concurrency) => ({
      concurrency,
      requestsPerSecondRatio: 0.92,
      p50AddedMs: 0.4,
      kvReadsPerRequest: 0,
      kvWritesPerRequest: 0,
    })),
    streams: [
      { direction: 'download', bytes: 1024 * MIB, status: 200, growthMiB: 4.5 },
      { direction: 'upload', bytes: 256 * MIB, status: 200, growthMiB: 0.2 },
    ],
  };
}

function verdict(figures: RunFigures, id: string): Verdict {
  const found = judge(TARGETS, figures).find((v) => v.target.id === id);
  if (found === undefined) throw new Error(`no target ${id}`);
  return found;
}

const withRows = (figures: RunFigures, change: Partial<RunFigures['perConcurrency'][number]>[]): RunFigures => ({
  ...figures,
  perConcurrency: figures.perConcurrency.map((row, i) => ({ ...row, ...change[i] })),
});

describe('the targets', () => {
  it('have distinct ids, a sentence each, and a threshold that is a number', () => {
    expect(new Set(TARGETS.map((t) => t.id)).size).toBe(TARGETS.length);
    for (const target of TARGETS) {
      expect(target.sentence.length).toBeGreaterThan(10);
      expect(Number.isFinite(target.threshold.value)).toBe(true);
    }
  });

  it('cover throughput by instructions, p50 latency, streaming memory and KV use', () => {
    expect(TARGETS.map((t) => [t.id, t.quantity, t.comparison, t.threshold])).toEqual([
      ['throughput', 'instructionsRatio', '≥', { value: 0.9 }],
      ['p50-added-latency', 'p50AddedMs', '≤', { value: 1 }],
      ['flat-streaming-memory', 'streamGrowthMiB', '<', { value: 8, orFractionOfStreamed: 0.02 }],
      ['kv-reads', 'kvReadsPerRequest', '≤', { value: 1 }],
      ['kv-writes', 'kvWritesPerRequest', '=', { value: 0 }],
    ]);
  });
});

describe('judge', () => {
  it('marks every target met when every figure is within it', () => {
    const verdicts = judge(TARGETS, metFigures());
    expect(verdicts.map((v) => [v.target.id, v.status])).toEqual(TARGETS.map((t) => [t.id, 'met']));
    for (const v of verdicts) expect(v.line).toMatch(/^- ✓ /);
  });

  it('says "not measured", never met, for every target of a run with no figures', () => {
    const verdicts = judge(TARGETS, { perConcurrency: [], streams: [] });
    expect(verdicts.map((v) => v.status)).toEqual(TARGETS.map(() => 'not measured'));
    for (const v of verdicts) expect(v.line).toMatch(/^- – .*: not measured \(/);
  });

  describe('throughput, by instructions per request', () => {
    it('is met at exactly 0.9× and not met just below, printed with enough digits to tell', () => {
      expect(verdict({ ...metFigures(), instructionsRatio: 0.9 }, 'throughput').status).toBe('met');
      const below = verdict({ ...metFigures(), instructionsRatio: 0.8996 }, 'throughput');
      expect(below.status).toBe('not met');
      expect(below.line).toContain('✗ 0.8996× by instructions');
      expect(below.line).not.toContain('0.90×');
    });

    it('is not met at 0.89×', () => {
      const v = verdict({ ...metFigures(), instructionsRatio: 0.89 }, 'throughput');
      expect(v.status).toBe('not met');
      expect(v.line).toMatch(/^- ✗ the gateway's throughput ≥ 0\.9× .*: ✗ 0\.89× by instructions\. /);
    });

    it('is not measured without --instructions, whatever requests/s say', () => {
      const v = verdict({ ...metFigures(), instructionsRatio: undefined }, 'throughput');
      expect(v.status).toBe('not measured');
      expect(v.line).toContain('not measured (run with --instructions');
    });

    it('shows requests/s beside the verdict without judging them', () => {
      const slow = withRows(metFigures(), [{ requestsPerSecondRatio: 0.5 }, { requestsPerSecondRatio: 0.61 }]);
      const v = verdict(slow, 'throughput');
      expect(v.status).toBe('met');
      expect(v.readings.map((r) => r.where)).toEqual(['by instructions']);
      expect(v.line).toContain('Informative only, by median requests/s');
      expect(v.line).toContain('0.50× at 1; 0.61× at 8');
    });

    it('is not measured when the count is not a number (no request counted)', () => {
      expect(verdict({ ...metFigures(), instructionsRatio: Number.NaN }, 'throughput').status).toBe('not measured');
    });
  });

  describe('p50 added latency', () => {
    it('is met at exactly 1 ms and below, not met just above, judged at each concurrency', () => {
      expect(verdict(withRows(metFigures(), [{ p50AddedMs: 1 }, { p50AddedMs: -0.2 }]), 'p50-added-latency').status).toBe('met');
      const v = verdict(withRows(metFigures(), [{ p50AddedMs: 0.59 }, { p50AddedMs: 1.004 }]), 'p50-added-latency');
      expect(v.status).toBe('not met');
      expect(v.readings.map((r) => r.status)).toEqual(['met', 'not met']);
      expect(v.line).toContain('✓ +0.59 ms at 1; ✗ +1.0040 ms at 8');
    });

    it('prints a negative difference with its sign', () => {
      expect(verdict(withRows(metFigures(), [{ p50AddedMs: -0.25 }]), 'p50-added-latency').line).toContain('✓ -0.25 ms at 1');
    });

    it('is not measured when one concurrency has no figure and the others are met', () => {
      const v = verdict(withRows(metFigures(), [{ p50AddedMs: Number.NaN }]), 'p50-added-latency');
      expect(v.status).toBe('not measured');
      expect(v.line).toContain('– not measured at 1; ✓ +0.40 ms at 8');
    });

    it('is not met when one concurrency misses it, even if another has no figure', () => {
      const v = verdict(withRows(metFigures(), [{ p50AddedMs: undefined }, { p50AddedMs: 8.03 }]), 'p50-added-latency');
      expect(v.status).toBe('not met');
    });
  });

  describe('memory while streaming', () => {
    const stream = (bytes: number, growthMiB: number, status = 200): RunFigures => ({
      ...metFigures(),
      streams: [{ direction: 'download', bytes, status, growthMiB }],
    });

    it('allows 8 MiB of growth on a short stream, strictly', () => {
      expect(verdict(stream(64 * MIB, 7.9), 'flat-streaming-memory').status).toBe('met');
      const v = verdict(stream(64 * MIB, 8), 'flat-streaming-memory');
      expect(v.status).toBe('not met');
      expect(v.readings[0]?.limit).toBe(8);
    });

    it('allows 2% of the bytes streamed on a long stream', () => {
      // 2% of 1 GiB is 20.48 MiB.
      expect(verdict(stream(1024 * MIB, 20.4), 'flat-streaming-memory').status).toBe('met');
      expect(verdict(stream(1024 * MIB, 20.48), 'flat-streaming-memory').status).toBe('not met');
      expect(verdict(stream(1024 * MIB, 20.4), 'flat-streaming-memory').readings[0]?.limit).toBeCloseTo(20.48, 10);
    });

    it('is not met by a stream that did not come through whole, however flat', () => {
      const v = verdict(stream(64 * MIB, 0.1, 502), 'flat-streaming-memory');
      expect(v.status).toBe('not met');
      expect(v.line).toContain('✗ +0.1 MiB downloading 64 MiB (answered 502)');
    });

    it('reads each stream, download and upload', () => {
      const v = verdict(metFigures(), 'flat-streaming-memory');
      expect(v.line).toContain('✓ +4.5 MiB downloading 1024 MiB; ✓ +0.2 MiB uploading 256 MiB');
    });

    it('is not measured when nothing was streamed', () => {
      expect(verdict({ ...metFigures(), streams: [] }, 'flat-streaming-memory').status).toBe('not measured');
    });
  });

  describe('KV operations per request', () => {
    it('allows one read, not more', () => {
      expect(verdict(withRows(metFigures(), [{ kvReadsPerRequest: 1 }]), 'kv-reads').status).toBe('met');
      const v = verdict(withRows(metFigures(), [{}, { kvReadsPerRequest: 1.01 }]), 'kv-reads');
      expect(v.status).toBe('not met');
      expect(v.line).toContain('✓ 0.00 reads at 1; ✗ 1.01 reads at 8');
    });

    it('allows no write at all', () => {
      expect(verdict(metFigures(), 'kv-writes').status).toBe('met');
      const v = verdict(withRows(metFigures(), [{ kvWritesPerRequest: 0.001 }]), 'kv-writes');
      expect(v.status).toBe('not met');
      // 0.001 would print as 0.00, the limit itself: it gets the digits that show it is not.
      expect(v.line).toContain('✗ 0.0010 writes at 1');
    });

    it('is not measured without KV counts', () => {
      expect(verdict(withRows(metFigures(), [{ kvWritesPerRequest: undefined }, { kvWritesPerRequest: undefined }]), 'kv-writes').status).toBe('not measured');
    });
  });
});

describe('verdictLines', () => {
  it('is a legend, then one line per target in the order of the list', () => {
    const lines = verdictLines(judge(TARGETS, metFigures()));
    expect(lines[0]).toBe('Against the targets in this run (✓ met, ✗ not met, – not measured):');
    expect(lines.slice(2)).toHaveLength(TARGETS.length);
    lines.slice(2).forEach((line, i) => expect(line).toContain(TARGETS[i]?.sentence));
  });
});

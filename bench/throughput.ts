/**
 * Requests/s, latency and CPU per request of everything measured, at each concurrency.
 * Rounds interleave the measured targets so that drift on a shared machine (other load,
 * CPU frequency, JIT warm-up) falls on all of them alike; each figure is the median of
 * its rounds, and each ratio the median of per-round ratios, with their range.
 */
import { load, type LoadClient, type LoadResult, type LoadTarget } from './load.ts';
import { emptyTally, kvPerRequest, tallyKv, type KvPerRequest, type KvTally, type RequestLogLine } from './request-log.ts';
import { median, perRoundDifference, perRoundRatio, type RatioSummary, type RoundsSummary } from './stats.ts';

export interface Measured extends LoadTarget {
  id: string;
  label: string;
  /** What it is measured on, as the report names it ("GET /api/4.0/user"). */
  what: string;
  /** For a target whose KV use is counted: its request log. */
  requestLog?: RequestLog | undefined;
}

export interface RequestLog {
  /** The request log lines written since the previous call. */
  read(): RequestLogLine[];
  /** The route of the measured request's lines ('/api/*', '/mcp'). */
  route: string;
  /** Where the lines come from, for the error when there are none. */
  file: string;
}

export interface Medians {
  rps: number;
  p50: number;
  p99: number;
  cpuPerRequestMs: number;
}

/** A ratio the report shows: `of`'s requests/s over `to`'s (and CPU per request, see CpuCompared). */
export interface Comparison {
  of: string;
  to: string;
}

/** `of`'s CPU per request against `to`'s (of the process serving each: workerd for a Worker), from rounds that ran side by side. */
export interface CpuCompared {
  /** `of` minus `to`, in ms per request. */
  addedMs: RoundsSummary;
  /** `of` over `to`. */
  ratio: RatioSummary;
}

export interface ThroughputRow {
  concurrency: number;
  /** Per measured id, every round as measured. */
  rounds: Record<string, LoadResult[]>;
  /** Per measured id, the medians of its rounds. */
  medians: Record<string, Medians>;
  /** Per comparison, keyed `of/to`: the per-round requests/s ratios. */
  ratios: Record<string, RatioSummary>;
  /** Per comparison, keyed `of/to`: CPU per request, added and as a ratio, per round. */
  cpu: Record<string, CpuCompared>;
  /** Per id whose KV use is counted. */
  kv: Record<string, KvPerRequest>;
}

export interface ThroughputShape {
  concurrencies: readonly number[];
  rounds: number;
  durationMs: number;
  warmupMs: number;
}

export async function measureThroughput(client: LoadClient, measured: readonly Measured[], comparisons: readonly Comparison[], shape: ThroughputShape): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const concurrency of shape.concurrencies) {
    const rounds: Record<string, LoadResult[]> = Object.fromEntries(measured.map((m) => [m.id, []]));
    const tallies = new Map<string, KvTally>();
    for (let round = 0; round < shape.rounds; round++) {
      for (const target of measured) {
        target.requestLog?.read(); // skip what came before this round
        // The warm-up runs before each target's first round only: later rounds follow a measured one.
        const result = await load(client, target, { concurrency, durationMs: shape.durationMs, warmupMs: round === 0 ? shape.warmupMs : 0 });
        if (result.errors > 0) console.warn(`${target.label} at concurrency ${concurrency}: ${result.errors} answers other than a 200 (or a 200 carrying an error)`);
        rounds[target.id]?.push(result);
        const log = target.requestLog;
        if (log) tallies.set(target.id, tallyKv(tallies.get(target.id) ?? emptyTally(), log.read(), log.route));
      }
    }
    const kv: Record<string, KvPerRequest> = {};
    for (const target of measured) {
      // No lines would read as "0 KV operations": kvPerRequest refuses that.
      if (target.requestLog) kv[target.id] = kvPerRequest(tallies.get(target.id) ?? emptyTally(), `${target.label} at concurrency ${concurrency} (${target.requestLog.file}, ${target.requestLog.route})`);
    }
    rows.push(summarize(concurrency, rounds, comparisons, kv));
    console.log(`concurrency ${concurrency} done`);
  }
  return rows;
}

/** One concurrency's rounds → its medians and ratios. */
export function summarize(concurrency: number, rounds: Record<string, LoadResult[]>, comparisons: readonly Comparison[], kv: Record<string, KvPerRequest> = {}): ThroughputRow {
  const medians: Record<string, Medians> = {};
  for (const [id, runs] of Object.entries(rounds)) {
    medians[id] = {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuPerRequestMs: median(runs.map((r) => r.cpuPerRequestMs)),
    };
  }
  const ratios: Record<string, RatioSummary> = {};
  const cpu: Record<string, CpuCompared> = {};
  for (const { of, to } of comparisons) {
    const numerators = rounds[of];
    const denominators = rounds[to];
    if (numerators === undefined || denominators === undefined) throw new Error(`cannot compare ${of} with ${to}: not both measured`);
    const key = ratioKey({ of, to });
    ratios[key] = perRoundRatio(numerators.map((r) => r.rps), denominators.map((r) => r.rps));
    const [ofCpu, toCpu] = [numerators.map((r) => r.cpuPerRequestMs), denominators.map((r) => r.cpuPerRequestMs)];
    cpu[key] = { addedMs: perRoundDifference(ofCpu, toCpu), ratio: perRoundRatio(ofCpu, toCpu) };
  }
  return { concurrency, rounds, medians, ratios, cpu, kv };
}

export const ratioKey = ({ of, to }: Comparison): string => `${of}/${to}`;

/** How much slower `of`'s median p50 is than `to`'s, in ms; undefined if either was not measured. */
export function p50Added(row: ThroughputRow, of: string, to: string): number | undefined {
  const [a, b] = [row.medians[of], row.medians[to]];
  return a === undefined || b === undefined ? undefined : a.p50 - b.p50;
}

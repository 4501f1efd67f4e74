/**
 * The Deno run's measurement: at each concurrency, interleaved rounds of a fixed number
 * of requests to each measured server, reading the server's CPU time (/proc, the process
 * and any children) and, for the gateway, its KV operations before and after each round.
 * Each figure is the median of its rounds; each ratio the median of per-round ratios, with
 * their range (stats.ts), as for Workers.
 */
import { LIVENESS_TTL_MS } from '../src/grants/access.ts';
import { kvCountsSince, readsAndWrites, type KvCounts } from './kv-count.ts';
import { loadCount, type LoadClient, type LoadResult, type LoadTarget } from './load.ts';
import { treeCpuMs } from './proc.ts';
import { median, perRoundRatio, type RatioSummary } from './stats.ts';
import type { Comparison, Medians } from './throughput.ts';

export interface DenoTarget extends LoadTarget {
  id: string;
  label: string;
  /** The server's KV operations so far, for a target whose KV use is counted. */
  kvCounts?: (() => Promise<KvCounts>) | undefined;
}

export interface DenoRound extends LoadResult {
  /** The KV operations the server made during the round, if counted. */
  kv?: KvCounts | undefined;
}

export interface DenoKvPerRequest {
  reads: number;
  writes: number;
  operations: number;
  /**
   * The operations per request that the grant's liveness re-check accounts for at most
   * over these rounds' time (livenessAllowance): they come with time, not with requests.
   */
  allowed: number;
}

/**
 * The Deno KV operations that come with time, not with requests: a gateway instance
 * trusts its memory of a grant for LIVENESS_TTL_MS, then asks the ledger again (on
 * Workers a Durable Object, on Deno the same Deno KV). Every request in flight when that
 * memory lapses asks for itself (a request never awaits a promise another request made:
 * on Workers that can hang), so at concurrency c up to c re-checks run at once. One
 * re-check reads the grant (and, for a script, its token record) and, when the grant's use
 * is due to be recorded (once a minute), tries one write; when another re-check's write
 * got there first, it reads again. At most 5 operations.
 */
export const LIVENESS_RECHECK_OPERATIONS = 5;

/** The most KV operations one grant's liveness re-checks make in `seconds` at `concurrency`: a round of re-checks at the start, then one every LIVENESS_TTL_MS. */
export function livenessAllowance(seconds: number, concurrency: number): number {
  return LIVENESS_RECHECK_OPERATIONS * concurrency * (Math.floor((seconds * 1000) / LIVENESS_TTL_MS) + 1);
}

export interface DenoRow {
  concurrency: number;
  /** Per measured id, every round as measured. */
  rounds: Record<string, DenoRound[]>;
  medians: Record<string, Medians>;
  /**
   * Per comparison, keyed `of/to`: the throughput the server's CPU allows `of` next to
   * `to`, per round: to's CPU per request over of's (bare/gateway, the Workers bench's
   * convention for instructions). ≥ 1 means `of` costs no more than `to`.
   */
  cpuRatios: Record<string, RatioSummary>;
  /** Per comparison, keyed `of/to`: of's requests/s over to's, per round (informative). */
  rpsRatios: Record<string, RatioSummary>;
  /** Per id whose KV use is counted: operations per request over all its rounds. */
  kv: Record<string, DenoKvPerRequest>;
}

export interface DenoShape {
  concurrencies: readonly number[];
  rounds: number;
  /** Requests per round, per target. */
  requests: number;
}

export async function measureDenoRounds(client: LoadClient, targets: readonly DenoTarget[], comparisons: readonly Comparison[], shape: DenoShape): Promise<DenoRow[]> {
  const rows: DenoRow[] = [];
  for (const concurrency of shape.concurrencies) {
    const rounds: Record<string, DenoRound[]> = Object.fromEntries(targets.map((t) => [t.id, []]));
    for (const target of targets) {
      // A warm-up round per target at each concurrency (JIT, connection pool), not counted.
      await loadCount(client, target, { concurrency, requests: shape.requests });
    }
    for (let round = 0; round < shape.rounds; round++) {
      for (const target of targets) {
        const kvBefore = await target.kvCounts?.();
        const result: DenoRound = await loadCount(client, target, { concurrency, requests: shape.requests }, treeCpuMs);
        if (kvBefore !== undefined && target.kvCounts !== undefined) result.kv = kvCountsSince(kvBefore, await target.kvCounts());
        if (result.errors > 0) console.warn(`${target.label} at concurrency ${concurrency}: ${result.errors} answers other than 200`);
        rounds[target.id]?.push(result);
      }
    }
    rows.push(summarizeDeno(concurrency, rounds, comparisons));
    console.log(`concurrency ${concurrency} done`);
  }
  return rows;
}

/** One concurrency's rounds → medians, CPU and requests/s ratios, KV operations per request. */
export function summarizeDeno(concurrency: number, rounds: Record<string, DenoRound[]>, comparisons: readonly Comparison[]): DenoRow {
  const medians: Record<string, Medians> = {};
  const kv: Record<string, DenoKvPerRequest> = {};
  for (const [id, runs] of Object.entries(rounds)) {
    medians[id] = {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuPerRequestMs: median(runs.map((r) => r.cpuPerRequestMs)),
    };
    if (runs.some((r) => r.kv !== undefined)) kv[id] = kvPerRequest(runs, concurrency, `${id} at concurrency ${concurrency}`);
  }
  const cpuRatios: Record<string, RatioSummary> = {};
  const rpsRatios: Record<string, RatioSummary> = {};
  for (const { of, to } of comparisons) {
    const [mine, theirs] = [rounds[of], rounds[to]];
    if (mine === undefined || theirs === undefined) throw new Error(`cannot compare ${of} with ${to}: not both measured`);
    const key = `${of}/${to}`;
    cpuRatios[key] = perRoundRatio(theirs.map((r) => r.cpuPerRequestMs), mine.map((r) => r.cpuPerRequestMs));
    rpsRatios[key] = perRoundRatio(mine.map((r) => r.rps), theirs.map((r) => r.rps));
  }
  return { concurrency, rounds, medians, cpuRatios, rpsRatios, kv };
}

/**
 * KV operations per request over every round (all the operations over all the requests
 * answered, 200 or not), and what the liveness re-checks allow of them. Throws rather than report 0 when a round was not counted or no
 * request was answered.
 */
export function kvPerRequest(rounds: readonly DenoRound[], concurrency: number, where: string): DenoKvPerRequest {
  let requests = 0;
  let reads = 0;
  let writes = 0;
  let allowed = 0;
  for (const round of rounds) {
    if (round.kv === undefined) throw new Error(`${where}: a round without KV counts`);
    const counted = readsAndWrites(round.kv);
    reads += counted.reads;
    writes += counted.writes;
    requests += round.requests + round.errors;
    allowed += livenessAllowance(round.seconds, concurrency);
  }
  if (requests === 0) throw new Error(`${where}: no request answered, so no KV operations per request`);
  return { reads: reads / requests, writes: writes / requests, operations: (reads + writes) / requests, allowed: allowed / requests };
}

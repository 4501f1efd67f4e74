/**
 * What the gateway is held to, as data: each target names the quantity a run measures,
 * how it compares and against what. verdicts.ts judges a run's figures by this list, and
 * the report ends with one line per target. A new target is one more entry here (and,
 * for a quantity not measured yet, a reading in verdicts.ts).
 */

/** The figures a run produces that a target can be judged by (read in verdicts.ts). */
export type Quantity =
  /** bare/gateway workerd instructions per request under callgrind: the throughput the runtime allows. */
  | 'instructionsRatio'
  /** gateway/bare median requests/s, per concurrency. */
  | 'requestsPerSecondRatio'
  /** gateway p50 latency minus the bare Worker's, in ms, per concurrency. */
  | 'p50AddedMs'
  /** Growth of the gateway's workerd RSS while streaming a download or an upload, in MiB. */
  | 'streamGrowthMiB'
  /** The gateway's KV reads per steady-state API request, per concurrency. */
  | 'kvReadsPerRequest'
  /** The gateway's KV writes per steady-state API request, per concurrency. */
  | 'kvWritesPerRequest'
  /** On Deno: bare/gateway server CPU time per request, per concurrency: the throughput the CPU allows. */
  | 'cpuRatio'
  /** On Deno: the gateway's Deno KV operations (reads and writes) per steady-state API request, per concurrency. */
  | 'kvOperationsPerRequest';

export type Comparison = '≥' | '≤' | '<' | '=';

export interface Threshold {
  value: number;
  /**
   * For a stream: the limit is this fraction of the MiB streamed when that is larger than
   * `value`, so a long stream may grow by noise that scales with it, never by its size.
   */
  orFractionOfStreamed?: number;
}

export interface Target {
  id: string;
  /** The target in words, as the report prints it. */
  sentence: string;
  quantity: Quantity;
  comparison: Comparison;
  threshold: Threshold;
  /** A related figure shown beside the verdict but not judged, and why not. */
  informative?: { quantity: Quantity; label: string };
}

/** What the gateway is held to on Workers (`npm run bench`). */
export const TARGETS: readonly Target[] = [
  {
    id: 'throughput',
    sentence: "the gateway's throughput ≥ 0.9× the bare Worker's, by workerd instructions per request",
    quantity: 'instructionsRatio',
    comparison: '≥',
    threshold: { value: 0.9 },
    informative: {
      quantity: 'requestsPerSecondRatio',
      // On a shared 2-core VM requests/s move by 15% or more from run to run,
      // instruction counts by a few percent: only the latter can decide.
      label: 'Informative only, by median requests/s (they move 15% or more between runs on a shared machine)',
    },
  },
  {
    id: 'p50-added-latency',
    sentence: 'p50 added latency ≤ 1 ms over the bare Worker, at each concurrency',
    quantity: 'p50AddedMs',
    comparison: '≤',
    threshold: { value: 1 },
  },
  {
    id: 'flat-streaming-memory',
    sentence: 'memory flat while streaming through the gateway (workerd grows by less than max(8 MiB, 2% of the bytes streamed))',
    quantity: 'streamGrowthMiB',
    comparison: '<',
    threshold: { value: 8, orFractionOfStreamed: 0.02 },
  },
  {
    id: 'kv-reads',
    sentence: 'at most one KV read per steady-state request',
    quantity: 'kvReadsPerRequest',
    comparison: '≤',
    threshold: { value: 1 },
  },
  {
    id: 'kv-writes',
    sentence: 'no KV write per steady-state request',
    quantity: 'kvWritesPerRequest',
    comparison: '=',
    threshold: { value: 0 },
  },
];

/**
 * What the gateway is held to on Deno (`npm run bench -- --runtime deno`), against a bare
 * Deno pass-through in the same run. Throughput is judged by the server's CPU time per
 * request, read from /proc around a fixed number of requests: there is no callgrind run on
 * Deno, and CPU per request moves less between runs than requests/s.
 */
export const DENO_TARGETS: readonly Target[] = [
  {
    id: 'throughput',
    sentence: "the gateway's throughput ≥ 0.9× the bare Deno pass-through's, by server CPU time per request, at each concurrency",
    quantity: 'cpuRatio',
    comparison: '≥',
    threshold: { value: 0.9 },
    informative: {
      quantity: 'requestsPerSecondRatio',
      label: 'Informative only, by median requests/s (they move 15% or more between runs on a shared machine)',
    },
  },
  {
    id: 'flat-streaming-memory',
    sentence: 'memory flat while streaming through the gateway (the Deno server grows by less than max(8 MiB, 2% of the bytes streamed))',
    quantity: 'streamGrowthMiB',
    comparison: '<',
    threshold: { value: 8, orFractionOfStreamed: 0.02 },
  },
  {
    id: 'kv-operations',
    sentence: "no Deno KV operation per steady-state request, for a browser's session and a script's bearer token (beyond the grant's liveness re-check: every 5 s, one per request in flight at most)",
    quantity: 'kvOperationsPerRequest',
    // 0, or at most what the liveness re-checks account for over the round (verdicts.ts reads that limit from the run).
    comparison: '≤',
    threshold: { value: 0 },
  },
];

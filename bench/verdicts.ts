/**
 * A run's figures judged against the targets (targets.ts): pure, so that what "met" means
 * is tested apart from any measurement. A figure a run did not produce (no --instructions,
 * a round with no successful request) makes its target "not measured", never met.
 */
import type { Comparison, Quantity, Target, Threshold } from './targets.ts';

/** What the verdicts read from a run. Absent or non-finite numbers are "not measured". */
export interface RunFigures {
  /** Workers: bare/gateway workerd instructions per request (only with --instructions). */
  instructionsRatio?: number | undefined;
  perConcurrency: ConcurrencyFigures[];
  /** The gateway's streams; each is judged only if Looker's answer came through whole (200). */
  streams: StreamFigures[];
}

export interface ConcurrencyFigures {
  concurrency: number;
  requestsPerSecondRatio?: number | undefined;
  p50AddedMs?: number | undefined;
  kvReadsPerRequest?: number | undefined;
  kvWritesPerRequest?: number | undefined;
  /** On Deno: bare/gateway server CPU per request. */
  cpuRatio?: number | undefined;
  /** On Deno: Deno KV operations per request (the worse of the browser's and the script's). */
  kvOperationsPerRequest?: number | undefined;
  /**
   * On Deno: of those, what the grant's liveness re-check (once every few seconds, not per
   * request) may account for; the limit kvOperationsPerRequest is judged against instead of 0.
   */
  kvOperationsAllowedPerRequest?: number | undefined;
}

export interface StreamFigures {
  direction: 'download' | 'upload';
  bytes: number;
  status: number;
  growthMiB: number;
}

export type Status = 'met' | 'not met' | 'not measured';

export const MARK: Record<Status, string> = { met: '✓', 'not met': '✗', 'not measured': '–' };

export interface JudgedReading {
  /** Where in the run: "at 8", "by instructions", "downloading 1024 MiB". */
  where: string;
  value: number | undefined;
  limit: number;
  status: Status;
  /** The reading as the report prints it, with its mark. */
  text: string;
}

export interface Verdict {
  target: Target;
  status: Status;
  readings: JudgedReading[];
  /** The line the report prints for this target. */
  line: string;
}

interface Reading {
  where: string;
  value: number | undefined;
  streamedMiB?: number;
  /** The limit for this reading, when it is not the target's threshold. */
  limit?: number;
  /** Why the reading cannot count even though a value was taken. */
  failure?: string;
}

interface QuantityReader {
  read(figures: RunFigures): Reading[];
  format(value: number, digits: number): string;
  digits: number;
  /** Said when the run has no reading of this quantity at all. */
  unmeasured: string;
}

const MIB = 1024 * 1024;
const signed = (value: number, digits: number) => `${value >= 0 ? '+' : '-'}${Math.abs(value).toFixed(digits)}`;
const perConcurrency = (pick: (row: ConcurrencyFigures) => number | undefined) => (figures: RunFigures) =>
  figures.perConcurrency.map((row) => ({ where: `at ${row.concurrency}`, value: pick(row) }));

const QUANTITIES: Record<Quantity, QuantityReader> = {
  instructionsRatio: {
    read: (figures) => (figures.instructionsRatio === undefined ? [] : [{ where: 'by instructions', value: figures.instructionsRatio }]),
    format: (value, digits) => `${value.toFixed(digits)}×`,
    digits: 2,
    unmeasured: 'run with --instructions; needs valgrind',
  },
  requestsPerSecondRatio: {
    read: perConcurrency((row) => row.requestsPerSecondRatio),
    format: (value, digits) => `${value.toFixed(digits)}×`,
    digits: 2,
    unmeasured: 'no throughput rounds',
  },
  p50AddedMs: {
    read: perConcurrency((row) => row.p50AddedMs),
    format: (value, digits) => `${signed(value, digits)} ms`,
    digits: 2,
    unmeasured: 'no throughput rounds',
  },
  streamGrowthMiB: {
    read: (figures) =>
      figures.streams.map((stream) => {
        const streamedMiB = stream.bytes / MIB;
        const verb = stream.direction === 'download' ? 'downloading' : 'uploading';
        const reading: Reading = { where: `${verb} ${streamedMiB.toFixed(0)} MiB`, value: stream.growthMiB, streamedMiB };
        if (stream.status !== 200) reading.failure = `answered ${stream.status}`;
        return reading;
      }),
    format: (value, digits) => `${signed(value, digits)} MiB`,
    digits: 1,
    unmeasured: 'nothing streamed',
  },
  kvReadsPerRequest: {
    read: perConcurrency((row) => row.kvReadsPerRequest),
    format: (value, digits) => `${value.toFixed(digits)} reads`,
    digits: 2,
    unmeasured: 'no throughput rounds',
  },
  kvWritesPerRequest: {
    read: perConcurrency((row) => row.kvWritesPerRequest),
    format: (value, digits) => `${value.toFixed(digits)} writes`,
    digits: 2,
    unmeasured: 'no throughput rounds',
  },
  cpuRatio: {
    read: perConcurrency((row) => row.cpuRatio),
    format: (value, digits) => `${value.toFixed(digits)}×`,
    digits: 2,
    unmeasured: 'no rounds',
  },
  kvOperationsPerRequest: {
    read: (figures) =>
      figures.perConcurrency.map((row) => {
        const allowed = row.kvOperationsAllowedPerRequest;
        if (allowed === undefined) return { where: `at ${row.concurrency}`, value: row.kvOperationsPerRequest };
        return { where: `at ${row.concurrency} (the liveness re-checks allow ${allowed.toFixed(4)})`, value: row.kvOperationsPerRequest, limit: allowed };
      }),
    format: (value, digits) => `${value.toFixed(digits)} operations`,
    // A few operations in thousands of requests (the re-checks) must not print as 0.00.
    digits: 4,
    unmeasured: 'no rounds',
  },
};

export function compare(value: number, comparison: Comparison, limit: number): boolean {
  switch (comparison) {
    case '≥':
      return value >= limit;
    case '≤':
      return value <= limit;
    case '<':
      return value < limit;
    case '=':
      return value === limit;
  }
}

export function limitFor(threshold: Threshold, streamedMiB = 0): number {
  return Math.max(threshold.value, (threshold.orFractionOfStreamed ?? 0) * streamedMiB);
}

export function judge(targets: readonly Target[], figures: RunFigures): Verdict[] {
  return targets.map((target) => judgeOne(target, figures));
}

function judgeOne(target: Target, figures: RunFigures): Verdict {
  const quantity = QUANTITIES[target.quantity];
  const readings = quantity.read(figures).map((reading) => judgeReading(target, quantity, reading));
  const status = overall(readings.map((r) => r.status));
  const shown = readings.length === 0 ? `not measured (${quantity.unmeasured})` : readings.map((r) => r.text).join('; ');
  let line = `- ${MARK[status]} ${target.sentence}: ${shown}`;
  if (target.informative) {
    const extra = QUANTITIES[target.informative.quantity];
    const shownExtra = extra.read(figures).flatMap((r) => (isFigure(r.value) ? [`${extra.format(r.value, extra.digits)} ${r.where}`] : []));
    if (shownExtra.length > 0) line += `. ${target.informative.label}: ${shownExtra.join('; ')}`;
  }
  return { target, status, readings, line };
}

function judgeReading(target: Target, quantity: QuantityReader, reading: Reading): JudgedReading {
  const limit = reading.limit ?? limitFor(target.threshold, reading.streamedMiB);
  const { where, value } = reading;
  if (!isFigure(value)) return { where, value: undefined, limit, status: 'not measured', text: `${MARK['not measured']} not measured ${where}` };
  const status: Status = reading.failure === undefined && compare(value, target.comparison, limit) ? 'met' : 'not met';
  // A reading rounded to look like its limit (0.90× against ≥ 0.9× when it is 0.8996)
  // gets more digits, so the printed figure agrees with its mark.
  let shown = quantity.format(value, quantity.digits);
  if (value !== limit && shown === quantity.format(limit, quantity.digits)) shown = quantity.format(value, quantity.digits + 2);
  const failure = reading.failure === undefined ? '' : ` (${reading.failure})`;
  return { where, value, limit, status, text: `${MARK[status]} ${shown} ${where}${failure}` };
}

/** Met only if every reading is; not met if any is not; otherwise some are unmeasured. */
function overall(statuses: readonly Status[]): Status {
  if (statuses.includes('not met')) return 'not met';
  if (statuses.length === 0 || statuses.includes('not measured')) return 'not measured';
  return 'met';
}

function isFigure(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/** The report's closing section: one line per target. */
export function verdictLines(verdicts: readonly Verdict[]): string[] {
  return ['Against the targets in this run (✓ met, ✗ not met, – not measured):', '', ...verdicts.map((v) => v.line)];
}

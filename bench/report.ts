/**
 * The run's report (bench-out/results.md): what ran, the tables, and each target marked
 * met or not against the run's own figures. Pure: it only formats what was measured.
 */
import type { Instructions } from './callgrind.ts';
import type { StreamResult } from './memory.ts';
import type { BenchOptions } from './options.ts';
import { TARGETS } from './targets.ts';
import { p50Added, ratioKey, type Comparison, type ThroughputRow } from './throughput.ts';
import type { RoundsSummary } from './stats.ts';
import { judge, verdictLines, type RunFigures, type Verdict } from './verdicts.ts';
import { BARE, GATEWAY, GATEWAY_BEARER } from './workers.ts';

export interface BenchResults {
  startedAt: Date;
  machine: { platform: string; arch: string; node: string; cores: number };
  options: BenchOptions;
  bundleBytes: number;
  /** Everything measured for throughput, in the order of the tables' columns; `what` is the request it was measured on. */
  measured: ReadonlyArray<{ id: string; label: string; what: string; isWorker: boolean; countsKv: boolean }>;
  comparisons: readonly Comparison[];
  throughput: ThroughputRow[];
  streams: StreamResult[];
  instructions?: Instructions | undefined;
  /** Requests sent again after a connection reset, by the name of what answered. */
  resentAfterReset: ReadonlyArray<[string, number]>;
}

/** The larger of two measurements, ignoring a missing one. */
function worst(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** What the verdicts read from a run: the gateway against the bare Worker. */
export function figuresOf(results: BenchResults): RunFigures {
  const counts = results.instructions !== undefined && 'perRequest' in results.instructions ? results.instructions.perRequest : {};
  const [bare, gateway] = [counts[BARE]?.lowest, counts[GATEWAY]?.lowest];
  return {
    instructionsRatio: bare !== undefined && gateway !== undefined ? bare / gateway : undefined,
    perConcurrency: results.throughput.map((row) => ({
      concurrency: row.concurrency,
      requestsPerSecondRatio: row.ratios[ratioKey({ of: GATEWAY, to: BARE })]?.median,
      p50AddedMs: p50Added(row, GATEWAY, BARE),
      // Steady state for a browser and for a script alike: the worse of the two.
      kvReadsPerRequest: worst(row.kv[GATEWAY]?.reads, row.kv[GATEWAY_BEARER]?.reads),
      kvWritesPerRequest: worst(row.kv[GATEWAY]?.writes, row.kv[GATEWAY_BEARER]?.writes),
    })),
    streams: results.streams
      .filter((s) => s.id === GATEWAY)
      .map((s) => ({ direction: s.direction, bytes: s.bytes, status: s.status, growthMiB: s.growthMiB })),
  };
}

export function verdictsOf(results: BenchResults): Verdict[] {
  return judge(TARGETS, figuresOf(results));
}

const f = (n: number, digits = 1) => n.toFixed(digits);
const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
/** "gateway/(bare + log)": a label with spaces in parentheses, so the ratio reads unambiguously. */
const term = (label: string) => (label.includes(' ') ? `(${label})` : label);
const labelsOf = (list: ReadonlyArray<{ label: string }>) => list.map((m) => m.label).join(' / ');

/**
 * How the report splits what was measured: the main table holds every target measured on
 * the same request as the others (GET /api/4.0/user) and the comparisons among them; a
 * comparison of two different requests (an MCP tool call against the same Looker call
 * through /api/*) gets a table of its own, with the CPU one adds over the other, and its
 * two targets appear there only.
 */
export function splitTables(measured: BenchResults['measured'], comparisons: readonly Comparison[]): { main: BenchResults['measured']; mainComparisons: Comparison[]; costs: Comparison[] } {
  const whatOf = new Map(measured.map((m) => [m.id, m.what]));
  const twoRequests = ({ of, to }: Comparison) => {
    const [a, b] = [whatOf.get(of), whatOf.get(to)];
    return a !== undefined && b !== undefined && a !== b;
  };
  const costs = comparisons.filter(twoRequests);
  const apart = new Set(costs.flatMap((c) => [c.of, c.to]));
  return {
    main: measured.filter((m) => !apart.has(m.id)),
    // Including one with a side not measured at all: its cells say n/a.
    mainComparisons: comparisons.filter((c) => !costs.includes(c) && !apart.has(c.of) && !apart.has(c.to)),
    costs,
  };
}

export function renderReport(results: BenchResults, verdicts: readonly Verdict[]): string {
  const { options: o, machine } = results;
  const labelOf = new Map(results.measured.map((m) => [m.id, m.label]));
  const name = (id: string) => labelOf.get(id) ?? id;
  const { main, mainComparisons, costs } = splitTables(results.measured, results.comparisons);
  const workers = main.filter((m) => m.isWorker);
  const kvCounted = main.filter((m) => m.countsKv);
  const lines: string[] = [];

  lines.push(`looker-oauth-gateway benchmark — ${results.startedAt.toISOString()} — ${machine.platform}/${machine.arch}, Node ${machine.node}, ${machine.cores} cores${o.quick ? ' — quick run' : ''}`);
  const requests = [...new Set(main.map((m) => m.what))].join(', ');
  lines.push(`${requests}; per concurrency ${o.rounds} interleaved rounds of ${o.durationMs / 1000} s per target (after ${o.warmupMs / 1000} s warm-up), medians; gateway bundle ${f(results.bundleBytes / 1024)} KiB`);
  lines.push('');

    lines.push(
    row([
      'concurrency',
      ...main.map((m) => `${m.label} req/s`),
      ...mainComparisons.map((c, i) => `${name(c.of)}/${term(name(c.to))}${i === 0 ? ' (median, and range of rounds)' : ''}`),
      `p50 ${labelsOf(main)} (ms)`,
      `p99 ${labelsOf(main)} (ms)`,
      `p50 added vs ${name(BARE)} (ms)`,
      `workerd CPU/req ${labelsOf(workers)} (ms)`,
      ...kvCounted.flatMap((m) => [`${m.label} KV reads/req`, `${m.label} KV writes/req`]),
    ]),
  );
  lines.push(row(['---:', ...main.map(() => '---:'), ...mainComparisons.map(() => '---:'), '---', '---', '---:', '---', ...kvCounted.flatMap(() => ['---:', '---:'])]));
  for (const r of results.throughput) {
    const medians = (id: string) => r.medians[id];
    const each = (list: ReadonlyArray<{ id: string }>, pick: (id: string) => string) => list.map((m) => pick(m.id)).join(' / ');
    const added = p50Added(r, GATEWAY, BARE);
    lines.push(
      row([
        String(r.concurrency),
        ...main.map((m) => f(medians(m.id)?.rps ?? Number.NaN, 0)),
        ...mainComparisons.map((c, i) => {
          const ratio = r.ratios[ratioKey(c)];
          if (ratio === undefined) return 'n/a';
          return i === 0 ? `${f(ratio.median, 2)}× (${f(ratio.min, 2)}–${f(ratio.max, 2)})` : `${f(ratio.median, 2)}×`;
        }),
        each(main, (id) => f(medians(id)?.p50 ?? Number.NaN, 2)),
        each(main, (id) => f(medians(id)?.p99 ?? Number.NaN, 2)),
        added === undefined ? 'n/a' : f(added, 2),
        each(workers, (id) => f(medians(id)?.cpuPerRequestMs ?? Number.NaN, 3)),
        ...kvCounted.flatMap((m) => [f(r.kv[m.id]?.reads ?? Number.NaN, 2), f(r.kv[m.id]?.writes ?? Number.NaN, 2)]),
      ]),
    );
  }

  for (const cost of costs) lines.push('', ...costTable(results, cost));

  lines.push('');
  lines.push('| streamed | bytes | status | seconds | workerd RSS before → peak (MiB) | growth (MiB) |');
  lines.push('|---|---:|---:|---:|---|---:|');
  for (const s of results.streams) {
    lines.push(row([`${s.direction}, ${s.label}`, String(s.bytes), String(s.status), f(s.seconds), `${f(s.baselineMiB)} → ${f(s.peakMiB)}`, f(s.growthMiB)]));
  }

  const instructions = results.instructions;
  if (instructions !== undefined && 'skipped' in instructions) {
    lines.push('', `Instructions per request: skipped, ${instructions.skipped}.`);
  } else if (instructions !== undefined) {
    const ids = Object.keys(instructions.perRequest);
    const rounds = instructions.perRequest[ids[0] ?? '']?.rounds.length ?? 0;
    const k = (n: number) => `${f(n / 1000, 0)}k`;
    const bare = instructions.perRequest[BARE]?.lowest;
    const gateway = instructions.perRequest[GATEWAY]?.lowest;
    const ratio = bare !== undefined && gateway !== undefined ? [`${f(bare / gateway, 2)}×`] : [];
    lines.push('');
    lines.push(row([`workerd instructions per request (callgrind, lowest of ${rounds} rounds of ${instructions.requestsPerRound})`, ...ids.map(name), ...(ratio.length > 0 ? [`${name(BARE)}/${name(GATEWAY)} (the throughput ratio they allow)`] : [])]));
    lines.push(row(['---', ...ids.map(() => '---:'), ...ratio.map(() => '---:')]));
    lines.push(row([`GET /api/4.0/user, ${instructions.concurrency} at a time`, ...ids.map((id) => k(instructions.perRequest[id]?.lowest ?? Number.NaN)), ...ratio]));
  }

  lines.push('', ...verdictLines(verdicts));
  if (results.resentAfterReset.length > 0) {
    const counts = results.resentAfterReset.map(([who, n]) => `${who}: ${n}`).join(', ');
    lines.push('', `Requests sent again after the server reset a kept-alive connection: ${counts}.`);
  }
  return lines.join('\n');
}

/** "0.84 (0.80–0.90)": a per-round figure's median and range. */
const spread = (s: RoundsSummary | undefined, digits: number, unit = '') => (s === undefined ? 'n/a' : `${f(s.median, digits)}${unit} (${f(s.min, digits)}–${f(s.max, digits)})`);

/**
 * One comparison of two different requests, per concurrency: each one's requests/s,
 * p50/p99 and workerd CPU per request, the baseline (`to`) first; then what `of` adds
 * (p50, CPU per request) and the ratios, from rounds that ran side by side.
 */
export function costTable(results: BenchResults, { of, to }: Comparison): string[] {
  const byId = new Map(results.measured.map((m) => [m.id, m]));
  const [a, b] = [byId.get(to), byId.get(of)];
  if (a === undefined || b === undefined) throw new Error(`cannot show ${of} against ${to}: not both measured`);
  const pair = `${a.label} / ${b.label}`;
  const lines = [`${b.label} (${b.what}) against ${a.label} (${a.what}):`, ''];
  const kv = [a, b].filter((m) => m.countsKv);
  lines.push(
    row([
      'concurrency',
      `${a.label} req/s`,
      `${b.label} req/s`,
      `${term(b.label)}/${term(a.label)} req/s (median, and range of rounds)`,
      `p50 ${pair} (ms)`,
      `p99 ${pair} (ms)`,
      `p50 added (ms)`,
      `workerd CPU/req ${pair} (ms)`,
      `CPU added per request (ms; median, and range of rounds)`,
      `${term(b.label)}/${term(a.label)} CPU per request (median, and range of rounds)`,
      ...(kv.length > 0 ? [`KV reads, writes/req ${labelsOf(kv)}`] : []),
    ]),
  );
  lines.push(row(['---:', '---:', '---:', '---:', '---', '---', '---:', '---', '---:', '---:', ...(kv.length > 0 ? ['---'] : [])]));
  for (const r of results.throughput) {
    const m = (id: string) => r.medians[id];
    const key = ratioKey({ of, to });
    const added = p50Added(r, of, to);
    lines.push(
      row([
        String(r.concurrency),
        f(m(to)?.rps ?? Number.NaN, 0),
        f(m(of)?.rps ?? Number.NaN, 0),
        spread(r.ratios[key], 2, '×'),
        `${f(m(to)?.p50 ?? Number.NaN, 2)} / ${f(m(of)?.p50 ?? Number.NaN, 2)}`,
        `${f(m(to)?.p99 ?? Number.NaN, 2)} / ${f(m(of)?.p99 ?? Number.NaN, 2)}`,
        added === undefined ? 'n/a' : f(added, 2),
        `${f(m(to)?.cpuPerRequestMs ?? Number.NaN, 3)} / ${f(m(of)?.cpuPerRequestMs ?? Number.NaN, 3)}`,
        spread(r.cpu[key]?.addedMs, 3),
        spread(r.cpu[key]?.ratio, 2, '×'),
        ...(kv.length > 0 ? [kv.map((k) => `${f(r.kv[k.id]?.reads ?? Number.NaN, 2)}, ${f(r.kv[k.id]?.writes ?? Number.NaN, 2)}`).join(' / ')] : []),
      ]),
    );
  }
  return lines;
}

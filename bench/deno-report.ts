/**
 * The Deno run's results, the figures its verdicts read (DENO_TARGETS), and its Markdown
 * report: the same conventions as the Workers report (report.ts), with server CPU time
 * per request where that one has workerd instructions.
 */
import { DENO_BARE, DENO_GATEWAY, DENO_GATEWAY_BEARER } from './deno.ts';
import type { DenoRow } from './deno-rounds.ts';
import type { StreamResult } from './memory.ts';
import type { BenchOptions } from './options.ts';
import { DENO_TARGETS } from './targets.ts';
import type { Comparison } from './throughput.ts';
import { judge, verdictLines, type RunFigures, type Verdict } from './verdicts.ts';

export interface DenoResults {
  startedAt: Date;
  machine: { platform: string; arch: string; node: string; deno: string; cores: number };
  options: BenchOptions;
  /** Everything measured, in the order of the table's columns. */
  measured: ReadonlyArray<{ id: string; label: string; countsKv: boolean }>;
  comparisons: readonly Comparison[];
  rows: DenoRow[];
  streams: StreamResult[];
  /** Requests sent again after a connection reset, by the name of what answered. */
  resentAfterReset: ReadonlyArray<[string, number]>;
}

/** The larger of two measurements, ignoring a missing one. */
function worst(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** The smaller of two measurements, ignoring a missing one. */
function least(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

const key = (of: string, to: string) => `${of}/${to}`;

/** What the verdicts read from a Deno run: the gateway (by cookie, and by bearer token for KV) against the bare pass-through. */
export function denoFiguresOf(results: DenoResults): RunFigures {
  return {
    perConcurrency: results.rows.map((row) => ({
      concurrency: row.concurrency,
      cpuRatio: row.cpuRatios[key(DENO_GATEWAY, DENO_BARE)]?.median,
      requestsPerSecondRatio: row.rpsRatios[key(DENO_GATEWAY, DENO_BARE)]?.median,
      // Steady state for a browser and for a script alike: the worse of the two.
      kvOperationsPerRequest: worst(row.kv[DENO_GATEWAY]?.operations, row.kv[DENO_GATEWAY_BEARER]?.operations),
      // The stricter of the two allowances, so that the worse figure is never judged by the looser one.
      kvOperationsAllowedPerRequest: least(row.kv[DENO_GATEWAY]?.allowed, row.kv[DENO_GATEWAY_BEARER]?.allowed),
    })),
    streams: results.streams
      .filter((s) => s.id === DENO_GATEWAY)
      .map((s) => ({ direction: s.direction, bytes: s.bytes, status: s.status, growthMiB: s.growthMiB })),
  };
}

export function denoVerdictsOf(results: DenoResults): Verdict[] {
  return judge(DENO_TARGETS, denoFiguresOf(results));
}

const f = (n: number | undefined, digits = 1) => (n === undefined ? 'n/a' : n.toFixed(digits));
const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

export function renderDenoReport(results: DenoResults, verdicts: readonly Verdict[]): string {
  const { options: o, machine } = results;
  const labelOf = new Map(results.measured.map((m) => [m.id, m.label]));
  const name = (id: string) => labelOf.get(id) ?? id;
  const labels = results.measured.map((m) => m.label).join(' / ');
  const kvCounted = results.measured.filter((m) => m.countsKv);
  const lines: string[] = [];

  lines.push(`looker-oauth-gateway benchmark on Deno — ${results.startedAt.toISOString()} — ${machine.platform}/${machine.arch}, Deno ${machine.deno}, Node ${machine.node} (load), ${machine.cores} cores${o.quick ? ' — quick run' : ''}`);
  lines.push(`GET /api/4.0/user; per concurrency ${o.rounds} interleaved rounds of ${o.requests} requests per server (after one warm-up round), medians; server CPU time from /proc before and after each round`);
  lines.push('');
  lines.push(
    row([
      'concurrency',
      ...results.measured.map((m) => `${m.label} CPU/req (ms)`),
      ...results.comparisons.map((c, i) => `${name(c.to)}/${name(c.of)} CPU/req${i === 0 ? ' (median, and range of rounds)' : ''}`),
      `req/s ${labels}`,
      ...results.comparisons.map((c) => `${name(c.of)}/${name(c.to)} req/s`),
      `p50 ${labels} (ms)`,
      `p99 ${labels} (ms)`,
      ...kvCounted.map((m) => `${m.label} KV reads / writes per req (liveness re-checks allow)`),
    ]),
  );
  lines.push(row(['---:', ...results.measured.map(() => '---:'), ...results.comparisons.map(() => '---:'), '---', ...results.comparisons.map(() => '---:'), '---', '---', ...kvCounted.map(() => '---:')]));
  for (const r of results.rows) {
    const each = (pick: (id: string) => number | undefined, digits: number) => results.measured.map((m) => f(pick(m.id), digits)).join(' / ');
    lines.push(
      row([
        String(r.concurrency),
        ...results.measured.map((m) => f(r.medians[m.id]?.cpuPerRequestMs, 3)),
        ...results.comparisons.map((c, i) => {
          const ratio = r.cpuRatios[key(c.of, c.to)];
          if (ratio === undefined) return 'n/a';
          return i === 0 ? `${f(ratio.median, 2)}× (${f(ratio.min, 2)}–${f(ratio.max, 2)})` : `${f(ratio.median, 2)}×`;
        }),
        each((id) => r.medians[id]?.rps, 0),
        ...results.comparisons.map((c) => `${f(r.rpsRatios[key(c.of, c.to)]?.median, 2)}×`),
        each((id) => r.medians[id]?.p50, 2),
        each((id) => r.medians[id]?.p99, 2),
        ...kvCounted.map((m) => `${f(r.kv[m.id]?.reads, 4)} / ${f(r.kv[m.id]?.writes, 4)} (${f(r.kv[m.id]?.allowed, 4)})`),
      ]),
    );
  }

  lines.push('');
  lines.push('| streamed | bytes | status | seconds | Deno RSS before → peak (MiB) | growth (MiB) |');
  lines.push('|---|---:|---:|---:|---|---:|');
  for (const s of results.streams) {
    lines.push(row([`${s.direction}, ${s.label}`, String(s.bytes), String(s.status), f(s.seconds), `${f(s.baselineMiB)} → ${f(s.peakMiB)}`, f(s.growthMiB)]));
  }

  lines.push('', ...verdictLines(verdicts));
  if (results.resentAfterReset.length > 0) {
    const counts = results.resentAfterReset.map(([who, n]) => `${who}: ${n}`).join(', ');
    lines.push('', `Requests sent again after the server reset a kept-alive connection: ${counts}.`);
  }
  return lines.join('\n');
}

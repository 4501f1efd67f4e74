/**
 * The benchmark's pure steps between measuring and judging: a concurrency's rounds into
 * medians and ratios, callgrind's dump files into counts, a run's results into the
 * figures the verdicts read (the gateway against the bare Worker, not any other pair),
 * and the report's tables (the MCP call against the same Looker call through /api/* in a
 * table of its own).
 */
import { describe, expect, it } from 'vitest';
import { instructionsInDump } from '../../bench/callgrind.ts';
import type { LoadResult } from '../../bench/load.ts';
import type { StreamResult } from '../../bench/memory.ts';
import { parseOptions } from '../../bench/options.ts';
import { costTable, figuresOf, renderReport, splitTables, verdictsOf, type BenchResults } from '../../bench/report.ts';
import { p50Added, summarize } from '../../bench/throughput.ts';
import { COMPARISONS, LOOKML_MODELS, MCP_GET_MODELS, USER } from '../../bench/workers.ts';

const round = (rps: number, p50: number, cpuPerRequestMs = 1): LoadResult => ({ rps, p50, p99: p50 * 4, requests: rps, errors: 0, cpuPerRequestMs, seconds: 1 });

const rounds = {
  direct: [round(8000, 0.1), round(9000, 0.1), round(10000, 0.1)],
  bare: [round(700, 1.3), round(1000, 1.2), round(800, 1.4)],
  bareLog: [round(650, 1.4), round(900, 1.3), round(700, 1.5)],
  gateway: [round(560, 1.9), round(950, 1.6), round(720, 2.2)],
  gatewayBearer: [round(540, 2.0), round(900, 1.7), round(700, 2.3)],
  // The same Looker call through /api/* and as an MCP tool call, CPU ms per request in each round.
  gatewayModels: [round(600, 1.8, 1.2), round(800, 1.5, 1.0), round(700, 1.6, 1.1)],
  gatewayMcp: [round(200, 5.0, 3.6), round(240, 4.4, 3.0), round(210, 4.8, 3.4)],
};

describe('summarize', () => {
  const row = summarize(8, rounds, COMPARISONS, { gateway: { reads: 0, writes: 0 } });

  it('gives each target the median of its rounds', () => {
    expect(row.medians['bare']).toEqual({ rps: 800, p50: 1.3, p99: 5.2, cpuPerRequestMs: 1 });
    expect(row.medians['gateway']?.rps).toBe(720);
  });

  it('gives each comparison the median and range of its per-round ratios', () => {
    // gateway/bare per round: 0.8, 0.95, 0.9.
    expect(row.ratios['gateway/bare']?.median).toBeCloseTo(0.9, 10);
    expect(row.ratios['gateway/bare']?.min).toBeCloseTo(0.8, 10);
    expect(row.ratios['gateway/bare']?.max).toBeCloseTo(0.95, 10);
    expect(Object.keys(row.ratios)).toEqual(['gateway/bare', 'gateway/bareLog', 'gateway/direct', 'gatewayBearer/bare', 'gatewayMcp/gatewayModels']);
  });

  it('gives each comparison the CPU per request added and its ratio, round by round', () => {
    // MCP − /api/* per round: 2.4, 2.0, 2.3 ms; MCP / /api/*: 3.0, 3.0, 3.09.
    const cpu = row.cpu['gatewayMcp/gatewayModels'];
    expect(cpu?.addedMs.median).toBeCloseTo(2.3, 10);
    expect(cpu?.addedMs.min).toBeCloseTo(2.0, 10);
    expect(cpu?.addedMs.max).toBeCloseTo(2.4, 10);
    expect(cpu?.ratio.median).toBeCloseTo(3, 10);
    expect(cpu?.ratio.max).toBeCloseTo(3.4 / 1.1, 10);
    expect(row.ratios['gatewayMcp/gatewayModels']?.median).toBeCloseTo(0.3, 10);
  });

  it('gives the added p50 latency between two medians, undefined for one not measured', () => {
    expect(p50Added(row, 'gateway', 'bare')).toBeCloseTo(0.6, 10);
    expect(p50Added(row, 'gateway', 'elsewhere')).toBeUndefined();
  });

  it('refuses a comparison with something not measured', () => {
    expect(() => summarize(1, { gateway: rounds.gateway }, [{ of: 'gateway', to: 'bare' }])).toThrow(/cannot compare gateway with bare/);
  });
});

describe('instructionsInDump', () => {
  const dump = (trigger: string, summary = '1588000') => `version: 1\ncreator: callgrind-3.22.0\npid: 4242\ncmd: workerd serve\npart: 2\n\ndesc: I1 cache:\ndesc: Trigger: ${trigger}\n\npositions: line\nevents: Ir\nsummary: ${summary}\n\n\ntotals: ${summary}\n`;

  it('gives the count of the dump it names', () => {
    expect(instructionsInDump(dump('dump round-1-end'), 'round-1-end')).toBe(1588000);
  });

  it('does not take one round for another whose label starts the same', () => {
    expect(instructionsInDump(dump('dump round-11-end'), 'round-1-end')).toBeUndefined();
    expect(instructionsInDump(dump('Program termination'), 'round-1-end')).toBeUndefined();
  });

  it('gives nothing for a file with no summary', () => {
    expect(instructionsInDump('desc: Trigger: dump round-0-end\n', 'round-0-end')).toBeUndefined();
  });
});

describe('figuresOf', () => {
  const options = parseOptions(['--quick']);
  if (options === undefined) throw new Error('no options');
  const stream = (id: string, direction: 'download' | 'upload', growthMiB: number): StreamResult => ({
    id,
    label: id,
    direction,
    bytes: 64 * 1024 * 1024,
    status: 200,
    seconds: 1,
    baselineMiB: 100,
    peakMiB: 100 + growthMiB,
    growthMiB,
  });
  const results: BenchResults = {
    startedAt: new Date('2026-01-01T00:00:00Z'),
    machine: { platform: 'linux', arch: 'x64', node: 'v24.0.0', cores: 2 },
    options,
    bundleBytes: 180 * 1024,
    measured: [
      { id: 'direct', label: 'direct', what: USER.what, isWorker: false, countsKv: false },
      { id: 'bare', label: 'bare', what: USER.what, isWorker: true, countsKv: false },
      { id: 'bareLog', label: 'bare + log', what: USER.what, isWorker: true, countsKv: false },
      { id: 'gateway', label: 'gateway', what: USER.what, isWorker: true, countsKv: true },
      { id: 'gatewayModels', label: 'API lookml_models', what: LOOKML_MODELS.what, isWorker: true, countsKv: true },
      { id: 'gatewayMcp', label: 'MCP get_models', what: MCP_GET_MODELS.what, isWorker: true, countsKv: true },
    ],
    comparisons: COMPARISONS,
    throughput: [summarize(8, rounds, COMPARISONS, { gateway: { reads: 0.5, writes: 0 }, gatewayModels: { reads: 0, writes: 0 }, gatewayMcp: { reads: 0.25, writes: 0 } })],
    streams: [stream('bare', 'download', 30), stream('gateway', 'download', 3), stream('gateway', 'upload', 0.5)],
    instructions: {
      requestsPerRound: 1000,
      concurrency: 4,
      perRequest: { bare: { lowest: 1_588_000, rounds: [1_590_000, 1_588_000] }, gateway: { lowest: 1_783_000, rounds: [1_783_000, 1_790_000] } },
    },
    resentAfterReset: [['gateway under callgrind', 4]],
  };

  it('reads the gateway against the bare Worker', () => {
    const figures = figuresOf(results);
    expect(figures.instructionsRatio).toBeCloseTo(1_588_000 / 1_783_000, 10);
    expect(figures.perConcurrency).toEqual([
      { concurrency: 8, requestsPerSecondRatio: expect.closeTo(0.9, 10), p50AddedMs: expect.closeTo(0.6, 10), kvReadsPerRequest: 0.5, kvWritesPerRequest: 0 },
    ]);
  });

  it("judges the gateway's streams only, not the bare Worker's", () => {
    expect(figuresOf(results).streams.map((s) => [s.direction, s.growthMiB])).toEqual([
      ['download', 3],
      ['upload', 0.5],
    ]);
    expect(verdictsOf(results).find((v) => v.target.id === 'flat-streaming-memory')?.status).toBe('met');
  });

  it('has no instruction ratio when callgrind was skipped', () => {
    expect(figuresOf({ ...results, instructions: { skipped: 'valgrind is not installed' } }).instructionsRatio).toBeUndefined();
    expect(figuresOf({ ...results, instructions: undefined }).instructionsRatio).toBeUndefined();
  });

  it('renders the tables, the verdicts and the resent requests', () => {
    const report = renderReport(results, verdictsOf(results));
    expect(report).toContain('— quick run');
    expect(report).toContain('| 8 | 9000 | 800 | 700 | 720 | 0.90× (0.80–0.95) |');
    expect(report).toContain('| download, gateway | 67108864 | 200 | 1.0 | 100.0 → 103.0 | 3.0 |');
    expect(report).toContain('| GET /api/4.0/user, 4 at a time | 1588k | 1783k | 0.89× |');
    expect(report).toContain('- ✗ the gateway\'s throughput ≥ 0.9×');
    expect(report).toContain('Requests sent again after the server reset a kept-alive connection: gateway under callgrind: 4.');
  });

  it('keeps the MCP pair out of the main table and gives it a table of its own', () => {
    const { main, mainComparisons, costs } = splitTables(results.measured, results.comparisons);
    expect(main.map((m) => m.id)).toEqual(['direct', 'bare', 'bareLog', 'gateway']);
    // gatewayBearer was not measured here, but its comparison names only main-table targets.
    expect(mainComparisons.map((c) => `${c.of}/${c.to}`)).toEqual(['gateway/bare', 'gateway/bareLog', 'gateway/direct', 'gatewayBearer/bare']);
    expect(costs).toEqual([{ of: 'gatewayMcp', to: 'gatewayModels' }]);
    const report = renderReport(results, []);
    expect(report).toContain('\nGET /api/4.0/user; per concurrency 2 interleaved rounds');
    expect(report.split('\n').find((line) => line.startsWith('| concurrency | direct'))).not.toMatch(/MCP|lookml_models/);
  });

  it('renders the cost table: the baseline first, then CPU added per call and the ratios with their range', () => {
    const lines = costTable(results, { of: 'gatewayMcp', to: 'gatewayModels' });
    expect(lines[0]).toBe('MCP get_models (POST /mcp tools/call get_models) against API lookml_models (GET /api/4.0/lookml_models):');
    expect(lines[2]).toContain('| concurrency | API lookml_models req/s | MCP get_models req/s | (MCP get_models)/(API lookml_models) req/s');
    expect(lines[4]).toBe('| 8 | 700 | 210 | 0.30× (0.30–0.33) | 1.60 / 4.80 | 6.40 / 19.20 | 3.20 | 1.100 / 3.400 | 2.300 (2.000–2.400) | 3.00× (3.00–3.09) | 0.00, 0.00 / 0.25, 0.00 |');
    expect(renderReport(results, [])).toContain(lines[4]);
  });

  it('refuses a cost table for a pair not both measured', () => {
    expect(() => costTable(results, { of: 'gatewayMcp', to: 'elsewhere' })).toThrow(/not both measured/);
  });

  it('says when instructions were skipped', () => {
    const report = renderReport({ ...results, instructions: { skipped: 'valgrind is not installed' } }, []);
    expect(report).toContain('Instructions per request: skipped, valgrind is not installed.');
  });
});

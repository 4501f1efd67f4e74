/**
 * The Deno run's pure steps: rounds into medians, the CPU ratio in the Workers bench's
 * convention (bare/gateway: the throughput the gateway's cost allows), KV operations per
 * request against what the liveness re-check accounts for, and the figures and verdicts
 * the report ends with.
 */
import { describe, expect, it } from 'vitest';
import { DENO_COMPARISONS } from '../../bench/deno.ts';
import { denoFiguresOf, denoVerdictsOf, renderDenoReport, type DenoResults } from '../../bench/deno-report.ts';
import { kvPerRequest, livenessAllowance, LIVENESS_RECHECK_OPERATIONS, summarizeDeno, type DenoRound } from '../../bench/deno-rounds.ts';
import { noKvCounts, type KvCounts } from '../../bench/kv-count.ts';
import { parseOptions } from '../../bench/options.ts';
import { DENO_TARGETS } from '../../bench/targets.ts';

const round = (cpuPerRequestMs: number, rps = 1000, kv?: Partial<KvCounts>): DenoRound => ({
  rps,
  p50: 1,
  p99: 4,
  requests: 2000,
  errors: 0,
  cpuPerRequestMs,
  seconds: 2,
  ...(kv === undefined ? {} : { kv: { ...noKvCounts(), ...kv } }),
});

const rounds = {
  bare: [round(0.2, 2000), round(0.25, 1800), round(0.3, 1500)],
  gateway: [round(0.25, 1500, {}), round(0.25, 1600, { get: 1 }), round(0.4, 1000, {})],
  gatewayBearer: [round(0.3, 1400, { get: 2 }), round(0.3, 1400, {}), round(0.3, 1400, { get: 2, commit: 1 })],
};

describe('summarizeDeno', () => {
  const row = summarizeDeno(8, rounds, DENO_COMPARISONS);

  it('gives the CPU ratio as bare/gateway per round, its median and range', () => {
    // bare/gateway per round: 0.8, 1.0, 0.75.
    expect(row.cpuRatios['gateway/bare']?.median).toBeCloseTo(0.8, 10);
    expect(row.cpuRatios['gateway/bare']?.min).toBeCloseTo(0.75, 10);
    expect(row.cpuRatios['gateway/bare']?.max).toBeCloseTo(1, 10);
    expect(Object.keys(row.cpuRatios)).toEqual(['gateway/bare', 'gatewayBearer/bare']);
  });

  it('gives requests/s ratios as gateway/bare, as the Workers report does', () => {
    // 0.75, 0.889, 0.667.
    expect(row.rpsRatios['gateway/bare']?.median).toBeCloseTo(0.75, 10);
  });

  it('gives medians per server', () => {
    expect(row.medians['bare']?.cpuPerRequestMs).toBe(0.25);
    expect(row.medians['gateway']?.rps).toBe(1500);
  });

  it('counts KV operations only for the servers whose KV is counted', () => {
    expect(Object.keys(row.kv)).toEqual(['gateway', 'gatewayBearer']);
    expect(row.kv['gateway']).toMatchObject({ reads: 1 / 6000, writes: 0, operations: 1 / 6000 });
    expect(row.kv['gatewayBearer']).toMatchObject({ reads: 4 / 6000, writes: 1 / 6000, operations: 5 / 6000 });
  });

  it('refuses a comparison with something not measured', () => {
    expect(() => summarizeDeno(1, { gateway: rounds.gateway }, DENO_COMPARISONS)).toThrow(/cannot compare gateway with bare/);
  });
});

describe('kvPerRequest', () => {
  it('allows what the liveness re-checks make over the rounds, per request', () => {
    // Three rounds of 2 s at concurrency 8: one re-check per request in flight each, at most.
    expect(kvPerRequest(rounds.gateway, 8, 'gateway').allowed).toBeCloseTo((3 * 8 * LIVENESS_RECHECK_OPERATIONS) / 6000, 12);
  });

  it('refuses a round that was not counted, and rounds with no request', () => {
    expect(() => kvPerRequest([round(0.2)], 8, 'gateway at 8')).toThrow(/gateway at 8: a round without KV counts/);
    expect(() => kvPerRequest([{ ...round(0.2, 0, {}), requests: 0 }], 8, 'gateway at 8')).toThrow(/no request answered/);
  });
});

describe('livenessAllowance', () => {
  it('allows one re-check per request in flight at the start, and again every 5 s', () => {
    expect(livenessAllowance(0.5, 1)).toBe(LIVENESS_RECHECK_OPERATIONS);
    expect(livenessAllowance(4.99, 1)).toBe(LIVENESS_RECHECK_OPERATIONS);
    expect(livenessAllowance(5, 1)).toBe(2 * LIVENESS_RECHECK_OPERATIONS);
    expect(livenessAllowance(12, 1)).toBe(3 * LIVENESS_RECHECK_OPERATIONS);
    expect(livenessAllowance(0.5, 32)).toBe(32 * LIVENESS_RECHECK_OPERATIONS);
  });
});

describe('a Deno run judged', () => {
  const options = parseOptions(['--runtime', 'deno', '--quick']);
  if (options === undefined) throw new Error('no options');
  const results = (gatewayRounds: DenoRound[] = rounds.gateway): DenoResults => ({
    startedAt: new Date('2026-01-01T00:00:00Z'),
    machine: { platform: 'linux', arch: 'x64', node: 'v24.0.0', deno: '2.9.6', cores: 2 },
    options,
    measured: [
      { id: 'bare', label: 'bare', countsKv: false },
      { id: 'gateway', label: 'gateway', countsKv: true },
      { id: 'gatewayBearer', label: 'gateway (bearer)', countsKv: true },
    ],
    comparisons: DENO_COMPARISONS,
    rows: [summarizeDeno(8, { ...rounds, gateway: gatewayRounds }, DENO_COMPARISONS)],
    streams: [
      { id: 'bare', label: 'bare', direction: 'upload', bytes: 64 * 2 ** 20, status: 200, seconds: 1, baselineMiB: 50, peakMiB: 150, growthMiB: 100 },
      { id: 'gateway', label: 'gateway', direction: 'download', bytes: 64 * 2 ** 20, status: 200, seconds: 1, baselineMiB: 80, peakMiB: 81, growthMiB: 1 },
    ],
    resentAfterReset: [],
  });

  it('reads the gateway against the bare server, the worse KV figure of the two gateways, and the gateway streams only', () => {
    const figures = denoFiguresOf(results());
    expect(figures.instructionsRatio).toBeUndefined();
    expect(figures.perConcurrency).toEqual([
      {
        concurrency: 8,
        cpuRatio: expect.closeTo(0.8, 10),
        requestsPerSecondRatio: expect.closeTo(0.75, 10),
        kvOperationsPerRequest: 5 / 6000,
        kvOperationsAllowedPerRequest: (3 * 8 * LIVENESS_RECHECK_OPERATIONS) / 6000,
      },
    ]);
    expect(figures.streams.map((s) => s.direction)).toEqual(['download']);
  });

  it('judges by DENO_TARGETS: the CPU ratio, memory, and KV beyond the liveness re-checks', () => {
    const verdicts = denoVerdictsOf(results());
    expect(verdicts.map((v) => v.target.id)).toEqual(DENO_TARGETS.map((t) => t.id));
    expect(verdicts.map((v) => [v.target.id, v.status])).toEqual([
      ['throughput', 'not met'],
      ['flat-streaming-memory', 'met'],
      ['kv-operations', 'met'],
    ]);
  });

  it('fails the KV target when the operations come with the requests', () => {
    // One read for every third request: far more than the re-checks at concurrency 8 account for.
    const perRequest = [round(0.25, 1500, { get: 2000 }), round(0.25, 1500, {}), round(0.25, 1500, {})];
    expect(denoVerdictsOf(results(perRequest)).find((v) => v.target.id === 'kv-operations')?.status).toBe('not met');
  });

  it('meets the throughput target at 0.9× bare/gateway and not below', () => {
    const at = (gatewayCpu: number) => denoVerdictsOf(results(rounds.bare.map((r) => ({ ...round(r.cpuPerRequestMs / gatewayCpu, 1000, {}) })))).find((v) => v.target.id === 'throughput')?.status;
    expect(at(0.9)).toBe('met');
    expect(at(0.89)).toBe('not met');
  });

  it('renders a report with the ratio as bare/gateway and each verdict', () => {
    const report = renderDenoReport(results(), denoVerdictsOf(results()));
    expect(report).toContain('Deno 2.9.6');
    expect(report).toContain('bare/gateway CPU/req (median, and range of rounds)');
    expect(report).toContain('0.80× (0.75–1.00)');
    expect(report).toContain('| upload, bare | 67108864 | 200 |');
    for (const target of DENO_TARGETS) expect(report).toContain(target.sentence);
  });
});

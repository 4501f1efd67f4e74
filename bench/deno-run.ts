/**
 * `npm run bench -- --runtime deno`: in one run, against the Looker simulator in its own
 * Node process, the gateway on `deno serve` (reached with a browser's session cookie and
 * with a script's bearer token) and a bare Deno pass-through (deno.ts): server CPU time and
 * KV operations per request in interleaved rounds (deno-rounds.ts), then the Deno
 * server's memory while a large download and upload stream through it (memory.ts). The
 * report goes to bench-out/deno-results.md and .json, the servers' output to bench-out/deno/.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DENO_COMPARISONS, denoOrFail, MEASURED_DENO, startDenoServer, type DenoSetup, type RunningDenoServer } from './deno.ts';
import { renderDenoReport, denoVerdictsOf, type DenoResults } from './deno-report.ts';
import { measureDenoRounds, type DenoTarget } from './deno-rounds.ts';
import { createClient } from './load.ts';
import { emptyDir, freePort, originOf } from './local.ts';
import { measureStreams } from './memory.ts';
import type { BenchOptions } from './options.ts';
import { accessToken, startSimulator, TOKEN_REDIRECT_URI } from './simulator.ts';

const CLIENT_ID = 'bench-client';

export async function runDeno(root: string, out: string, options: BenchOptions): Promise<void> {
  const deno = denoOrFail();
  const denoVersion = /^deno (\S+)/.exec(spawnSync(deno, ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 'unknown';
  const dir = emptyDir(join(out, 'deno'));
  const ports = { bare: await freePort(), gateway: await freePort() };
  const sim = await startSimulator({ root, port: await freePort(), clientId: CLIENT_ID, redirectUris: [`${originOf(ports.gateway)}/callback`, TOKEN_REDIRECT_URI] });
  const client = createClient();
  const servers: RunningDenoServer[] = [];
  try {
    const setup: DenoSetup = { root, simulator: sim.origin, clientId: CLIENT_ID, token: await accessToken(sim.origin, CLIENT_ID), dir };
    console.log('Starting deno serve: the bare pass-through and the gateway (with counted Deno KV)…');
    const running = new Map<string, RunningDenoServer>();
    for (const kind of ['bare', 'gateway'] as const) {
      const server = await startDenoServer(kind, setup, ports[kind]);
      servers.push(server);
      running.set(kind, server);
    }
    const targets: Array<DenoTarget & { streamed: boolean }> = [];
    for (const measured of MEASURED_DENO) {
      const server = running.get(measured.server);
      if (server === undefined) throw new Error(`the ${measured.server} server did not start`);
      targets.push({
        id: measured.id,
        label: measured.label,
        url: `${server.origin}/api/4.0/user`,
        headers: await measured.clientHeaders(server.origin),
        pid: server.pid,
        kvCounts: measured.countsKv ? server.kvCounts : undefined,
        streamed: measured.streamed,
      });
    }

    const rows = await measureDenoRounds(client, targets, DENO_COMPARISONS, options);
    const streamed = targets.filter((t) => t.streamed).map((t) => ({ ...t, origin: new URL(t.url).origin }));
    const streams = await measureStreams(client, streamed, { download: options.downloadBytes, upload: options.uploadBytes });

    const names = new Map(targets.map((t) => [new URL(t.url).origin, t.label]));
    const results: DenoResults = {
      startedAt: new Date(),
      machine: { platform: process.platform, arch: process.arch, node: process.version, deno: denoVersion, cores: cpus().length },
      options,
      measured: MEASURED_DENO.map((m) => ({ id: m.id, label: m.label, countsKv: m.countsKv })),
      comparisons: DENO_COMPARISONS,
      rows,
      streams,
      resentAfterReset: [...client.resentAfterReset].map(([origin, n]) => [names.get(origin) ?? origin, n]),
    };
    const verdicts = denoVerdictsOf(results);
    const report = renderDenoReport(results, verdicts);
    console.log(`\n${report}\n`);
    writeFileSync(join(out, 'deno-results.md'), `${report}\n`);
    const judged = verdicts.map((v) => ({ id: v.target.id, status: v.status, readings: v.readings }));
    writeFileSync(join(out, 'deno-results.json'), JSON.stringify({ ...results, verdicts: judged }, null, 2));
    console.log('Written to bench-out/deno-results.md and bench-out/deno-results.json');
  } finally {
    for (const server of servers) await server.stop();
    sim.stop();
    client.destroy();
  }
}

#!/usr/bin/env node
// npm run bench [-- --quick] [-- --duration 2 --rounds 3 --concurrency 1,8,32 --download-mib 1024 --upload-mib 256 --instructions]
// npm run bench -- --runtime deno [--quick] [--requests 2000 --rounds 3 …]: the gateway on Deno, see deno-run.ts
//
// The rest of this file is the Workers run (the default, --runtime workers).
// In one run, on this machine, against the Looker simulator (its own Node process):
//   direct       GET simulator /api/4.0/user with a bearer token
//   the Workers  of workers.ts: a bare pass-through Worker (the platform floor), the same
//                with one log line per request, and the real gateway bundle with a session
//                and with a script's bearer token; and the MCP pair, an agent's tools/call
//                of get_models at /mcp against the same Looker call through /api/*
// Workers are served by Miniflare/workerd directly: `wrangler dev`'s proxy caps even a
// static Worker at a few hundred requests/s, which would measure the dev server instead.
// The report (bench-out/results.md) gives requests/s, p50/p99 latency, the ratios,
// workerd CPU and KV operations per request (and the CPU an MCP call adds over the same
// Looker call through /api/*), workerd's memory while streaming a large
// download and upload, with --instructions workerd instructions per request under
// callgrind, and ends with each target of targets.ts marked met or not.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countInstructions, type Instructions } from './callgrind.ts';
import { runDeno } from './deno-run.ts';
import { createClient, type LoadClient } from './load.ts';
import { emptyDir, freePort, originOf, portOf } from './local.ts';
import { measureStreams, type Streamed } from './memory.ts';
import { OptionsError, parseOptions, USAGE, type BenchOptions } from './options.ts';
import { renderReport, verdictsOf, type BenchResults } from './report.ts';
import { requestLogReader } from './request-log.ts';
import { accessToken, startSimulator, TOKEN_REDIRECT_URI } from './simulator.ts';
import { measureThroughput, type Measured } from './throughput.ts';
import { launchWorker, type RunningWorker } from './workerd.ts';
import { buildGateway, COMPARISONS, compatibilityDate, DIRECT, MEASURED_WORKERS, USER, type MeasuredWorker, type RunSetup } from './workers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'bench-out');
const CLIENT_ID = 'bench-client';

async function runWorkers(options: BenchOptions): Promise<void> {
  process.chdir(root);
  console.log('Building the gateway bundle (wrangler deploy --dry-run)…');
  const bundle = buildGateway(root, join(OUT, 'gateway'));
  const counted = options.instructions ? MEASURED_WORKERS.filter((w) => w.underCallgrind) : [];
  const ports = await choosePorts(counted);
  const sim = await startSimulator({ root, port: await freePort(), clientId: CLIENT_ID, redirectUris: [...ports.callbacks, TOKEN_REDIRECT_URI] });
  const client = createClient();
  const running: RunningWorker[] = [];
  try {
    const setup: RunSetup = {
      simulator: sim.origin,
      clientId: CLIENT_ID,
      token: await accessToken(sim.origin, CLIENT_ID),
      compatibilityDate: compatibilityDate(root),
      gatewayBundle: bundle.path,
    };
    const direct: Measured = { id: DIRECT, label: 'direct', what: USER.what, url: `${sim.origin}/api/4.0/user`, headers: { authorization: `Bearer ${setup.token}` }, pid: sim.pid };
    const measured = [direct, ...(await startWorkers(setup, ports.measured, running))];
    for (const target of measured) await answersOnce(client, target);

    const throughput = await measureThroughput(client, measured, COMPARISONS, options);
    const streams = await measureStreams(client, streamedOf(measured), { download: options.downloadBytes, upload: options.uploadBytes });
    let instructions: Instructions | undefined;
    if (options.instructions) {
      console.log('Counting instructions per request under callgrind…');
      const workers = counted.map((worker) => ({ worker, port: portOf(ports.callgrind, worker.id) }));
      instructions = await countInstructions(client, workers, setup, join(OUT, 'callgrind'), { requestsPerRound: options.instructionRequests, rounds: options.instructionRounds });
    }

    // Names for the origins a request may have been resent to.
    const names = new Map(measured.map((m) => [new URL(m.url).origin, m.label]));
    for (const worker of counted) names.set(originOf(portOf(ports.callgrind, worker.id)), `${worker.label} under callgrind`);
    writeReport({
      startedAt: new Date(),
      machine: { platform: process.platform, arch: process.arch, node: process.version, cores: cpus().length },
      options,
      bundleBytes: bundle.bytes,
      measured: measured.map((m) => {
        const worker = MEASURED_WORKERS.find((w) => w.id === m.id);
        return { id: m.id, label: m.label, what: m.what, isWorker: worker !== undefined, countsKv: worker?.countsKv ?? false };
      }),
      comparisons: COMPARISONS,
      throughput,
      streams,
      instructions,
      resentAfterReset: [...client.resentAfterReset].map(([origin, n]) => [names.get(origin) ?? origin, n]),
    });
  } finally {
    for (const worker of running) await worker.dispose();
    sim.stop();
    client.destroy();
  }
}

/**
 * A port for each measured Worker and each one counted under callgrind, chosen before
 * the simulator starts: it must know every gateway's callback URL.
 */
async function choosePorts(counted: readonly MeasuredWorker[]) {
  const measured = new Map<string, number>();
  const callgrind = new Map<string, number>();
  for (const worker of MEASURED_WORKERS) measured.set(worker.id, await freePort());
  for (const worker of counted) callgrind.set(worker.id, await freePort());
  const callbacks = [...measured.values(), ...callgrind.values()].map((port) => `${originOf(port)}/callback`);
  return { measured, callgrind, callbacks };
}

/** Each measured Worker in its own workerd, its output in bench-out/logs; signed in where it must be. */
async function startWorkers(setup: RunSetup, ports: ReadonlyMap<string, number>, running: RunningWorker[]): Promise<Measured[]> {
  const logDir = emptyDir(join(OUT, 'logs'));
  const measured: Measured[] = [];
  for (const worker of MEASURED_WORKERS) {
    const port = portOf(ports, worker.id);
    const started = await launchWorker(worker.define(setup, originOf(port)), port, { dir: logDir, name: worker.id });
    running.push(started);
    const { path, ...request } = await worker.client(started.origin);
    measured.push({
      id: worker.id,
      label: worker.label,
      what: worker.request.what,
      url: `${started.origin}${path}`,
      ...request,
      pid: started.pid,
      requestLog: worker.countsKv ? { read: requestLogReader(started.logFile), route: worker.request.route, file: started.logFile } : undefined,
    });
  }
  return measured;
}

/** One request before any is measured, which must succeed: a run never measures refusals or errors. */
async function answersOnce(client: LoadClient, target: Measured): Promise<void> {
  const answer = await client.send(target);
  if (!answer.ok) throw new Error(`${target.label} (${target.what}) answered ${answer.status}${answer.status === 200 ? ' with an error in its body' : ''} before the run`);
}

function streamedOf(measured: readonly Measured[]): Streamed[] {
  const streamed = new Set(MEASURED_WORKERS.filter((w) => w.streamed).map((w) => w.id));
  return measured.filter((m) => streamed.has(m.id)).map((m) => ({ ...m, origin: new URL(m.url).origin }));
}

function writeReport(results: BenchResults): void {
  const verdicts = verdictsOf(results);
  const report = renderReport(results, verdicts);
  console.log(`\n${report}\n`);
  writeFileSync(join(OUT, 'results.md'), `${report}\n`);
  const judged = verdicts.map((v) => ({ id: v.target.id, status: v.status, readings: v.readings }));
  writeFileSync(join(OUT, 'results.json'), JSON.stringify({ ...results, verdicts: judged }, null, 2));
  console.log('Written to bench-out/results.md and bench-out/results.json');
}

let options: BenchOptions | undefined;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof OptionsError)) throw error;
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options === undefined) {
  console.log(USAGE);
  process.exit(0);
}
try {
  if (options.runtime === 'deno') {
    process.chdir(root);
    await runDeno(root, OUT, options);
  } else {
    await runWorkers(options);
  }
  // Miniflare can leave handles open after dispose; the report is written, so leave now.
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}

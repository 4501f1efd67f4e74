#!/usr/bin/env node
// npm run bench [-- --quick] [-- --duration 2 --rounds 3 --concurrency 1,8,32 --download-mib 1024 --upload-mib 256 --instructions]
//
// In one run, on this machine, against the Looker simulator (its own Node process):
//   direct       GET simulator /api/4.0/user with a bearer token
//   the Workers  of workers.ts: a bare pass-through Worker (the platform floor), the same
//                with one log line per request, and the real gateway bundle with a session
// Workers are served by Miniflare/workerd directly: `wrangler dev`'s proxy caps even a
// static Worker at a few hundred requests/s, which would measure the dev server instead.
// The report (bench-out/results.md) gives requests/s, p50/p99 latency, the ratios,
// workerd CPU and KV operations per request, workerd's memory while streaming a large
// download and upload, with --instructions workerd instructions per request under
// callgrind, and ends with each target of targets.ts marked met or not.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countInstructions } from './callgrind.ts';
import { createClient } from './load.ts';
import { measureStreams } from './memory.ts';
import { OptionsError, parseOptions, USAGE, type BenchOptions } from './options.ts';
import { renderReport, verdictsOf, type BenchResults } from './report.ts';
import { requestLogReader } from './request-log.ts';
import { accessToken, startSimulator, TOKEN_REDIRECT_URI } from './simulator.ts';
import { measureThroughput, type Measured } from './throughput.ts';
import { launchWorker, type RunningWorker } from './workerd.ts';
import { buildGateway, COMPARISONS, compatibilityDate, DIRECT, MEASURED_WORKERS, type RunSetup } from './workers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'bench-out');
const CLIENT_ID = 'bench-client';

async function main(options: BenchOptions): Promise<void> {
  process.chdir(root);
  console.log('Building the gateway bundle (wrangler deploy --dry-run)…');
  const bundle = buildGateway(root, join(OUT, 'gateway'));

  // Every port is chosen before the simulator starts: it must know each gateway's callback.
  const callgrindWorkers = options.instructions ? MEASURED_WORKERS.filter((w) => w.underCallgrind) : [];
  const ports = new Map<string, number>();
  for (const worker of MEASURED_WORKERS) ports.set(worker.id, await freePort());
  for (const worker of callgrindWorkers) ports.set(`${worker.id} under callgrind`, await freePort());
  const sim = await startSimulator({
    root,
    port: await freePort(),
    clientId: CLIENT_ID,
    redirectUris: [...[...ports.values()].map((port) => `http://127.0.0.1:${port}/callback`), TOKEN_REDIRECT_URI],
  });
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
    const names = new Map<string, string>([[sim.origin, 'direct']]);

    // What load goes to: the simulator directly, then each Worker in its own workerd.
    const measured: Measured[] = [{ id: DIRECT, label: 'direct', url: `${sim.origin}/api/4.0/user`, headers: { authorization: `Bearer ${setup.token}` }, pid: sim.pid }];
    const logDir = emptyDir(join(OUT, 'logs'));
    for (const worker of MEASURED_WORKERS) {
      const port = ports.get(worker.id) ?? (await freePort());
      const origin = `http://127.0.0.1:${port}`;
      const started = await launchWorker(worker.define(setup, origin), port, { dir: logDir, name: worker.id });
      running.push(started);
      names.set(origin, worker.label);
      measured.push({
        id: worker.id,
        label: worker.label,
        url: `${origin}/api/4.0/user`,
        headers: await worker.clientHeaders(origin),
        pid: started.pid,
        requestLog: worker.countsKv ? requestLogReader(started.logFile) : undefined,
        logFile: started.logFile,
      });
    }

    const throughput = await measureThroughput(client, measured, COMPARISONS, options);

    const streamed = MEASURED_WORKERS.filter((w) => w.streamed).flatMap((w) => {
      const m = measured.find((x) => x.id === w.id);
      return m === undefined ? [] : [{ ...m, origin: new URL(m.url).origin }];
    });
    const streams = await measureStreams(client, streamed, { download: options.downloadBytes, upload: options.uploadBytes });

    let instructions;
    if (options.instructions) {
      console.log('Counting instructions per request under callgrind…');
      const counted = callgrindWorkers.map((worker) => ({ worker, port: ports.get(`${worker.id} under callgrind`) ?? 0 }));
      for (const { worker, port } of counted) names.set(`http://127.0.0.1:${port}`, `${worker.label} under callgrind`);
      instructions = await countInstructions(client, counted, setup, join(OUT, 'callgrind'), {
        requestsPerRound: options.instructionRequests,
        rounds: options.instructionRounds,
      });
    }

    const results: BenchResults = {
      startedAt: new Date(),
      machine: { platform: process.platform, arch: process.arch, node: process.version, cores: cpus().length },
      options,
      bundleBytes: bundle.bytes,
      measured: measured.map((m) => {
        const worker = MEASURED_WORKERS.find((w) => w.id === m.id);
        return { id: m.id, label: m.label, isWorker: worker !== undefined, countsKv: worker?.countsKv ?? false };
      }),
      comparisons: COMPARISONS,
      throughput,
      streams,
      instructions,
      resentAfterReset: [...client.resentAfterReset].map(([origin, n]) => [names.get(origin) ?? origin, n]),
    };
    const verdicts = verdictsOf(results);
    const report = renderReport(results, verdicts);
    console.log(`\n${report}\n`);
    writeFileSync(join(OUT, 'results.md'), `${report}\n`);
    const judged = verdicts.map((v) => ({ id: v.target.id, status: v.status, readings: v.readings }));
    writeFileSync(join(OUT, 'results.json'), JSON.stringify({ ...results, verdicts: judged }, null, 2));
    console.log('Written to bench-out/results.md and bench-out/results.json');
  } finally {
    for (const worker of running) await worker.dispose();
    sim.stop();
    client.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo; // a TCP listener's address is always an AddressInfo
      server.close(() => resolve(port));
    });
  });
}

function emptyDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
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
  await main(options);
  // Miniflare can leave handles open after dispose; the report is written, so leave now.
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}

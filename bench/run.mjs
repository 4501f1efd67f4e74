#!/usr/bin/env node
// npm run bench [-- --duration 3 --concurrency 1,8,32 --download-mib 1024 --upload-mib 256 --instructions]
//
// In one run, on this machine, against the Looker simulator (its own Node process):
//   (1) direct      GET simulator /api/4.0/user with a bearer token
//   (2) bare        a pass-through Worker with no auth (the platform floor), same runtime
//   (3) gateway     the real gateway bundle (`wrangler deploy --dry-run`) with a session
// Workers are served by Miniflare/workerd directly: `wrangler dev`'s proxy caps even a
// static Worker at a few hundred requests/s, which would measure the dev server instead.
// Reports requests/s, p50/p99 latency, the ratios (3)/(2) and (3)/(1), KV reads and
// writes per gateway request (from its request log), and the workerd process's memory
// while streaming a large download and upload through the gateway; then each of #3's
// targets, marked met or not against those figures.
//
// With --instructions (needs valgrind), bare and gateway also run under callgrind and the
// report gives workerd's instructions per request: on a shared or virtual machine the
// requests/s figures move by 15% or more from run to run, instruction counts by a few percent,
// and workerd runs a Worker on one thread, so their ratio is the throughput ratio the
// runtime itself allows.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// Miniflare 5 takes a new options shape; the v4 (wrangler-like) shape converts to it.
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { requireModernNode } from '../scripts/lib/node-version.mjs';

requireModernNode();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,8,32' },
    'download-mib': { type: 'string', default: '1024' },
    'upload-mib': { type: 'string', default: '256' },
    instructions: { type: 'boolean', default: false },
    'instruction-requests': { type: 'string', default: '1000' },
    'instruction-rounds': { type: 'string', default: '3' },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const ROUNDS = Number(args.rounds);
const WARMUP_MS = Number(args.warmup) * 1000;
const CONCURRENCIES = args.concurrency.split(',').map(Number);
const DOWNLOAD_BYTES = Number(args['download-mib']) * 1024 * 1024;
const UPLOAD_BYTES = Number(args['upload-mib']) * 1024 * 1024;
const CLIENT_ID = 'bench-client';
const COMPATIBILITY_DATE = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync('wrangler.toml', 'utf8'))[1];

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function workerdPids() {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('workerd') && cmd.includes('serve')) pids.push(Number(entry));
    } catch {
      // process ended
    }
  }
  return pids;
}

/** CPU time (user + system) a process has used, in milliseconds. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100/s)
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

// Miniflare pipes workerd's output into this process and parses every line. With a log
// line per gateway request, that parsing would run in the load generator's own process,
// slowing it down for the gateway alone. So each Worker measured for throughput writes its
// output to a file instead, as a production log pipeline takes lines off the machine;
// the gateway's KV counts are read back from its file.
const LOG_DIR = join(root, 'bench-out/logs');
rmSync(LOG_DIR, { recursive: true, force: true });
mkdirSync(LOG_DIR, { recursive: true });

async function withOutputToFile(name, start) {
  const file = join(LOG_DIR, `${name}.log`);
  const launch = `exec "${workerdBinary()}" "$@" >>"${file}"`;
  return { ...(await withWorkerdLaunchedBy(join(LOG_DIR, `workerd-${name}.sh`), launch, {}, start)), logFile: file };
}

/**
 * Runs `start` (which starts Miniflare) with workerd launched by a shell script holding
 * `launch`, and with `env` set while Miniflare reads it; both are undone afterwards.
 */
async function withWorkerdLaunchedBy(script, launch, env, start) {
  writeFileSync(script, `#!/bin/sh\n${launch}\n`);
  chmodSync(script, 0o755);
  const settings = { MINIFLARE_WORKERD_PATH: script, ...env };
  const previous = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  try {
    return await start();
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The gateway's `request` log lines written to `file` since the last call. */
function requestLogReader(file) {
  let offset = 0;
  return () => {
    const text = readFileSync(file);
    const end = text.lastIndexOf(0x0a) + 1; // complete lines only
    const fresh = text.subarray(Math.min(offset, end), end).toString('utf8');
    offset = Math.max(offset, end);
    const lines = [];
    for (const raw of fresh.split('\n')) {
      if (raw === '') continue;
      let message = raw;
      try {
        const entry = JSON.parse(raw); // workerd's structured log: { timestamp, level, message }
        if (typeof entry.message === 'string') message = entry.message;
      } catch {
        continue;
      }
      if (message.includes('"event":"request"')) lines.push(JSON.parse(message));
    }
    return lines;
  };
}

// ── the pieces ────────────────────────────────────────────────────────────────

console.log('Building the gateway bundle (wrangler deploy --dry-run)…');
const build = spawnSync(
  process.execPath,
  [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', 'bench-out/gateway'],
  { encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);
if (build.status !== 0) {
  console.error(build.stdout, build.stderr);
  process.exit(1);
}
const bundleSize = readFileSync('bench-out/gateway/index.js').length;

const simPort = await freePort();
const gatewayPort = await freePort();
const barePort = await freePort();
const countedGatewayPort = await freePort();
const countedBarePort = await freePort();
const SIM = `http://127.0.0.1:${simPort}`;
const GATEWAY = `http://127.0.0.1:${gatewayPort}`;
const BARE = `http://127.0.0.1:${barePort}`;

const sim = spawn(
  process.execPath,
  ['scripts/sim.mjs', '--port', String(simPort), '--auto-approve', '--client-id', CLIENT_ID, '--redirect-uri', `${GATEWAY}/callback`, '--redirect-uri', `http://127.0.0.1:${countedGatewayPort}/callback`, '--redirect-uri', 'http://bench.invalid/callback', '--access-token-ttl', '86400'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
process.on('exit', () => sim.kill());
await new Promise((resolve) => sim.stdout.once('data', resolve));

async function startGateway(port, handleStructuredLogs) {
  const before = new Set(workerdPids());
  const mf = new Miniflare(convertV4MiniflareOptions({
  workers: [
    {
      name: 'gateway',
      modules: true,
      scriptPath: 'bench-out/gateway/index.js',
      compatibilityDate: COMPATIBILITY_DATE,
      kvNamespaces: ['SESSIONS'],
      durableObjects: { REFRESH_COORDINATOR: { className: 'RefreshCoordinatorObject', useSQLite: true } },
      bindings: {
        LOOKER_URL: SIM,
        LOOKER_CLIENT_ID: CLIENT_ID,
        SESSION_SECRET: randomBytes(32).toString('base64'),
        GATEWAY_URL: `http://127.0.0.1:${port}`,
      },
    },
  ],
  host: '127.0.0.1',
  port,
  cf: false,
  handleStructuredLogs,
  }));
  await mf.ready;
  return { mf, pid: workerdPids().find((pid) => !before.has(pid)) };
}
const { mf: gateway, pid: gatewayPid, logFile: gatewayLogFile } = await withOutputToFile('gateway', () => startGateway(gatewayPort, () => {}));
const readGatewayRequestLog = requestLogReader(gatewayLogFile);

// A token for the direct and bare runs, by the same PKCE flow over HTTP.
async function accessToken() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const auth = new URL(`${SIM}/auth`);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: 'http://bench.invalid/callback', scope: 'cors_api', state: 's', code_challenge: challenge, code_challenge_method: 'S256' })) auth.searchParams.set(k, v);
  const code = new URL((await fetch(auth, { redirect: 'manual' })).headers.get('location')).searchParams.get('code');
  const token = await fetch(`${SIM}/api/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: CLIENT_ID, redirect_uri: 'http://bench.invalid/callback' }),
  });
  return (await token.json()).access_token;
}
const TOKEN = await accessToken();

const BARE_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = await fetch(env.UPSTREAM + url.pathname + url.search, {
      method: request.method,
      headers: { authorization: 'Bearer ' + env.TOKEN, accept: request.headers.get('accept') ?? '*/*' },
      body: request.body,
      redirect: 'manual',
    });
    // The "bare + log" variant writes one request log line like the gateway's, to show
    // what a log line per request costs on this runtime by itself.
    if (env.LOG === '1') {
      console.log(JSON.stringify({ level: 'info', event: 'request', requestId: crypto.randomUUID(), method: request.method, route: '/api/*', status: upstream.status, durationMs: 0 }));
    }
    return new Response(upstream.body, upstream);
  },
};`;
async function startBare(port, log) {
  const before = new Set(workerdPids());
  const mf = new Miniflare(convertV4MiniflareOptions({
    workers: [{ name: 'bare', modules: true, script: BARE_WORKER, compatibilityDate: COMPATIBILITY_DATE, bindings: { UPSTREAM: SIM, TOKEN, LOG: log ? '1' : '0' } }],
    host: '127.0.0.1',
    port,
    cf: false,
    // Structured logging on, as for the gateway, so log lines take the same path out of workerd.
    handleStructuredLogs: () => {},
  }));
  await mf.ready;
  return { mf, pid: workerdPids().find((pid) => !before.has(pid)) };
}
const { mf: bare, pid: barePid } = await withOutputToFile('bare', () => startBare(barePort, false));
const bareLogPort = await freePort();
const BARE_LOG = `http://127.0.0.1:${bareLogPort}`;
const { mf: bareLog, pid: bareLogPid } = await withOutputToFile('bare-log', () => startBare(bareLogPort, true));

// Sign in to the gateway like a browser would.
async function signIn(gatewayUrl) {
  const login = await fetch(`${gatewayUrl}/login`, { redirect: 'manual' });
  const loginCookie = login.headers.getSetCookie()[0].split(';')[0];
  const approved = await fetch(login.headers.get('location'), { redirect: 'manual' });
  const callback = await fetch(approved.headers.get('location'), { redirect: 'manual', headers: { cookie: loginCookie } });
  const session = callback.headers.getSetCookie().find((c) => c.startsWith('__Host-lgw_session='));
  if (callback.status !== 303 || session === undefined) throw new Error(`sign-in failed: ${callback.status}`);
  return session.split(';')[0];
}
const SESSION_COOKIE = await signIn(GATEWAY);

// ── load ──────────────────────────────────────────────────────────────────────

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function getOnce(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Per URL: requests sent again after a connection reset (reported, so a retry hides nothing). */
const resentAfterReset = new Map();

/**
 * A GET, sent again once if the kept-alive socket it went out on was closed by the server
 * at that moment (what browsers do too). Seen only under callgrind, where everything is
 * ~50× slower and workerd's idle-connection timeout can meet a reused socket.
 */
async function get(url, headers) {
  try {
    return await getOnce(url, headers);
  } catch (error) {
    if (error?.code !== 'ECONNRESET') throw error;
    const origin = new URL(url).origin;
    resentAfterReset.set(origin, (resentAfterReset.get(origin) ?? 0) + 1);
    return getOnce(url, headers);
  }
}

async function load(url, headers, concurrency, pid, warm = true) {
  const latencies = [];
  let errors = 0;
  const run = async (until, record) => {
    while (performance.now() < until) {
      const start = process.hrtime.bigint();
      const status = await get(url, headers);
      const micros = Number(process.hrtime.bigint() - start) / 1000;
      if (record) {
        if (status === 200) latencies.push(micros);
        else errors++;
      }
    }
  };
  const warmUntil = performance.now() + (warm ? WARMUP_MS : 0);
  await Promise.all(Array.from({ length: concurrency }, () => run(warmUntil, false)));
  const started = performance.now();
  const cpuBefore = cpuMs(pid);
  const until = started + DURATION_MS;
  await Promise.all(Array.from({ length: concurrency }, () => run(until, true)));
  const cpuPerRequestMs = (cpuMs(pid) - cpuBefore) / Math.max(1, latencies.length + errors);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] / 1000;
  return { rps: latencies.length / seconds, p50: pct(50), p99: pct(99), requests: latencies.length, errors, cpuPerRequestMs };
}

const targets = [
  ['direct', `${SIM}/api/4.0/user`, { authorization: `Bearer ${TOKEN}` }, sim.pid],
  ['bare', `${BARE}/api/4.0/user`, {}, barePid],
  ['bareLog', `${BARE_LOG}/api/4.0/user`, {}, bareLogPid],
  ['gateway', `${GATEWAY}/api/4.0/user`, { cookie: SESSION_COOKIE }, gatewayPid],
];

// Rounds interleave the three targets so that drift on a shared machine (other load,
// CPU frequency, JIT warm-up) falls on all of them alike; each figure is the median.
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const throughput = [];
for (const concurrency of CONCURRENCIES) {
  const rounds = { direct: [], bare: [], bareLog: [], gateway: [] };
  const kv = { reads: 0, writes: 0, lines: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url, headers, pid] of targets) {
      if (name === 'gateway') readGatewayRequestLog(); // skip what came before this round
      const result = await load(url, headers, concurrency, pid, round === 0);
      if (result.errors > 0) console.warn(`${name} at c=${concurrency}: ${result.errors} non-200 answers`);
      rounds[name].push(result);
      if (name === 'gateway') {
        for (const line of readGatewayRequestLog().filter((l) => l.route === '/api/*')) {
          kv.reads += line.kvReads ?? 0;
          kv.writes += line.kvWrites ?? 0;
          kv.lines++;
        }
      }
    }
  }
  const row = { concurrency, rounds };
  for (const name of Object.keys(rounds)) {
    const runs = rounds[name];
    row[name] = {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuPerRequestMs: median(runs.map((r) => r.cpuPerRequestMs)),
    };
  }
  const perRoundToBare = rounds.gateway.map((g, i) => g.rps / rounds.bare[i].rps);
  row.ratioToBare = median(perRoundToBare);
  // The spread shows how far one round can be trusted on a shared machine.
  row.ratioToBareRange = [Math.min(...perRoundToBare), Math.max(...perRoundToBare)];
  row.ratioToDirect = median(rounds.gateway.map((g, i) => g.rps / rounds.direct[i].rps));
  row.ratioToBareLog = median(rounds.gateway.map((g, i) => g.rps / rounds.bareLog[i].rps));
  row.p50AddedMs = row.gateway.p50 - row.bare.p50;
  // No lines would read as "0 KV operations": refuse to report that.
  if (kv.lines === 0) throw new Error(`no request log lines from the gateway at c=${concurrency} (${gatewayLogFile}): cannot count KV operations`);
  row.kvReadsPerRequest = kv.reads / kv.lines;
  row.kvWritesPerRequest = kv.writes / kv.lines;
  throughput.push(row);
  console.log(`c=${concurrency} done`);
}

// ── memory while streaming ────────────────────────────────────────────────────

async function sampleWhile(pid, work) {
  const baseline = rssMiB(pid);
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 20);
  const started = performance.now();
  const result = await work();
  clearInterval(timer);
  peak = Math.max(peak, rssMiB(pid));
  return { baselineMiB: baseline, peakMiB: peak, growthMiB: peak - baseline, seconds: (performance.now() - started) / 1000, ...result };
}

function download(url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function upload(url, headers, total) {
  const chunk = Buffer.alloc(64 * 1024, 97);
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, bytes: JSON.parse(text).bytes }));
    });
    req.on('error', reject);
    body.pipe(req);
  });
}

const memory = {
  'download, bare worker': await sampleWhile(barePid, () => download(`${BARE}/api/4.0/download?bytes=${DOWNLOAD_BYTES}`, {})),
  'download, gateway': await sampleWhile(gatewayPid, () => download(`${GATEWAY}/api/4.0/download?bytes=${DOWNLOAD_BYTES}`, { cookie: SESSION_COOKIE })),
  'upload, bare worker': await sampleWhile(barePid, () => upload(`${BARE}/api/4.0/upload`, {}, UPLOAD_BYTES)),
  'upload, gateway': await sampleWhile(gatewayPid, () => upload(`${GATEWAY}/api/4.0/upload`, { cookie: SESSION_COOKIE }, UPLOAD_BYTES)),
};

// ── instructions per request (callgrind) ─────────────────────────────────────

/**
 * Bare and gateway again, each in a workerd under callgrind. After a warm-up (so the JIT
 * has settled), rounds interleave the two: zero the counters, send N requests, dump; the
 * figure per target is its lowest round (timer and GC work shift a few percent between
 * rounds, never below the real cost).
 *
 * V8 compiles hot code on background threads, and valgrind runs one thread at a time, so
 * under callgrind the compiler threads starve and JavaScript can still be interpreted
 * after the warm-up — a Worker with more JavaScript then measures worse (or, by luck,
 * better) than it runs. These workerds compile on the main thread instead, during the
 * warm-up, so the rounds count the steady state of both Workers.
 */
const SYNCHRONOUS_JIT = '--no-concurrent-recompilation --no-concurrent-sparkplug --no-concurrent-osr';

async function countInstructions() {
  const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (valgrind.status !== 0) return { skipped: 'valgrind is not installed (apt-get install valgrind)' };
  const dir = join(root, 'bench-out/callgrind');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const underCallgrind = (start) =>
    withWorkerdLaunchedBy(
      join(dir, 'workerd-under-callgrind.sh'),
      `exec valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes --dump-instr=no --collect-jumps=no -q --callgrind-out-file=${dir}/cg.%p.out "${workerdBinary()}" "$@"`,
      { MINIFLARE_WORKERD_V8_FLAGS: SYNCHRONOUS_JIT },
      start,
    );
  const counted = [
    { name: 'bare', url: `http://127.0.0.1:${countedBarePort}/api/4.0/user`, headers: {}, ...(await underCallgrind(() => startBare(countedBarePort, false))) },
    { name: 'gateway', url: `http://127.0.0.1:${countedGatewayPort}/api/4.0/user`, ...(await underCallgrind(() => startGateway(countedGatewayPort, () => {}))) },
  ];
  counted[1].headers = { cookie: await signIn(`http://127.0.0.1:${countedGatewayPort}`) };
  const requests = Number(args['instruction-requests']);
  const send = async (target, total) => {
    let sent = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (sent < total) {
        sent++;
        const status = await get(target.url, target.headers);
        if (status !== 200) throw new Error(`${target.name} under callgrind answered ${status}`);
      }
    }));
  };
  const control = (pid, ...flags) => spawnSync('callgrind_control', [...flags, String(pid)], { stdio: 'ignore' });
  for (const target of counted) {
    await send(target, 1000);
    target.rounds = [];
  }
  for (let round = 0; round < Number(args['instruction-rounds']); round++) {
    for (const target of counted) {
      control(target.pid, '--zero');
      await send(target, requests);
      const label = `round-${round}`;
      control(target.pid, `--dump=${label}`);
      let instructions = 0;
      for (const file of readdirSync(dir).filter((f) => f.startsWith(`cg.${target.pid}.out.`))) {
        const text = readFileSync(join(dir, file), 'utf8');
        if (text.includes(`Trigger: dump ${label}`)) instructions += Number(/^summary: (\d+)/m.exec(text)?.[1] ?? 0);
      }
      target.rounds.push(instructions / requests);
    }
  }
  for (const target of counted) await target.mf.dispose();
  const [bareCount, gatewayCount] = counted.map((t) => Math.min(...t.rounds));
  return {
    requestsPerRound: requests,
    bare: { perRequest: bareCount, rounds: counted[0].rounds },
    gateway: { perRequest: gatewayCount, rounds: counted[1].rounds },
    ratio: bareCount / gatewayCount,
  };
}

function workerdBinary() {
  // The workerd package's main export is the path of the binary for this platform.
  const workerd = createRequire(import.meta.url)('workerd');
  return workerd.default ?? workerd;
}

const instructions = args.instructions ? await countInstructions() : undefined;

// ── report ────────────────────────────────────────────────────────────────────

await gateway.dispose();
await bare.dispose();
await bareLog.dispose();
sim.kill();
agent.destroy();

const f = (n, d = 1) => n.toFixed(d);

/**
 * #3's targets against this run's figures, each marked met (✓) or not (✗). "Flat" memory:
 * the workerd process grew by less than max(8 MiB, 2% of the bytes streamed), far below
 * what holding the body would take.
 */
function targetVerdicts() {
  const mark = (ok) => (ok ? '✓' : '✗');
  const throughputs = throughput.map((r) => `${mark(r.ratioToBare >= 0.9)} ${f(r.ratioToBare, 2)}× at ${r.concurrency}`);
  if (instructions?.ratio !== undefined) throughputs.push(`${mark(instructions.ratio >= 0.9)} ${f(instructions.ratio, 2)}× by instructions`);
  const latencies = throughput.map((r) => `${mark(r.p50AddedMs <= 1)} ${r.p50AddedMs >= 0 ? '+' : ''}${f(r.p50AddedMs, 2)} ms at ${r.concurrency}`);
  const streams = Object.entries(memory)
    .filter(([name]) => name.endsWith('gateway'))
    .map(([name, m]) => `${mark(m.status === 200 && m.growthMiB < Math.max(8, (0.02 * m.bytes) / 2 ** 20))} ${name.split(',')[0]} of ${f(m.bytes / 2 ** 20, 0)} MiB: +${f(m.growthMiB)} MiB`);
  const kv = throughput.map((r) => `${mark(r.kvReadsPerRequest <= 1 && r.kvWritesPerRequest === 0)} ${f(r.kvReadsPerRequest, 2)} reads, ${f(r.kvWritesPerRequest, 2)} writes at ${r.concurrency}`);
  return [
    "Against #3's targets in this run (✓ met, ✗ not):",
    '',
    `- gateway throughput ≥ 0.9× the bare Worker (median requests/s per concurrency): ${throughputs.join('; ')}`,
    `- p50 added latency ≤ 1 ms over the bare Worker: ${latencies.join('; ')}`,
    `- memory flat while streaming through the gateway: ${streams.join('; ')}`,
    `- at most one KV read and no KV write per steady-state request: ${kv.join('; ')}`,
  ];
}

const lines = [];
lines.push(`looker-oauth-gateway benchmark — ${new Date().toISOString()} — ${process.platform}/${process.arch}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
lines.push(`GET /api/4.0/user; per concurrency ${ROUNDS} interleaved rounds of ${DURATION_MS / 1000} s per target (after ${WARMUP_MS / 1000} s warm-up), medians; gateway bundle ${f(bundleSize / 1024)} KiB`);
lines.push('');
lines.push('| concurrency | direct req/s | bare req/s | bare + log req/s | gateway req/s | gateway/bare (median, and range of rounds) | gateway/(bare + log) | gateway/direct | p50 direct / bare / gateway (ms) | p99 direct / bare / gateway (ms) | p50 added vs bare (ms) | workerd CPU/req bare / bare + log / gateway (ms) | KV reads/req | KV writes/req |');
lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---:|---:|');
for (const row of throughput) {
  const { direct, bare: b, bareLog: bl, gateway: g } = row;
  lines.push(
    `| ${row.concurrency} | ${f(direct.rps, 0)} | ${f(b.rps, 0)} | ${f(bl.rps, 0)} | ${f(g.rps, 0)} | ${f(row.ratioToBare, 2)}× (${f(row.ratioToBareRange[0], 2)}–${f(row.ratioToBareRange[1], 2)}) | ${f(row.ratioToBareLog, 2)}× | ${f(row.ratioToDirect, 2)}× | ${f(direct.p50, 2)} / ${f(b.p50, 2)} / ${f(g.p50, 2)} | ${f(direct.p99, 2)} / ${f(b.p99, 2)} / ${f(g.p99, 2)} | ${f(row.p50AddedMs, 2)} | ${f(b.cpuPerRequestMs, 3)} / ${f(bl.cpuPerRequestMs, 3)} / ${f(g.cpuPerRequestMs, 3)} | ${f(row.kvReadsPerRequest, 2)} | ${f(row.kvWritesPerRequest, 2)} |`,
  );
}
lines.push('');
lines.push('| streamed | bytes | status | seconds | workerd RSS before → peak (MiB) | growth (MiB) |');
lines.push('|---|---:|---:|---:|---|---:|');
for (const [name, m] of Object.entries(memory)) {
  lines.push(`| ${name} | ${m.bytes} | ${m.status} | ${f(m.seconds)} | ${f(m.baselineMiB)} → ${f(m.peakMiB)} | ${f(m.growthMiB)} |`);
}
if (instructions?.skipped) {
  lines.push('', `Instructions per request: skipped, ${instructions.skipped}.`);
} else if (instructions) {
  const k = (n) => `${f(n / 1000, 0)}k`;
  lines.push('');
  lines.push(`| workerd instructions per request (callgrind, lowest of ${instructions.bare.rounds.length} rounds of ${instructions.requestsPerRound}) | bare | gateway | bare/gateway (the throughput ratio they allow) |`);
  lines.push('|---|---:|---:|---:|');
  lines.push(`| GET /api/4.0/user, 4 at a time | ${k(instructions.bare.perRequest)} | ${k(instructions.gateway.perRequest)} | ${f(instructions.ratio, 2)}× |`);
}
lines.push('', ...targetVerdicts());
if (resentAfterReset.size > 0) {
  const names = new Map([[new URL(SIM).origin, 'direct'], [new URL(BARE).origin, 'bare'], [new URL(BARE_LOG).origin, 'bare + log'], [new URL(GATEWAY).origin, 'gateway'], [`http://127.0.0.1:${countedBarePort}`, 'bare under callgrind'], [`http://127.0.0.1:${countedGatewayPort}`, 'gateway under callgrind']]);
  const counts = [...resentAfterReset].map(([origin, n]) => `${names.get(origin) ?? origin}: ${n}`).join(', ');
  lines.push('', `Requests sent again after the server reset a kept-alive connection: ${counts}.`);
}
const report = lines.join('\n');
console.log(`\n${report}\n`);
mkdirSync('bench-out', { recursive: true });
writeFileSync('bench-out/results.md', `${report}\n`);
writeFileSync('bench-out/results.json', JSON.stringify({ throughput, memory, instructions, bundleSize }, null, 2));
console.log('Written to bench-out/results.md and bench-out/results.json');
process.exit(0);

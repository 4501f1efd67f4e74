/**
 * What `npm run bench -- --runtime deno` measures, as a list (the Deno counterpart of
 * workers.ts), and how each is started: `deno serve` with the flags `npm run dev --
 * --runtime deno` uses (scripts/dev.mjs), on its own port, against the same Looker
 * simulator. The gateway runs from bench/deno-servers/gateway.ts, which is
 * src/platform/deno/server.ts with a Deno KV handle that counts its operations; the bare
 * pass-through from bench/deno-servers/bare.ts. Their output goes to files in
 * bench-out/deno/ (the gateway writes a log line per request: through a pipe into this
 * process, which also generates the load, it would slow its own load down), except the
 * gateway's stderr, where it answers SIGUSR2 with its KV counts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CACHED_ONLY, denoBinary } from '../scripts/lib/deno-bin.mjs';
import { parseKvCountsLine, type KvCounts } from './kv-count.ts';
import { originOf } from './local.ts';
import { gatewayBearerToken, gatewaySessionCookie } from './sign-in.ts';

/** What every Deno server is started with in one run. */
export interface DenoSetup {
  root: string;
  /** The Looker simulator's origin. */
  simulator: string;
  clientId: string;
  /** A bearer token from the simulator, for the bare pass-through. */
  token: string;
  /** Where each server's output files and the gateway's KV file go. */
  dir: string;
}

export interface MeasuredDenoServer {
  /** Its key in results.json. */
  id: string;
  /** Its name in the report. */
  label: string;
  /** Several measured ids may be one server reached two ways (the gateway by cookie and by bearer token): started once. */
  server: 'bare' | 'gateway';
  /** The headers a client sends with each request, once the server listens at `origin`. */
  clientHeaders(origin: string): Promise<Record<string, string>>;
  /** Its KV operations are counted (the gateway's). */
  countsKv: boolean;
  /** Also measured while streaming a large download and upload. */
  streamed: boolean;
}

/** The ids the report and the targets compare. */
export const DENO_BARE = 'bare';
export const DENO_GATEWAY = 'gateway';
export const DENO_GATEWAY_BEARER = 'gatewayBearer';

export const MEASURED_DENO: readonly MeasuredDenoServer[] = [
  { id: DENO_BARE, label: 'bare', server: 'bare', clientHeaders: async () => ({}), countsKv: false, streamed: true },
  // A browser's session: the cookie the gateway set after signing in through the simulator.
  { id: DENO_GATEWAY, label: 'gateway', server: 'gateway', clientHeaders: async (origin) => ({ cookie: await gatewaySessionCookie(origin) }), countsKv: true, streamed: true },
  // A script: the bearer token the SDK login hands a credential.
  { id: DENO_GATEWAY_BEARER, label: 'gateway (bearer)', server: 'gateway', clientHeaders: async (origin) => ({ authorization: `Bearer ${await gatewayBearerToken(origin)}` }), countsKv: true, streamed: false },
];

/** The ratios the report draws: the gateway's CPU per request against the bare server's (bare/gateway, as for Workers). */
export const DENO_COMPARISONS = [
  { of: DENO_GATEWAY, to: DENO_BARE },
  { of: DENO_GATEWAY_BEARER, to: DENO_BARE },
] as const;

export interface RunningDenoServer {
  origin: string;
  pid: number;
  /** Its stdout and stderr, as files. */
  outFile: string;
  /** The gateway's KV operations so far (SIGUSR2, answered on its stderr); undefined for a server that counts none. */
  kvCounts: (() => Promise<KvCounts>) | undefined;
  stop(): Promise<void>;
}

/** The flags scripts/dev.mjs runs `deno serve` with. */
const SERVE_FLAGS = ['serve', '--quiet', CACHED_ONLY, '--no-prompt', '--allow-net', '--allow-env', '--allow-read', '--allow-write', '--host', '127.0.0.1'];

/** How long a server may take to answer its first request (Deno compiles the gateway's TypeScript first). */
const START_TIMEOUT_MS = 60_000;

export function denoOrFail(): string {
  const deno = denoBinary();
  if (deno === null) throw new Error(`--runtime deno: no Deno for ${process.platform}-${process.arch} in node_modules. Run npm install (it brings Deno as the deno devDependency).`);
  return deno;
}

export async function startDenoServer(kind: 'bare' | 'gateway', setup: DenoSetup, port: number): Promise<RunningDenoServer> {
  const origin = originOf(port);
  const vars: Record<string, string> =
    kind === 'bare'
      ? { UPSTREAM: setup.simulator, TOKEN: setup.token }
      : {
          // What scripts/dev.mjs hands the gateway with the simulator, and a KV file of this run's own.
          LOOKER_URL: setup.simulator,
          LOOKER_API_URL: setup.simulator,
          LOOKER_CLIENT_ID: setup.clientId,
          SESSION_SECRET: randomBytes(32).toString('base64'),
          GATEWAY_URL: origin,
          DENO_KV_PATH: join(setup.dir, 'kv.sqlite3'),
        };
  const outFile = join(setup.dir, `${kind}.log`);
  const out = openSync(outFile, 'a');
  const counted = kind === 'gateway';
  let child: ChildProcess;
  try {
    child = spawn(denoOrFail(), [...SERVE_FLAGS, '--port', String(port), join('bench/deno-servers', `${kind}.ts`)], {
      cwd: setup.root,
      // The gateway's stderr is where its counts come back; anything else on it is copied to its file.
      stdio: ['ignore', out, counted ? 'pipe' : out],
      env: { ...process.env, ...vars, DENO_NO_UPDATE_CHECK: '1' },
    });
  } finally {
    closeSync(out);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnExit = () => child.kill('SIGKILL');
  process.on('exit', stopOnExit);
  const stop = async () => {
    process.off('exit', stopOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    if (child.pid === undefined) throw new Error(`deno serve of the ${kind} server did not start`);
    await answering(origin, exited, `the Deno ${kind} server (see ${outFile})`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, pid: child.pid, outFile, kvCounts: counted && child.stderr !== null ? kvCountsReader(child, outFile) : undefined, stop };
}

/** Resolves once `origin` answers an HTTP request (any status); rejects if the process exits first or it takes too long. */
async function answering(origin: string, exited: Promise<void>, what: string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`${what} exited before it listened`);
    try {
      await (await fetch(`${origin}/healthz`)).arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${what} did not answer within ${START_TIMEOUT_MS / 1000} s`);
}

/**
 * Asks the gateway for its KV counts: SIGUSR2, then the next counts line on its stderr.
 * One question at a time (the bench asks between rounds, never during one). Its other
 * stderr lines (none, normally: its log goes to stdout) are passed on to this process's.
 */
function kvCountsReader(child: ChildProcess, outFile: string): () => Promise<KvCounts> {
  if (child.stderr === null) throw new Error('the gateway has no stderr pipe');
  interface Question {
    resolve(counts: KvCounts): void;
    reject(error: Error): void;
    timer: NodeJS.Timeout;
  }
  const questions: Question[] = [];
  let closed = false;
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    const counts = parseKvCountsLine(line);
    if (counts === undefined) return void process.stderr.write(`[deno gateway] ${line}\n`);
    const question = questions.shift();
    if (question === undefined) return;
    clearTimeout(question.timer);
    question.resolve(counts);
  });
  lines.on('close', () => {
    closed = true;
    for (const question of questions.splice(0)) {
      clearTimeout(question.timer);
      question.reject(new Error(`the Deno gateway stopped before giving its KV counts (see ${outFile})`));
    }
  });
  return () =>
    new Promise<KvCounts>((resolve, reject) => {
      if (closed) return reject(new Error(`the Deno gateway has stopped: no KV counts (see ${outFile})`));
      const question: Question = {
        resolve,
        reject,
        timer: setTimeout(() => {
          questions.splice(questions.indexOf(question), 1);
          reject(new Error(`the Deno gateway did not answer SIGUSR2 with its KV counts within 10 s (see ${outFile})`));
        }, 10_000),
      };
      questions.push(question);
      child.kill('SIGUSR2');
    });
}

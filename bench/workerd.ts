/**
 * Starting a measured Worker in its own workerd through Miniflare, with workerd launched
 * by a small shell script (Miniflare's MINIFLARE_WORKERD_PATH) so that the benchmark
 * decides where its output goes and whether it runs under callgrind.
 *
 * Output goes to a file, never through Miniflare's pipe: Miniflare parses every line it
 * pipes, in this very process, which also generates the load, so a Worker that logs each
 * request (the gateway) would slow its own load down. A file is also what a production
 * log pipeline looks like from workerd's side. The gateway's KV counts are read back
 * from its file (request-log.ts).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
// Miniflare 5 takes a new options shape; the v4 (wrangler-like) shape converts to it.
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from 'miniflare';

export interface RunningWorker {
  origin: string;
  /** workerd's process (valgrind's, under callgrind: the same process after its exec). */
  pid: number;
  logFile: string;
  dispose(): Promise<void>;
}

export interface Launch {
  /** Where the launch script, the pid file and the output file go. */
  dir: string;
  /** Names those files. */
  name: string;
  /** Run workerd under callgrind, its profiles written to `dir`. */
  callgrind?: boolean;
}

/**
 * V8 compiles hot code on background threads, and valgrind runs one thread at a time, so
 * under callgrind the compiler threads starve and JavaScript can still be interpreted
 * after the warm-up: a Worker with more JavaScript then measures worse (or, by luck,
 * better) than it runs. Under callgrind, workerd compiles on the main thread instead.
 */
const SYNCHRONOUS_JIT = '--no-concurrent-recompilation --no-concurrent-sparkplug --no-concurrent-osr';

const CALLGRIND = 'valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes --dump-instr=no --collect-jumps=no -q';

export async function launchWorker(worker: V4WorkerOptions, port: number, launch: Launch): Promise<RunningWorker> {
  const script = join(launch.dir, `workerd-${launch.name}.sh`);
  const pidFile = join(launch.dir, `workerd-${launch.name}.pid`);
  const logFile = join(launch.dir, `${launch.name}.log`);
  const prefix = launch.callgrind ? `${CALLGRIND} --callgrind-out-file=${launch.dir}/cg.%p.out ` : '';
  // The script's own pid is workerd's after `exec`: no guessing from the process list,
  // where other workerds (another test run on the machine) may appear at the same moment.
  writeFileSync(script, `#!/bin/sh\necho $$ >"${pidFile}"\nexec ${prefix}"${workerdBinary()}" "$@" >>"${logFile}"\n`);
  chmodSync(script, 0o755);
  const env: Record<string, string> = { MINIFLARE_WORKERD_PATH: script };
  if (launch.callgrind) env['MINIFLARE_WORKERD_V8_FLAGS'] = SYNCHRONOUS_JIT;
  const mf = await withEnv(env, async () => {
    const started = new Miniflare(
      convertV4MiniflareOptions({
        workers: [worker],
        host: '127.0.0.1',
        port,
        cf: false,
        // Structured logging on for every Worker, so log lines take the same path out of workerd.
        handleStructuredLogs: () => {},
      }),
    );
    await started.ready;
    return started;
  });
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return { origin: `http://127.0.0.1:${port}`, pid, logFile, dispose: () => mf.dispose() };
}

/** Runs `work` with `settings` in the environment (Miniflare reads it while starting), then restores it. */
async function withEnv<T>(settings: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  try {
    return await work();
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function workerdBinary(): string {
  // The workerd package's main export is the path of the binary for this platform (it ships no types).
  const workerd: unknown = createRequire(import.meta.url)('workerd');
  const path = typeof workerd === 'object' && workerd !== null && 'default' in workerd ? workerd.default : workerd;
  if (typeof path !== 'string') throw new Error('the workerd package did not give the path of its binary');
  return path;
}

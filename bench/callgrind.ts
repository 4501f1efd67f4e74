/**
 * workerd instructions per request, under callgrind (--instructions). Requests/s on a
 * shared or virtual machine move by 15% or more from run to run, instruction counts by a
 * few percent; and workerd runs a Worker on one thread, so the ratio of two Workers'
 * instructions per request is the throughput ratio the runtime itself allows.
 *
 * Each Worker runs in its own workerd under callgrind, compiling JavaScript on the main
 * thread (see workerd.ts). After a warm-up (so the JIT has settled), rounds interleave
 * the Workers: zero the counters, send N requests, dump. A Worker's figure is its lowest
 * round: timer and GC work shift a few percent between rounds, never below the real cost.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadClient, LoadRequest } from './load.ts';
import { launchWorker, type RunningWorker } from './workerd.ts';
import type { MeasuredWorker, RunSetup } from './workers.ts';

/** Requests that settle the JIT before any round counts. */
const WARMUP_REQUESTS = 1000;
/** Requests in flight at a time. */
const CONCURRENCY = 4;

export interface InstructionCounts {
  requestsPerRound: number;
  concurrency: number;
  /** Per Worker id: instructions per request, lowest round first, then every round. */
  perRequest: Record<string, { lowest: number; rounds: number[] }>;
}

interface Counted {
  worker: MeasuredWorker;
  running: RunningWorker;
  /** What a client sends it (known once it is signed in). */
  request?: LoadRequest;
  /** Instructions per request, one per round. */
  rounds: number[];
}

export type Instructions = InstructionCounts | { skipped: string };

export interface CallgrindShape {
  requestsPerRound: number;
  rounds: number;
}

/** Counts each of `workers`, each listening on its port. */
export async function countInstructions(client: LoadClient, workers: ReadonlyArray<{ worker: MeasuredWorker; port: number }>, setup: RunSetup, dir: string, shape: CallgrindShape): Promise<Instructions> {
  const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (valgrind.status !== 0) return { skipped: 'valgrind is not installed (apt-get install valgrind)' };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const counted: Counted[] = [];
  try {
    for (const { worker, port } of workers) {
      const origin = `http://127.0.0.1:${port}`;
      const running = await launchWorker(worker.define(setup, origin), port, { dir, name: worker.id, callgrind: true });
      counted.push({ worker, running, rounds: [] });
    }
    for (const target of counted) {
      const { path, ...request } = await target.worker.client(target.running.origin);
      target.request = { url: `${target.running.origin}${path}`, ...request };
    }
    const send = async (target: Counted, total: number) => {
      const { request } = target;
      if (request === undefined) throw new Error(`${target.worker.label} under callgrind has no request`);
      let sent = 0;
      const one = async () => {
        while (sent < total) {
          sent++;
          const answer = await client.send(request);
          if (!answer.ok) throw new Error(`${target.worker.label} under callgrind answered ${answer.status}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, one));
    };
    for (const target of counted) await send(target, WARMUP_REQUESTS);
    for (let round = 0; round < shape.rounds; round++) {
      for (const target of counted) {
        const { pid } = target.running;
        callgrindControl(pid, '--zero');
        await send(target, shape.requestsPerRound);
        // The label ends in a fixed suffix so that no label is the prefix of another (round-1, round-10).
        const label = `round-${round}-end`;
        callgrindControl(pid, `--dump=${label}`);
        // With --separate-threads, each thread dumps to its own file.
        const dumps = readdirSync(dir)
          .filter((f) => f.startsWith(`cg.${pid}.out.`))
          .flatMap((f) => instructionsInDump(readFileSync(join(dir, f), 'utf8'), label) ?? []);
        // No dump would read as "0 instructions": refuse that.
        if (dumps.length === 0) throw new Error(`callgrind wrote no dump ${label} for ${target.worker.label} (in ${dir})`);
        target.rounds.push(dumps.reduce((a, b) => a + b, 0) / shape.requestsPerRound);
      }
    }
  } finally {
    for (const target of counted) await target.running.dispose();
  }
  const perRequest: InstructionCounts['perRequest'] = {};
  for (const target of counted) perRequest[target.worker.id] = { lowest: Math.min(...target.rounds), rounds: target.rounds };
  return { requestsPerRound: shape.requestsPerRound, concurrency: CONCURRENCY, perRequest };
}

function callgrindControl(pid: number, flag: string): void {
  const result = spawnSync('callgrind_control', [flag, String(pid)], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`callgrind_control ${flag} ${pid} failed`);
}

/** The instructions a callgrind dump file counted, if it is the dump named `label`. */
export function instructionsInDump(text: string, label: string): number | undefined {
  const trigger = /^desc: Trigger: (.*)$/m.exec(text)?.[1];
  if (trigger !== `dump ${label}`) return undefined;
  const summary = /^summary: (\d+)$/m.exec(text)?.[1];
  return summary === undefined ? undefined : Number(summary);
}

/**
 * The load generator: closed-loop clients on kept-alive connections, each sending its
 * next GET as soon as the previous answer has been read, for a fixed time.
 */
import http from 'node:http';
import { cpuMs } from './proc.ts';
import { percentile } from './stats.ts';

/** Where load goes: a URL, the headers each request carries, and the process serving it. */
export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  pid: number;
}

export interface LoadResult {
  /** Successful (200) requests per second. */
  rps: number;
  /** Latency of successful requests, in ms. */
  p50: number;
  p99: number;
  requests: number;
  /** Answers other than 200, left out of the figures above. */
  errors: number;
  /** CPU time the serving process used per request, in ms. */
  cpuPerRequestMs: number;
  /** How long the measured requests took, in seconds. */
  seconds: number;
}

export interface LoadClient {
  agent: http.Agent;
  /** A GET's status, its body read and dropped. */
  get(url: string, headers: Record<string, string>): Promise<number>;
  /** Per origin: requests sent again after a connection reset, reported so a retry hides nothing. */
  resentAfterReset: Map<string, number>;
  destroy(): void;
}

export function createClient(): LoadClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const resentAfterReset = new Map<string, number>();
  const getOnce = (url: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const request = http.get(url, { agent, headers }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      });
      request.on('error', reject);
    });
  return {
    agent,
    resentAfterReset,
    // Sent again once if the kept-alive socket it went out on was closed by the server at
    // that moment (what browsers do too). Seen only under callgrind, where everything is
    // ~50× slower and workerd's idle-connection timeout can meet a reused socket.
    async get(url, headers) {
      try {
        return await getOnce(url, headers);
      } catch (error) {
        if (!isConnectionReset(error)) throw error;
        const origin = new URL(url).origin;
        resentAfterReset.set(origin, (resentAfterReset.get(origin) ?? 0) + 1);
        return getOnce(url, headers);
      }
    },
    destroy: () => agent.destroy(),
  };
}

function isConnectionReset(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ECONNRESET';
}

export interface LoadShape {
  concurrency: number;
  durationMs: number;
  /** Load sent first and not counted (JIT, connection pool); 0 for none. */
  warmupMs: number;
}

export interface CountShape {
  concurrency: number;
  /** Requests sent in all, each client sending its next as soon as its previous answer is read. */
  requests: number;
}

/**
 * `shape.requests` GETs, `shape.concurrency` at a time, no warm-up: the same figures as
 * load(), for a fixed amount of work instead of a fixed time. `cpu` reads the serving
 * process's CPU time (default: the process alone; treeCpuMs adds its children).
 */
export async function loadCount(client: LoadClient, target: LoadTarget, shape: CountShape, cpu: (pid: number) => number = cpuMs): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const one = async () => {
    while (sent < shape.requests) {
      sent++;
      const start = process.hrtime.bigint();
      const status = await client.get(target.url, target.headers);
      const micros = Number(process.hrtime.bigint() - start) / 1000;
      if (status === 200) latencies.push(micros);
      else errors++;
    }
  };
  const started = performance.now();
  const cpuBefore = cpu(target.pid);
  await Promise.all(Array.from({ length: Math.min(shape.concurrency, shape.requests) }, one));
  const cpuPerRequestMs = (cpu(target.pid) - cpuBefore) / Math.max(1, latencies.length + errors);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: percentile(latencies, 50) / 1000, p99: percentile(latencies, 99) / 1000, requests: latencies.length, errors, cpuPerRequestMs, seconds };
}

export async function load(client: LoadClient, target: LoadTarget, shape: LoadShape): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const clients = async (until: number, record: boolean) => {
    const one = async () => {
      while (performance.now() < until) {
        const start = process.hrtime.bigint();
        const status = await client.get(target.url, target.headers);
        const micros = Number(process.hrtime.bigint() - start) / 1000;
        if (!record) continue;
        if (status === 200) latencies.push(micros);
        else errors++;
      }
    };
    await Promise.all(Array.from({ length: shape.concurrency }, one));
  };
  await clients(performance.now() + shape.warmupMs, false);
  const started = performance.now();
  const cpuBefore = cpuMs(target.pid);
  await clients(started + shape.durationMs, true);
  const cpuPerRequestMs = (cpuMs(target.pid) - cpuBefore) / Math.max(1, latencies.length + errors);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50) / 1000,
    p99: percentile(latencies, 99) / 1000,
    requests: latencies.length,
    errors,
    cpuPerRequestMs,
    seconds,
  };
}

/**
 * The load generator: closed-loop clients on kept-alive connections, each sending its
 * next request (the same every time: a GET, or a POST with a small body) as soon as the
 * previous answer has been read, for a fixed time.
 */
import http from 'node:http';
import { cpuMs } from './proc.ts';
import { percentile } from './stats.ts';

/** One request, sent the same way every time. */
export interface LoadRequest {
  url: string;
  /** GET when absent. */
  method?: 'GET' | 'POST' | undefined;
  headers: Record<string, string>;
  /** A POST's whole body (sent with its Content-Length). */
  body?: string | undefined;
  /**
   * A 200 whose body matches this failed all the same (an MCP tool's error comes back as
   * a 200); only a request that has one has its answer's body read, the rest drop theirs.
   */
  failsIf?: RegExp | undefined;
}

/** What came back: the status, and whether it counts as a success (a 200 that `failsIf` did not match). */
export interface Answer {
  status: number;
  ok: boolean;
}

/** Where load goes: the request each client sends, and the process serving it. */
export interface LoadTarget extends LoadRequest {
  pid: number;
}

export interface LoadResult {
  /** Successful requests (200, see LoadRequest.failsIf) per second. */
  rps: number;
  /** Latency of successful requests, in ms. */
  p50: number;
  p99: number;
  requests: number;
  /** Answers that were no success, left out of the figures above. */
  errors: number;
  /** CPU time the serving process used per request, in ms. */
  cpuPerRequestMs: number;
  /** How long the measured requests took, in seconds. */
  seconds: number;
}

export interface LoadClient {
  agent: http.Agent;
  /** A request's answer, its body read (and dropped, unless `failsIf` reads it). */
  send(request: LoadRequest): Promise<Answer>;
  /** Per origin: requests sent again after a connection reset, reported so a retry hides nothing. */
  resentAfterReset: Map<string, number>;
  destroy(): void;
}

export function createClient(): LoadClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const resentAfterReset = new Map<string, number>();
  const sendOnce = ({ url, method = 'GET', headers, body, failsIf }: LoadRequest) =>
    new Promise<Answer>((resolve, reject) => {
      const withLength = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
      const request = http.request(url, { method, agent, headers: withLength }, (response) => {
        const status = response.statusCode ?? 0;
        if (failsIf === undefined) {
          response.resume();
          response.on('end', () => resolve({ status, ok: status === 200 }));
        } else {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status, ok: status === 200 && !failsIf.test(Buffer.concat(chunks).toString('utf8')) }));
        }
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  return {
    agent,
    resentAfterReset,
    // Sent again once if the kept-alive socket it went out on was closed by the server at
    // that moment (what browsers do too). Seen only under callgrind, where everything is
    // ~50× slower and workerd's idle-connection timeout can meet a reused socket.
    async send(request) {
      try {
        return await sendOnce(request);
      } catch (error) {
        if (!isConnectionReset(error)) throw error;
        const origin = new URL(request.url).origin;
        resentAfterReset.set(origin, (resentAfterReset.get(origin) ?? 0) + 1);
        return sendOnce(request);
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
 * `shape.requests` requests, `shape.concurrency` at a time, no warm-up: the same figures as
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
      const answer = await client.send(target);
      const micros = Number(process.hrtime.bigint() - start) / 1000;
      if (answer.ok) latencies.push(micros);
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
        const answer = await client.send(target);
        const micros = Number(process.hrtime.bigint() - start) / 1000;
        if (!record) continue;
        if (answer.ok) latencies.push(micros);
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

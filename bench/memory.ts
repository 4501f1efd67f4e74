/**
 * workerd's memory while a large download and a large upload stream through a Worker:
 * resident memory sampled every 20 ms, its growth over the start of the stream. A Worker
 * that streams grows by a few MiB at most; one that held the body would grow by its size.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import type { LoadClient, LoadTarget } from './load.ts';
import { rssMiB } from './proc.ts';

export interface StreamResult {
  /** The measured Worker's id and label. */
  id: string;
  label: string;
  direction: 'download' | 'upload';
  /** Bytes that arrived: at the client for a download, at Looker for an upload. */
  bytes: number;
  status: number;
  seconds: number;
  baselineMiB: number;
  peakMiB: number;
  growthMiB: number;
}

export interface Streamed extends Omit<LoadTarget, 'url'> {
  id: string;
  label: string;
  /** The Worker's origin; the simulator serves /api/4.0/download and /api/4.0/upload. */
  origin: string;
}

/** Downloads first, then uploads, each through every Worker in turn. */
export async function measureStreams(client: LoadClient, workers: readonly Streamed[], bytes: { download: number; upload: number }): Promise<StreamResult[]> {
  const results: StreamResult[] = [];
  for (const direction of ['download', 'upload'] as const) {
    for (const worker of workers) {
      const stream =
        direction === 'download'
          ? () => download(client, `${worker.origin}/api/4.0/download?bytes=${bytes.download}`, worker.headers)
          : () => upload(client, `${worker.origin}/api/4.0/upload`, worker.headers, bytes.upload);
      results.push({ id: worker.id, label: worker.label, direction, ...(await sampleWhile(worker.pid, stream)) });
    }
  }
  return results;
}

interface Transfer {
  status: number;
  bytes: number;
}

async function sampleWhile(pid: number, work: () => Promise<Transfer>) {
  const baselineMiB = rssMiB(pid);
  let peakMiB = baselineMiB;
  const timer = setInterval(() => {
    peakMiB = Math.max(peakMiB, rssMiB(pid));
  }, 20);
  const started = performance.now();
  try {
    const transfer = await work();
    peakMiB = Math.max(peakMiB, rssMiB(pid));
    return { ...transfer, seconds: (performance.now() - started) / 1000, baselineMiB, peakMiB, growthMiB: peakMiB - baselineMiB };
  } finally {
    clearInterval(timer);
  }
}

function download(client: LoadClient, url: string, headers: Record<string, string>): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: client.agent, headers }, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

/** A chunked upload of `total` bytes, made as it is sent; Looker (the simulator) answers with the bytes it got. */
function upload(client: LoadClient, url: string, headers: Record<string, string>, total: number): Promise<Transfer> {
  const chunk = Buffer.alloc(64 * 1024, 97);
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: client.agent, headers: { ...headers, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (response) => {
      let text = '';
      response.on('data', (c: Buffer) => (text += c.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes: receivedBytes(text) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    body.pipe(request);
  });
}

/** The simulator's count of bytes received, or 0 when its answer has none (an error page). */
function receivedBytes(answer: string): number {
  try {
    const body: unknown = JSON.parse(answer);
    return typeof body === 'object' && body !== null && 'bytes' in body && typeof body.bytes === 'number' ? body.bytes : 0;
  } catch {
    return 0;
  }
}

/**
 * One HTTP/1.1 request exactly as written — the path byte for byte (no URL parser resolves
 * its dot segments or turns its backslashes into slashes, as fetch's would) and any header
 * (fetch refuses Connection, Keep-Alive, Upgrade, TE) — so that a server is shown what a
 * hostile client could send. Each request carries an X-Request-Id of its own, which the
 * gateway takes as its request id: the log line of exactly that request can be found.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';

export interface RawAnswer {
  method: string;
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The X-Request-Id this request was sent with. */
  requestId: string;
}

export interface RawRequest {
  method?: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

export function rawRequest(origin: string, path: string, { method = 'GET', headers = {}, body }: RawRequest = {}): Promise<RawAnswer> {
  const url = new URL(origin);
  const requestId = `e2e-${randomUUID()}`;
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        // One connection per request: no answer can be read on a connection another left in a strange state.
        agent: false,
        headers: { 'x-request-id': requestId, ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ method, path, status: res.statusCode ?? 0, headers: res.headers, body: text, requestId }));
        res.on('error', reject);
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

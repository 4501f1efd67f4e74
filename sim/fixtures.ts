/**
 * Test-only endpoints no real Looker has, each built to probe one behaviour of the proxy:
 * echo, headers to pass or drop, an HTML answer, conditional GET, 429, redirects, slow
 * answers, a large streamed download, uploads, and streams paced by `hooks`. They sit
 * behind the API's token check like the rest of `/api/4.0`.
 */
import type { Context, Hono } from 'hono';
import type { SimContext } from './context.ts';
import { lookerError } from './http.ts';

const MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3;

export function registerFixtures(app: Hono, sim: SimContext): void {
  const { hooks } = sim;

  /** `?bytes=N` bytes of CSV-ish text, generated as it is read. */
  app.get('/api/4.0/download', (c) => {
    const total = Math.max(0, Math.min(Number(c.req.query('bytes') ?? 1024) || 0, MAX_DOWNLOAD_BYTES));
    const chunk = new TextEncoder().encode('id,value\n1,lorem ipsum dolor sit amet\n'.repeat(1638).slice(0, 65536));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        const n = Math.min(chunk.length, total - sent);
        controller.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
        sent += n;
      },
    });
    return c.body(body, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-length': String(total),
      'content-disposition': 'attachment; filename="download.csv"',
    });
  });

  /** Counts an uploaded body as it streams by, reporting each chunk to `hooks.onUploadChunk`: `{ "bytes": N }`. */
  const countUpload = async (c: Context) => {
    let bytes = 0;
    const reader = c.req.raw.body?.getReader();
    if (reader !== undefined) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        hooks.onUploadChunk?.(bytes);
      }
    }
    return c.json({ bytes });
  };
  app.post('/api/4.0/upload', countUpload);
  app.post('/api/4.0/upload_probe', countUpload);

  /** Echoes what arrived, for header and path assertions: method, path, raw query, headers, body size. */
  app.all('/api/4.0/echo/*', async (c) => {
    const url = new URL(c.req.url);
    const bodyBytes = c.req.raw.body === null ? 0 : (await c.req.arrayBuffer()).byteLength;
    return c.json({ method: c.req.method, path: url.pathname, search: url.search, headers: Object.fromEntries(c.req.raw.headers), bodyBytes });
  });

  /** A response with every kind of header the proxy must pass or drop. */
  app.get('/api/4.0/response_headers', () => {
    const headers = new Headers({
      'content-type': 'application/json',
      'content-disposition': 'attachment; filename="report.json"',
      etag: '"v1"',
      'retry-after': '5',
      'x-looker-request-id': 'lr-1',
      'cache-control': 'private, max-age=0',
      'keep-alive': 'timeout=5',
      'x-hop': 'secret-hop',
      connection: 'x-hop',
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'true',
    });
    headers.append('set-cookie', 'looker_session=abc; Path=/; HttpOnly');
    headers.append('set-cookie', 'CSRF-TOKEN=xyz; Path=/');
    return new Response('{"ok":true}', { status: 200, headers });
  });

  /** An answer Looker lets anyone keep (as for a CDN): the gateway's answer must still be for its one caller only. */
  app.get('/api/4.0/public_answer', (c) => c.json({ ok: true }, 200, { 'cache-control': 'public, max-age=600' }));

  /** An HTML answer (a load balancer's error page, say): a browser would render it as a document. */
  app.get('/api/4.0/html_page', (c) => c.html('<!doctype html><title>Looker</title><script>document.title = "ran"</script>'));

  /** Conditional GET: 304 for the current ETag. */
  app.get('/api/4.0/dashboards/1', (c) => {
    if (c.req.header('if-none-match') === '"d1"') return c.body(null, 304, { etag: '"d1"' });
    return c.json({ id: '1', title: 'Sales' }, 200, { etag: '"d1"' });
  });

  app.get('/api/4.0/rate_limited', (c) => lookerError(c, 429, 'Too many requests', { 'retry-after': '30' }));

  app.get('/api/4.0/redirect', (c) => {
    const to = c.req.query('to') === 'elsewhere' ? 'https://elsewhere.example/steal' : `${new URL(c.req.url).origin}/api/4.0/looks`;
    return c.redirect(to, 302);
  });

  /** Waits `ms` before answering (headers included). */
  app.get('/api/4.0/slow', async (c) => {
    const ms = Number(c.req.query('ms') ?? 0);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return c.json({ waitedMs: ms });
  });

  /** Sends one chunk, then waits for `hooks.downloadGate` before the last. */
  app.get('/api/4.0/stream_probe', () => {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode('first;'));
        await hooks.downloadGate;
        controller.enqueue(encoder.encode('second'));
        controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  });
}

import { describe, expect, it } from 'vitest';
import { AUTHENTICATION_HINT, createHarness, dumpKv, GATEWAY, LOOKER_API } from './helpers.ts';
import {
  DROPPED_RESPONSE_HEADERS,
  END_TO_END_REQUEST_HEADERS,
  HOP_BY_HOP_AND_CALLER_HEADERS,
  HOSTILE_API_PATHS,
  KEPT_RESPONSE_HEADERS,
  LOOKER_AUTH_ENDPOINTS,
  NEVER_FORWARDED_REQUEST_HEADERS,
} from './policy-cases.ts';

type Echo = { method: string; path: string; search: string; headers: Record<string, string>; bodyBytes: number };

/** A body that arrives in the given chunks, with no declared length. */
function streamOf(...sizes: number[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const size of sizes) controller.enqueue(new Uint8Array(size));
      controller.close();
    },
  });
}

/** Signed in, one API call made, and then that access token revoked by "an admin". */
async function signedInWithRevokedToken() {
  const h = await signedIn();
  await h.request('/api/4.0/user');
  h.sim.revokeAccessToken(h.lastAccessToken());
  return h;
}

async function signedIn(options: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness(options);
  await h.signIn();
  h.upstream.length = 0;
  return h;
}

describe('forwarding', () => {
  it('GET /api/4.0/user reaches LOOKER_API_URL with the bearer token', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/user?fields=id,display_name');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '42', display_name: 'Dana Demo' });
    expect(h.upstream).toHaveLength(1);
    expect(h.upstream[0]!.url).toBe(`${LOOKER_API}/api/4.0/user?fields=id,display_name`);
    expect(h.upstream[0]!.headers.get('authorization')).toMatch(/^Bearer [A-Za-z0-9_-]+$/);
    expect(h.upstream[0]!.redirect).toBe('manual');
  });

  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) {
    it(`forwards ${method} with path and query exactly`, async () => {
      const h = await signedIn();
      const query = '?fields=a,b&filter%5Bx%5D=1%2C2&q=a+b&empty=&dup=1&dup=2';
      const body = method === 'GET' || method === 'HEAD' ? undefined : JSON.stringify({ title: 'x' });
      const res = await h.request(`/api/4.0/echo/looks/1${query}`, {
        method,
        body,
        headers: { origin: GATEWAY, 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(h.upstream[0]!.method).toBe(method);
      expect(h.upstream[0]!.url).toBe(`${LOOKER_API}/api/4.0/echo/looks/1${query}`);
      if (method !== 'HEAD') {
        const echo = (await res.json()) as Echo;
        expect(echo.path).toBe('/api/4.0/echo/looks/1');
        expect(echo.search).toBe(query);
        expect(echo.bodyBytes).toBe(body === undefined ? 0 : body.length);
      } else {
        expect(await res.text()).toBe('');
      }
    });
  }

  it('forwards percent-encoded paths and queries without decoding or re-encoding them', async () => {
    const h = await signedIn();
    const path = '/api/4.0/echo/looks/a%20b%24%C3%A9%3Bc%40d?q=%7E%20x&y=%2F';
    const res = await h.request(path);
    expect(res.status).toBe(200);
    expect(h.upstream[0]!.url).toBe(`${LOOKER_API}${path}`);
  });

  it('passes end-to-end request headers and drops cookies, credentials and hop-by-hop headers', async () => {
    // The tables are shared with the gateway on Deno's end-to-end test (test/policy-cases.ts).
    const h = await signedIn();
    const res = await h.request('/api/4.0/echo/headers', {
      headers: { ...END_TO_END_REQUEST_HEADERS, ...HOP_BY_HOP_AND_CALLER_HEADERS, referer: `${GATEWAY}/` },
    });
    const { headers } = (await res.json()) as Echo;
    expect(headers).toMatchObject(END_TO_END_REQUEST_HEADERS);
    expect(headers.authorization).toMatch(/^Bearer /);
    expect(headers.authorization).not.toContain('caller-supplied-secret');
    for (const dropped of NEVER_FORWARDED_REQUEST_HEADERS) {
      expect(headers[dropped], dropped).toBeUndefined();
    }
  });

  it("never sends the gateway's cookies to Looker", async () => {
    const h = await signedIn();
    await h.request('/api/4.0/echo/x', { headers: { cookie: `other=1; __Host-lgw_session=${h.jar.get('__Host-lgw_session')}` } });
    expect(h.upstream[0]!.headers.get('cookie')).toBeNull();
  });

  it('passes response headers, drops Set-Cookie, hop-by-hop and Looker CORS headers', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/response_headers');
    expect(res.status).toBe(200);
    for (const [name, value] of Object.entries(KEPT_RESPONSE_HEADERS)) expect(res.headers.get(name), name).toBe(value);
    expect(res.headers.getSetCookie()).toEqual([]);
    for (const name of DROPPED_RESPONSE_HEADERS) expect(res.headers.get(name), name).toBeNull();
    expect(await res.text()).toBe('{"ok":true}');
  });

  it('passes 304 Not Modified through for conditional requests', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/dashboards/1', { headers: { 'if-none-match': '"d1"' } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe('"d1"');
  });

  it('passes 429 and Retry-After through untouched', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/rate_limited');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toMatchObject({ message: 'Too many requests' });
  });

  it("passes Looker's error bodies (422, 404) through", async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/no_such_thing');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/^Not found \(the Looker simulator implements only/);
  });

  it('does not follow redirects; one to another Looker API path points back at the gateway', async () => {
    const h = await signedIn();
    const inside = await h.request('/api/4.0/redirect');
    expect(inside.status).toBe(302);
    expect(inside.headers.get('location')).toBe(`${GATEWAY}/api/4.0/looks`);
    const outside = await h.request('/api/4.0/redirect?to=elsewhere');
    expect(outside.status).toBe(302);
    expect(outside.headers.get('location')).toBe('https://elsewhere.example/steal');
    // The bearer token went only to LOOKER_API_URL.
    expect(h.upstream.every((r) => r.url.startsWith(`${LOOKER_API}/api/`))).toBe(true);
    expect(h.upstream).toHaveLength(2);
  });
});

describe('paths that must never leave LOOKER_API_URL/api/', () => {
  for (const path of HOSTILE_API_PATHS) {
    it(`${path}`, async () => {
      const h = await signedIn();
      const res = await h.request(path);
      // Dot segments are resolved by the URL parser before routing (then it is no /api/
      // path at all: 404); what survives parsing is refused by the proxy (400).
      expect([400, 404]).toContain(res.status);
      expect(h.upstream.filter((r) => !r.url.startsWith(`${LOOKER_API}/api/`))).toEqual([]);
      // None of them is forwarded at all.
      expect(h.upstream).toEqual([]);
    });
  }
});

it('a dot segment that stays under /api/ resolves there', async () => {
  const h = await signedIn();
  const res = await h.request('/api/4.0/./user');
  expect(res.status).toBe(200);
  expect(h.upstream[0]!.url).toBe(`${LOOKER_API}/api/4.0/user`);
});

describe("Looker's own sign-in endpoints are not proxied", () => {
  // POST …/login and a bearer DELETE …/logout are the SDK login shim's (test/sdk-login.test.ts);
  // with the browser's cookie, every spelling still points to the gateway's own sign-in.
  for (const [method, path] of LOOKER_AUTH_ENDPOINTS) {
    it(`${method} ${path} → 404 JSON pointing to /login and /logout`, async () => {
      const h = await signedIn();
      const res = await h.request(path, { method, headers: { origin: GATEWAY } });
      expect(res.status).toBe(404);
      const body = (await res.json()) as Record<string, string>;
      expect(body.login_url).toBe(`${GATEWAY}/login`);
      expect(body.logout_url).toBe(`${GATEWAY}/logout`);
      expect(h.upstream).toEqual([]);
    });
  }
});

describe('authentication', () => {
  it('no session → 401 JSON with login_url, never a redirect or a page', async () => {
    const h = createHarness();
    for (const accept of ['application/json', 'text/html', '*/*']) {
      const res = await h.request('/api/4.0/user', { headers: { accept } });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.json()).toEqual({
        message: 'Not signed in to the gateway. Sign in at login_url, then retry.',
        login_url: `${GATEWAY}/login`,
        hint: AUTHENTICATION_HINT,
      });
    }
    expect(h.upstream).toEqual([]);
  });

  it('an invalid session cookie → 401 JSON and the cookie is cleared', async () => {
    const h = createHarness();
    const res = await h.request('/api/4.0/user', { headers: { cookie: '__Host-lgw_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie().some((c) => /^__Host-lgw_session=;.*max-age=0/i.test(c))).toBe(true);
  });

  it('the caller cannot authenticate with its own Authorization header', async () => {
    const h = createHarness();
    const res = await h.request('/api/4.0/user', { headers: { authorization: 'Bearer stolen' } });
    expect(res.status).toBe(401);
    expect(h.upstream).toEqual([]);
  });

  it('steady state: at most one KV read and no KV write per proxied request', async () => {
    const h = await signedIn();
    for (let i = 0; i < 5; i++) expect((await h.request('/api/4.0/user')).status).toBe(200);
    const lines = h.requestLogs().filter((l) => l.route === '/api/*');
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(line.kvReads).toBe(0); // the isolate remembers the session it just wrote
      expect(line.kvWrites).toBe(0);
      expect(line.upstreamStatus).toBe(200);
    }
  });

  it('a cold isolate reads KV once for a session, then never again; no request writes', async () => {
    const h = await signedIn();
    // A second instance with empty memory, sharing KV and the ledgers: another isolate.
    const cold = createHarness(h.share());
    for (const [name, value] of h.jar) cold.jar.set(name, value);
    for (let i = 0; i < 3; i++) expect((await cold.request('/api/4.0/user')).status).toBe(200);
    const lines = cold.requestLogs().filter((l) => l.route === '/api/*');
    expect(lines.map((l) => l.kvReads)).toEqual([1, 0, 0]);
    expect(lines.map((l) => l.kvWrites)).toEqual([0, 0, 0]);
  });
});

describe('refresh', () => {
  it('refreshes when under a minute is left, before forwarding', async () => {
    const h = await signedIn();
    h.clock.advance(3600 - 59);
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(200);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    const line = h.requestLogs().at(-1)!;
    expect(line.refreshed).toBe(true);
    // The refreshed grant goes to the person's ledger, not to KV.
    expect(line.kvWrites).toBe(0);
  });

  it('single-flight: N concurrent requests on an expiring session make one token call', async () => {
    const h = await signedIn({ sim: { refreshTokenMode: 'rotate' } });
    h.clock.advance(3600);
    const results = await Promise.all(Array.from({ length: 20 }, () => h.request('/api/4.0/user')));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
  });

  it('401 from Looker for a token believed valid: refresh once and retry (no body)', async () => {
    const h = await signedIn({ sim: { refreshTokenMode: 'rotate' } });
    const first = await h.request('/api/4.0/user');
    expect(first.status).toBe(200);
    h.sim.revokeAccessToken(h.lastAccessToken());
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(200);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
    const calls = h.upstream.filter((r) => r.url.includes('/api/4.0/user'));
    expect(calls).toHaveLength(3);
    expect(calls[2]!.headers.get('authorization')).not.toBe(calls[1]!.headers.get('authorization'));
  });

  it('401 for a small buffered body: the retry sends the same body', async () => {
    const h = await signedInWithRevokedToken();
    const body = JSON.stringify({ title: 'x'.repeat(1000) });
    const res = await h.request('/api/4.0/echo/looks', { method: 'POST', body, headers: { origin: GATEWAY, 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Echo).bodyBytes).toBe(body.length);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(1);
  });

  it('401 for a small streamed body of undeclared length: buffered, so retried', async () => {
    const h = await signedInWithRevokedToken();
    const stream = streamOf(1000, 1000);
    const res = await h.request('/api/4.0/echo/upload', { method: 'PUT', body: stream, headers: { origin: GATEWAY }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Echo).bodyBytes).toBe(2000);
  });

  it('401 for a streamed body larger than the replay limit: the 401 is returned, not retried', async () => {
    const h = await signedInWithRevokedToken();
    const stream = streamOf(40 * 1024, 40 * 1024);
    const res = await h.request('/api/4.0/echo/upload', { method: 'POST', body: stream, headers: { origin: GATEWAY }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(401);
    expect(h.sim.stats.tokenRequests.refresh_token).toBe(0);
  });

  it('a refused refresh (invalid_grant) ends the session: KV entry gone, cookie cleared, 401 JSON', async () => {
    const h = await signedIn();
    h.sim.revokeAllTokens();
    h.clock.advance(3600);
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ login_url: `${GATEWAY}/login` });
    expect(res.headers.getSetCookie().some((c) => /^__Host-lgw_session=;.*max-age=0/i.test(c))).toBe(true);
    expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'))).toEqual([]);
  });

  it('revoked before expiry, and the refresh refused too: 401 JSON and the session is gone', async () => {
    const h = await signedIn();
    h.sim.revokeAllTokens();
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(401);
    expect([...(await dumpKv(h.kv)).keys()].filter((k) => k.startsWith('session:'))).toEqual([]);
  });
});

describe('failures', () => {
  it('Looker unreachable → 502 JSON; the session stays', async () => {
    const h = await signedIn();
    h.sim.faults.unreachable = true;
    const res = await h.request('/api/4.0/user');
    expect(res.status).toBe(502);
    const body = (await res.json()) as Record<string, string>;
    expect(body.message).toContain('could not be reached');
    expect(body.requestId).toMatch(/[0-9a-f-]{36}/);
    h.sim.faults.unreachable = false;
    expect((await h.request('/api/4.0/user')).status).toBe(200);
    const failures = h.logs.filter((l) => l.includes('api_upstream_failed'));
    expect(failures).toHaveLength(1);
    expect(JSON.parse(failures[0]!)).toMatchObject({ status: 502, cause: 'LookerUnavailableError', route: '/api/*' });
  });

  it('no response headers within UPSTREAM_TIMEOUT_MS → 504 JSON; the session stays', async () => {
    const h = await signedIn({ vars: { UPSTREAM_TIMEOUT_MS: '100' } });
    const res = await h.request('/api/4.0/slow?ms=1000');
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ message: 'Looker did not start answering within 100 ms' });
    expect((await h.request('/api/4.0/slow?ms=10')).status).toBe(200);
  });

  it('an answer that starts in time may stream for longer than the timeout', async () => {
    const h = await signedIn({ vars: { UPSTREAM_TIMEOUT_MS: '100' } });
    let release!: () => void;
    h.sim.hooks.downloadGate = new Promise((r) => (release = r));
    const res = await h.request('/api/4.0/stream_probe');
    expect(res.status).toBe(200);
    setTimeout(release, 300);
    expect(await res.text()).toBe('first;second');
  });

  it('Looker 5xx is passed through as Looker sent it', async () => {
    const h = await signedIn();
    h.sim.faults.api = 'down';
    const res = await h.request('/api/4.0/looks');
    expect(res.status).toBe(503);
  });

  for (const method of ['PROPFIND', 'MKCOL', 'REPORT']) {
    it(`unsupported method ${method} → 405 JSON with Allow, never forwarded`, async () => {
      const h = await signedIn();
      const res = await h.request('/api/4.0/looks', { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('allow')).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
      expect(await res.json()).toEqual({ message: `Method ${method} is not supported by the Looker API` });
      expect(h.upstream).toEqual([]);
    });
  }
});

describe('streaming', () => {
  it('delivers the first chunk of a download before Looker has sent the rest', async () => {
    const h = await signedIn();
    let release!: () => void;
    h.sim.hooks.downloadGate = new Promise((r) => (release = r));
    const res = await h.request('/api/4.0/stream_probe');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first;');
    release();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('second');
  });

  it('Looker reads the first chunk of an upload before the caller has sent the rest', async () => {
    const h = await signedIn();
    let firstArrived!: () => void;
    const arrived = new Promise<void>((r) => (firstArrived = r));
    h.sim.hooks.onUploadChunk = (bytes) => {
      if (bytes > 0) firstArrived();
    };
    const chunk = new Uint8Array(128 * 1024);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(chunk);
        await arrived; // would deadlock if the gateway buffered the body
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await h.request('/api/4.0/upload_probe', { method: 'POST', body, headers: { origin: GATEWAY }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: 256 * 1024 });
  });

  it('passes a 64 MiB download through intact with its content-length', async () => {
    const h = await signedIn();
    const res = await h.request('/api/4.0/download?bytes=67108864');
    expect(res.headers.get('content-length')).toBe('67108864');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="download.csv"');
    let total = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    expect(total).toBe(67108864);
  });
});

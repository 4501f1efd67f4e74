/**
 * The header and path policies of the gateway on Deno, through real HTTP to `deno serve`:
 * the tables the workerd tests hold the app to (test/policy-cases.ts), sent as a hostile
 * client would write them (test/e2e/raw-http.ts: paths byte for byte, hop-by-hop headers).
 * What reached Looker is read from the simulator's echo, and whether a request was
 * forwarded at all from the gateway's own log line for it (`upstreamStatus`). Every answer
 * is kept, and the last test holds them all to the rule Deno Deploy needs: `private` or
 * `no-store`, except the few deliberately public files.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Person } from '../node/person.ts';
import {
  csrfCallers,
  DROPPED_RESPONSE_HEADERS,
  END_TO_END_REQUEST_HEADERS,
  expectedCsp,
  HOP_BY_HOP_AND_CALLER_HEADERS,
  HOSTILE_API_PATHS,
  KEPT_RESPONSE_HEADERS,
  LOOKER_AUTH_ENDPOINTS,
  NEVER_FORWARDED_REQUEST_HEADERS,
  NON_PAGE_PATHS,
  PAGE_SECURITY_HEADERS,
  statelessPages,
} from '../policy-cases.ts';
import { DENO_ALLOWED_ORIGIN, denoGateway, type DevGateway, eventually, haveDeno, type LogLine } from './harness.ts';
import { type RawAnswer, type RawRequest, rawRequest } from './raw-http.ts';

/** The files the gateway serves to anyone, which may be kept by any cache. */
const PUBLIC_FILES = new Set(['/cli.mjs', '/assets/style.css', '/assets/favicon.svg', '/favicon.ico']);

type Echo = { method: string; path: string; search: string; headers: Record<string, string>; bodyBytes: number };

describe.skipIf(!haveDeno)('the gateway on Deno: header and path policies through real HTTP (the tables of test/policy-cases.ts)', () => {
  let gateway: DevGateway;
  /** The browser session's cookie, as a Cookie header. */
  let session: string;
  const answers: RawAnswer[] = [];

  beforeAll(async () => {
    gateway = denoGateway();
    const person = new Person();
    const home = await person.submit(await person.open(`${gateway.url}/login`), 'Allow');
    expect(home.body).toContain('Signed in to Looker');
    const value = person.cookie(gateway.url, '__Host-lgw_session');
    if (value === undefined) throw new Error('No session cookie after the sign-in');
    session = `__Host-lgw_session=${value}`;
  });

  async function send(path: string, init: RawRequest = {}): Promise<RawAnswer> {
    const answer = await rawRequest(gateway.url, path, init);
    answers.push(answer);
    return answer;
  }
  const withSession = (path: string, init: RawRequest = {}) => send(path, { ...init, headers: { cookie: session, ...init.headers } });

  /** The gateway's log line for each request (its log may trail the answers a little). */
  async function logLinesOf(sent: RawAnswer[]): Promise<LogLine[]> {
    return eventually('a request log line for each request', () => {
      const byId = new Map(gateway.events('request').map((line) => [line.requestId, line]));
      const lines = sent.map((answer) => byId.get(answer.requestId));
      return lines.every((line) => line !== undefined) ? (lines as LogLine[]) : undefined;
    });
  }
  /** Whether each request reached Looker: its log line says what Looker answered only if it was forwarded. */
  const forwarded = async (sent: RawAnswer[]) => (await logLinesOf(sent)).map((line) => line.upstreamStatus !== undefined);
  const json = (answer: RawAnswer) => JSON.parse(answer.body) as Record<string, unknown>;

  it('a legal path is forwarded byte for byte (so the log can tell what was forwarded)', async () => {
    const path = '/api/4.0/echo/a%40b%20%C3%A9/100%25?q=%7E%2F&login=1';
    const answer = await withSession(path);
    expect(answer.status).toBe(200);
    expect(json(answer)).toMatchObject({ path: '/api/4.0/echo/a%40b%20%C3%A9/100%25', search: '?q=%7E%2F&login=1' });
    expect(await forwarded([answer])).toEqual([true]);
  });

  it('paths that must never leave LOOKER_API_URL/api/: 400 or 404, never forwarded', async () => {
    const sent = [];
    for (const path of HOSTILE_API_PATHS) sent.push(await withSession(path));
    expect(sent.map((a) => [a.path, [400, 404].includes(a.status)])).toEqual(HOSTILE_API_PATHS.map((path) => [path, true]));
    expect(await forwarded(sent)).toEqual(HOSTILE_API_PATHS.map(() => false));
  });

  it("Looker's own sign-in endpoints are not proxied: 404 JSON pointing to the gateway's /login and /logout", async () => {
    const sent = [];
    for (const [method, path] of LOOKER_AUTH_ENDPOINTS) sent.push(await withSession(path, { method, headers: { origin: gateway.url } }));
    for (const answer of sent) {
      expect(answer.status, `${answer.method} ${answer.path}`).toBe(404);
      expect(json(answer)).toMatchObject({ login_url: `${gateway.url}/login`, logout_url: `${gateway.url}/logout` });
    }
    expect(await forwarded(sent)).toEqual(LOOKER_AUTH_ENDPOINTS.map(() => false));
  });

  it('Looker receives the end-to-end request headers, and none of the hop-by-hop, cookie or caller ones', async () => {
    const answer = await send('/api/4.0/echo/headers', {
      headers: { ...END_TO_END_REQUEST_HEADERS, ...HOP_BY_HOP_AND_CALLER_HEADERS, referer: `${gateway.url}/`, cookie: `other=1; ${session}` },
    });
    expect(answer.status).toBe(200);
    const { headers } = json(answer) as unknown as Echo;
    expect(headers).toMatchObject(END_TO_END_REQUEST_HEADERS);
    expect(headers.authorization).toMatch(/^Bearer /);
    expect(headers.authorization).not.toContain(session.split('=')[1]);
    expect(NEVER_FORWARDED_REQUEST_HEADERS.filter((name) => headers[name] !== undefined)).toEqual([]);
  });

  it("the caller gets Looker's answer headers, but not its Set-Cookie, hop-by-hop or CORS headers", async () => {
    const answer = await withSession('/api/4.0/response_headers');
    expect(answer.status).toBe(200);
    for (const [name, value] of Object.entries(KEPT_RESPONSE_HEADERS)) expect(answer.headers[name], name).toBe(value);
    expect(DROPPED_RESPONSE_HEADERS.filter((name) => answer.headers[name] !== undefined)).toEqual([]);
    expect(answer.body).toBe('{"ok":true}');
  });

  it('cookie-authenticated unsafe requests: allowed from the gateway, an ALLOWED_ORIGINS origin or a script; refused (403 JSON, never forwarded) from anywhere else', async () => {
    const { allowed, refused } = csrfCallers(gateway.url, DENO_ALLOWED_ORIGIN);
    const body = '{"a":1}';
    const sentAllowed = [];
    const sentRefused = [];
    // Every caller with POST; the other unsafe methods with the first caller of each kind (workerd's test takes every pair).
    const unsafe = (method: string, headers: Readonly<Record<string, string>>) =>
      withSession('/api/4.0/echo/csrf', { method, body, headers: { ...headers, 'content-type': 'application/json' } });
    for (const [, headers] of allowed) sentAllowed.push(await unsafe('POST', headers));
    for (const [, headers] of refused) sentRefused.push(await unsafe('POST', headers));
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      sentAllowed.push(await unsafe(method, allowed[0]![1]));
      sentRefused.push(await unsafe(method, refused[0]![1]));
    }
    expect(sentAllowed.map((a) => a.status)).toEqual(sentAllowed.map(() => 200));
    expect(sentAllowed.map((a) => (json(a) as unknown as Echo).bodyBytes)).toEqual(sentAllowed.map(() => body.length));
    expect(sentRefused.map((a) => a.status)).toEqual(sentRefused.map(() => 403));
    for (const answer of sentRefused) expect(json(answer).message, answer.method).toContain('refused');
    expect(await forwarded(sentRefused)).toEqual(sentRefused.map(() => false));

    // Another site's navigation to the API (a link, a top-level form GET) carries the Lax cookie: refused too.
    const navigation = await withSession('/api/4.0/user', { headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'cross-site' } });
    expect(navigation.status).toBe(403);
    expect(await forwarded([navigation])).toEqual([false]);
    // A safe request from another origin is answered (the browser keeps it from that origin without a CORS grant).
    const read = await withSession('/api/4.0/user?fields=id', { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' } });
    expect({ status: read.status, body: json(read), grant: read.headers['access-control-allow-origin'] }).toEqual({ status: 200, body: { id: '42' }, grant: undefined });
  });

  it('CORS: a preflight from the ALLOWED_ORIGINS origin is granted with credentials, one from elsewhere is not; neither is forwarded', async () => {
    const granted = await send('/api/4.0/looks', { method: 'OPTIONS', headers: { origin: DENO_ALLOWED_ORIGIN, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'content-type' } });
    expect(granted.status).toBe(204);
    expect(granted.headers).toMatchObject({ 'access-control-allow-origin': DENO_ALLOWED_ORIGIN, 'access-control-allow-credentials': 'true' });
    const other = await send('/api/4.0/looks', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PATCH' } });
    expect(other.status).toBe(204);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(await forwarded([granted, other])).toEqual([false, false]);
  });

  it('every HTML page carries the security headers and a CSP whose form-action names exactly where its forms lead', async () => {
    const pages = [
      ...statelessPages(gateway.url).map((page) => ({ ...page, formTargets: page.formToLooker ? [gateway.simUrl] : [], cookie: undefined })),
      { name: 'home, signed in', method: 'GET', path: '/', status: 200, shows: 'Signed in to Looker', formTargets: [], cookie: session },
      { name: 'Your access', method: 'GET', path: '/access', status: 200, shows: 'Your access', formTargets: [gateway.simUrl], cookie: session },
    ];
    for (const page of pages) {
      const answer = await send(page.path, {
        method: page.method,
        headers: { ...('headers' in page ? page.headers : {}), ...(page.cookie === undefined ? {} : { cookie: page.cookie }) },
        ...('body' in page && page.body !== undefined ? { body: page.body } : {}),
      });
      const label = `${page.status} ${page.name}`;
      expect(answer.status, label).toBe(page.status);
      expect(answer.headers['content-type'], label).toMatch(/^text\/html/);
      expect(answer.body, label).toContain(page.shows);
      expect(answer.headers['content-security-policy'], label).toBe(expectedCsp(page.formTargets));
      for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) {
        if (typeof value === 'string') expect(answer.headers[name], `${label}: ${name}`).toBe(value);
        else expect(answer.headers[name], `${label}: ${name}`).toMatch(value);
      }
    }
    for (const path of NON_PAGE_PATHS) {
      const answer = await send(path);
      expect(answer.headers['content-security-policy'], path).toBe(expectedCsp([]));
      expect(answer.headers['x-frame-options'], path).toBe('DENY');
      expect(answer.headers['referrer-policy'], path).toBe('same-origin');
    }
  });

  it('a Host header that is no host name is refused with 400: Deno builds the URL from it as sent', async () => {
    const before = gateway.output().length;
    // A space makes no URL at all; a "/" in it would make another path (/api/4.0/user), and a query of it another query.
    const noUrl = await send('/callback?code=deno-e2e-not-a-code&state=x', { headers: { host: 'gateway example' } });
    const otherPath = await withSession('/user', { headers: { host: `${new URL(gateway.url).host}/api/4.0` } });
    const otherQuery = await withSession('/api/4.0/user', { headers: { host: `${new URL(gateway.url).host}?fields=id` } });
    for (const answer of [noUrl, otherPath, otherQuery]) {
      expect({ status: answer.status, type: answer.headers['content-type'], message: json(answer).message }, answer.path).toEqual({
        status: 400,
        type: 'application/json',
        message: expect.stringContaining('Host'),
      });
    }
    // Nothing was thrown (Deno would print the error, with the URL and its query) and the app saw none of them:
    // the log line of a request sent after them is there, and none of theirs is.
    await logLinesOf([await send('/healthz')]);
    expect(gateway.output().slice(before)).not.toContain('deno-e2e-not-a-code');
    expect(gateway.events('request').filter((line) => [noUrl, otherPath, otherQuery].some((a) => a.requestId === line.requestId))).toEqual([]);
  });

  it("every answer says who may keep it: private or no-store, Looker's public made private; only the public files are public", async () => {
    // A few more kinds of answer: Looker's own "public", HEAD, 304, a wrong method, no session, plain http for another host, the other public files.
    const lookerPublic = await withSession('/api/4.0/public_answer');
    expect({ status: lookerPublic.status, cacheControl: lookerPublic.headers['cache-control'] }).toEqual({ status: 200, cacheControl: 'private, max-age=600' });
    expect((await withSession('/api/4.0/user', { method: 'HEAD' })).status).toBe(200);
    expect((await withSession('/api/4.0/dashboards/1', { headers: { 'if-none-match': '"d1"' } })).status).toBe(304);
    expect((await withSession('/api/4.0/looks', { method: 'PROPFIND' })).status).toBe(405);
    expect((await send('/api/4.0/user')).status).toBe(401);
    expect((await send('/', { headers: { host: 'gateway.example' } })).status).toBe(308);
    for (const path of ['/assets/favicon.svg', '/favicon.ico']) expect((await send(path)).status).toBe(200);

    const kept = answers.map((a) => ({ answer: `${a.status} ${a.method} ${a.path}`, cacheControl: a.headers['cache-control'] }));
    const isPublic = (a: RawAnswer) => a.status === 200 && PUBLIC_FILES.has(a.path);
    expect(answers.filter(isPublic).map((a) => a.path).sort()).toEqual([...PUBLIC_FILES].sort());
    expect(kept.filter((_, i) => isPublic(answers[i]!)).filter((a) => !/^public, max-age=\d+$/.test(a.cacheControl ?? ''))).toEqual([]);
    expect(kept.filter((_, i) => !isPublic(answers[i]!)).filter((a) => !/\b(private|no-store)\b/.test(a.cacheControl ?? ''))).toEqual([]);
    expect(answers.length).toBeGreaterThan(60);
  });
});

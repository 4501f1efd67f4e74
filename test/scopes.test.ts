/**
 * A grant's scope on /api/*: a read-only credential (`scope=looker:read`) reads, and runs
 * the queries reading needs, but every call that needs `looker:write` — a change, or SQL
 * Runner, however the path is spelled — is answered 403 by the gateway and never reaches
 * Looker. A full credential, a browser session, and a grant stored before grants had a
 * scope may do everything (Looker's own permissions still decide).
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { open, seal, Sealer } from '../src/crypto/seal.ts';
import { TokenMinter } from '../src/crypto/tokens.ts';
import type { GrantEntry } from '../src/grants/ledger.ts';
import { grantStorageKey } from '../src/grants/record.ts';
import { bearerRequest, cliLogin, cliRequest, createHarness, GATEWAY, type Harness, LOOKER_API, SESSION_SECRET, sdkLogin } from './helpers.ts';

const JSON_BODY = { 'content-type': 'application/json' };
const QUERY = { model: 'demo', view: 'orders', fields: ['orders.status', 'orders.count'] };

async function scripted(scope?: string, h: Harness = createHarness()) {
  const { credential } = await cliLogin(h, { name: 'report', ...(scope === undefined ? {} : { scope }) });
  const token = await sdkLogin(h, credential.client_id, credential.client_secret);
  return { h, credential, token };
}

/** Calls that need looker:write, each in spellings that must all be judged alike. */
const WRITES: [method: string, path: string][] = [
  ['PATCH', '/api/4.0/looks/1'],
  ['POST', '/api/4.0/looks'],
  ['DELETE', '/api/4.0/looks/1'],
  ['PUT', '/api/4.0/dashboards/1'],
  ['GET', '/api/4.0/sql_queries/abc'],
  ['HEAD', '/api/4.0/sql_queries/abc'],
  ['POST', '/api/4.0/sql_queries'],
  ['POST', '/api/4.0/sql_queries/abc/run/json'],
  // Upper and mixed case, another API version, no version, non-ASCII that folds to ASCII.
  ['PATCH', '/api/4.0/LOOKS/1'],
  ['PATCH', '/api/3.1/looks/1'],
  ['POST', '/api/4.0/SQL_Queries'],
  ['GET', '/api/3.1/sql_queries/abc'],
  ['GET', '/api/sql_queries/abc'],
  ['POST', '/api/4.0/%EF%BD%93ql_queries'], // full-width "ｓ" (NFKC: s)
  ['PATCH', '/api/4.0/loo%E2%84%AAs/1'], // Kelvin sign "K" (folds to k)
  ['GET', '/api/4.0/%EF%BC%B3%EF%BC%B1%EF%BC%AC_queries/abc'], // full-width "ＳＱＬ"
  // Reading's writes, but not as reading does them.
  ['PATCH', '/api/4.0/queries/1'],
  ['POST', '/api/4.0/queries/1/run/json'],
  ['DELETE', '/api/4.0/query_tasks/1'],
];

describe('a read-only credential', () => {
  it('is issued as such: /cli/token and /cli/credential say looker:read', async () => {
    const { h, credential, token } = await scripted('looker:read');
    expect(credential.scope).toBe('looker:read');
    const status = await bearerRequest(h, token, '/cli/credential');
    expect(await status.json()).toMatchObject({ scope: 'looker:read' });
  });

  it('reads (GET, HEAD) and runs queries (POST /queries, /queries/run/json): Looker answers', async () => {
    const { h, token } = await scripted('looker:read');
    const me = await bearerRequest(h, token, '/api/4.0/user');
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: '42' });
    expect((await bearerRequest(h, token, '/api/4.0/user', { method: 'HEAD' })).status).toBe(200);
    const created = await bearerRequest(h, token, '/api/4.0/queries', { method: 'POST', headers: JSON_BODY, body: JSON.stringify(QUERY) });
    expect(created.status, await created.clone().text()).toBe(200);
    const { id } = (await created.json()) as { id: string };
    expect((await bearerRequest(h, token, `/api/4.0/queries/${id}/run/json`)).status).toBe(200);
    const ran = await bearerRequest(h, token, '/api/4.0/queries/run/json', { method: 'POST', headers: JSON_BODY, body: JSON.stringify(QUERY) });
    expect(ran.status, await ran.clone().text()).toBe(200);
    expect(Array.isArray(await ran.json())).toBe(true);
  });

  it('gets 403 naming looker:write for every change and any SQL Runner call, however spelled; Looker sees none of them', async () => {
    const { h, token } = await scripted('looker:read');
    const before = h.upstream.length;
    for (const [method, path] of WRITES) {
      const res = await bearerRequest(h, token, path, method === 'GET' || method === 'HEAD' ? { method } : { method, headers: JSON_BODY, body: '{"title":"x"}' });
      expect(res.status, `${method} ${path}`).toBe(403);
      if (method === 'HEAD') continue;
      const body = (await res.json()) as { message: string; required_scope: string };
      expect(body.required_scope, `${method} ${path}`).toBe('looker:write');
      expect(body.message).toContain(method);
      expect(body.message).toContain('read-only');
    }
    expect(h.upstream.slice(before).map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([]);
    expect(h.requestLogs().at(-1)).toMatchObject({ caller: 'token', status: 403 });
  });

  it('an ambiguous spelling is still refused as such (400), before any scope is judged', async () => {
    const { h, token } = await scripted('looker:read');
    const before = h.upstream.length;
    for (const path of ['/api/4.0/sql%5Fqueries', '/api/4.0/%6Cooks/1', '/api/4.0/looks;x/1']) {
      expect((await bearerRequest(h, token, path, { method: 'PATCH', headers: JSON_BODY, body: '{}' })).status, path).toBe(400);
    }
    expect(h.upstream.length).toBe(before);
  });
});

describe('full access is unchanged', () => {
  it('a credential without a scope (as before) or with looker:write reaches Looker with every method', async () => {
    const h = createHarness();
    for (const scope of [undefined, 'looker:write', 'looker:read looker:write']) {
      const { credential, token } = await scripted(scope, h);
      expect(credential.scope).toBe('looker:read looker:write');
      for (const method of ['PATCH', 'POST', 'DELETE']) {
        const res = await bearerRequest(h, token, '/api/4.0/echo/looks/1', { method, headers: JSON_BODY, body: '{}' });
        expect(res.status, `${scope} ${method}`).toBe(200);
      }
      expect(await (await bearerRequest(h, token, '/cli/credential')).json()).toMatchObject({ scope: 'looker:read looker:write' });
    }
  });

  it("a browser session is the person themself: it may write", async () => {
    const h = createHarness();
    await h.signIn();
    const res = await h.request('/api/4.0/echo/looks/1', { method: 'PATCH', headers: { origin: GATEWAY, ...JSON_BODY }, body: '{}' });
    expect(res.status).toBe(200);
  });

  it('an unknown scope is refused: invalid_scope (loopback: 400 page; device: 400 JSON)', async () => {
    const h = createHarness();
    const authorize = await h.request((await cliRequest({ scope: 'looker:admin' })).authorizePath);
    expect(authorize.status).toBe(400);
    expect(await authorize.text()).toContain('invalid_scope');
    const device = await h.request('/cli/device/code', {
      method: 'POST',
      withCookies: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'x', scope: 'looker:read admin' }).toString(),
    });
    expect(device.status).toBe(400);
    expect(await device.json()).toMatchObject({ error: 'invalid_scope' });
  });
});

describe('a grant stored before grants had a scope', () => {
  it('reads as write: a record without a scope (in the ledger and in its sealed copy) may change data', async () => {
    // A read-only credential, then its stored grant rewritten as a gateway from before scopes wrote it.
    const { h, credential } = await scripted('looker:read');
    const personKey = new TokenMinter(SESSION_SECRET).personKeyFor(LOOKER_API, '42');
    const secret = new TokenMinter(SESSION_SECRET).parse('client-secret', credential.client_secret)!.secret;
    const key = await new Sealer(SESSION_SECRET).keyFor('credential-grant', secret);
    const namespace = (env as unknown as { ACCOUNTS: DurableObjectNamespace }).ACCOUNTS;
    const stub = namespace.get(namespace.idFromName(`${h.ledgerNamePrefix}person:${personKey}`));
    const rewritten = await runInDurableObject(stub, async (_instance, state) => {
      const grants = await state.storage.list<GrantEntry>({ prefix: 'grant:' });
      const [storageKey, entry] = [...grants].find(([, e]) => e.clientId === credential.client_id)!;
      const text = await open(key, grantStorageKey(entry.grantId, entry.version), entry.sealed);
      const { scope, ...old } = JSON.parse(text!) as Record<string, unknown>;
      expect(scope).toBe('read');
      const { scope: entryScope, ...oldEntry } = entry;
      expect(entryScope).toBe('read');
      await state.storage.put(storageKey, { ...oldEntry, sealed: await seal(key, grantStorageKey(entry.grantId, entry.version), JSON.stringify(old)) });
      return true;
    });
    expect(rewritten).toBe(true);
    // Another instance (nothing in its memory) reads the stored records.
    const other = createHarness(h.share());
    const token = await sdkLogin(other, credential.client_id, credential.client_secret);
    const res = await bearerRequest(other, token, '/api/4.0/echo/looks/1', { method: 'PATCH', headers: JSON_BODY, body: '{}' });
    expect(res.status).toBe(200);
    expect(await (await bearerRequest(other, token, '/cli/credential')).json()).toMatchObject({ scope: 'looker:read looker:write' });
    other.jar.clear();
    await other.signIn();
    const access = await other.request('/access');
    expect(await access.text()).toContain('read and write');
  });
});

/**
 * "Your access": every browser session and script credential that acts as the signed-in
 * person, each revocable; "sign out everywhere"; a new credential made from the page. It
 * shows and touches this person's things only, and its forms act only when sent from the
 * gateway's own pages.
 */
import { describe, expect, it } from 'vitest';
import {
  answerConsent,
  bearerRequest,
  browserToConsent,
  cliLogin,
  type CliCredential,
  createHarness,
  GATEWAY,
  type Harness,
  sdkLogin,
  sdkLoginResponse,
} from './helpers.ts';

const DANA = { id: '42', display_name: 'Dana Demo', email: 'dana.demo@example.com' };
const SAM = { id: '7', display_name: 'Sam Other', email: 'sam@example.com' };
const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SAME_ORIGIN = { ...FORM, origin: GATEWAY };

type Jar = Map<string, string>;

/** Makes the harness's browser this one (its cookies); what it sets from now on lands in this jar. */
function use(h: Harness, jar: Jar): void {
  h.jar.clear();
  for (const [k, v] of jar) h.jar.set(k, v);
}

/** A fresh browser signed in as whoever Looker has signed in, with this User-Agent. */
async function browser(h: Harness, userAgent: string): Promise<Jar> {
  h.jar.clear();
  const { path } = await h.startSignIn();
  const res = await h.request(path, { headers: { 'user-agent': userAgent } });
  expect(res.status).toBe(303);
  return new Map(h.jar);
}

/** The Looker access token Looker issued last. */
const lastLookerToken = (h: Harness) => h.tokenResponses.at(-1)!.access_token as string;

interface Row {
  cells: string[];
  grantId: string;
}

/** The rows of one of the page's tables: cell texts (tags stripped) and the grant id its Revoke form names. */
function rows(html: string, tableId: 'sessions' | 'credentials'): Row[] {
  const table = new RegExp(`<table id="${tableId}">([\\s\\S]*?)</table>`).exec(html);
  if (table === null) return [];
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table[1]!)![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) => ({
    cells: [...row!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map(([, cell]) => cell!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()),
    grantId: /name="grant" value="([^"]+)"/.exec(row!)![1]!,
  }));
}

async function accessPage(h: Harness): Promise<{ html: string; sessions: Row[]; credentials: Row[] }> {
  const res = await h.request('/access');
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const html = await res.text();
  return { html, sessions: rows(html, 'sessions'), credentials: rows(html, 'credentials') };
}

const post = (h: Harness, path: string, fields: Record<string, string>, headers: Record<string, string> = SAME_ORIGIN) =>
  h.request(path, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });

const signedIn = async (h: Harness, jar: Jar): Promise<boolean> => {
  use(h, jar);
  const html = await (await h.request('/')).text();
  return !html.includes('Sign in with Looker');
};

/**
 * Dana with two browsers (Chrome on Linux, Firefox on Windows) and a credential; Sam with
 * a browser (Safari on macOS) and a credential. The harness ends in Dana's Chrome.
 */
async function twoPeople() {
  const h = createHarness({ sim: { users: [DANA, SAM] } });
  const danaChrome = await browser(h, CHROME_LINUX);
  const danaChromeLooker = lastLookerToken(h);
  // The page lists oldest first.
  h.clock.advance(1);
  const danaFirefox = await browser(h, FIREFOX_WINDOWS);
  const danaFirefoxLooker = lastLookerToken(h);
  h.clock.advance(1);
  const danaCredential = (await cliLogin(h, { name: 'nightly export' })).credential;
  const danaCredentialLooker = lastLookerToken(h);
  h.sim.signInAs(SAM.id);
  await browser(h, SAFARI_MAC);
  const samCredential = (await cliLogin(h, { name: 'sams script' })).credential;
  const samJar = new Map(h.jar);
  h.sim.signInAs(DANA.id);
  use(h, danaChrome);
  return { h, danaChrome, danaChromeLooker, danaFirefox, danaFirefoxLooker, danaCredential, danaCredentialLooker, sam: samJar, samCredential };
}

const works = async (h: Harness, credential: CliCredential) => (await sdkLoginResponse(h, credential.client_id, credential.client_secret)).status === 200;

describe('the access page lists', () => {
  it("this person's browser sessions (this browser marked) and credentials, and nothing of another person's", async () => {
    const { h, danaCredential, samCredential } = await twoPeople();
    const created = h.clock.ms;
    h.clock.advance(120);
    // Used two minutes after it was made: "last used" moves.
    await sdkLogin(h, danaCredential.client_id, danaCredential.client_secret);
    const { html, sessions, credentials } = await accessPage(h);

    expect(html).toContain('Dana Demo');
    expect(sessions.map((s) => s.cells[0])).toEqual(['Chrome on Linux this browser', 'Firefox on Windows']);
    const day = (ms: number) => `${new Date(ms).toISOString().slice(0, 10)} ${new Date(ms).toISOString().slice(11, 16)} UTC`;
    // This browser was last seen now, loading this page; the other at its sign-in.
    expect(sessions[0]!.cells.slice(1, 4)).toEqual([day(created), day(created + 120_000), day(created + 30 * 24 * 3600 * 1000)]);
    expect(sessions[1]!.cells.slice(1, 3)).toEqual([day(created), day(created)]);
    expect(credentials).toHaveLength(1);
    // The name with its client_id beneath it, what it may do, then the dates.
    expect(credentials[0]!.cells.slice(0, 5)).toEqual([
      `nightly export ${danaCredential.client_id}`,
      'read and write',
      day(created),
      day(created + 120_000),
      day(Date.parse(danaCredential.expires_at)),
    ]);
    expect(new Set([...sessions, ...credentials].map((r) => r.grantId)).size).toBe(3);

    // Nothing of Sam's.
    expect(html).not.toContain('Sam Other');
    expect(html).not.toContain('Safari');
    expect(html).not.toContain('sams script');
    expect(html).not.toContain(samCredential.client_id);
    // And never a secret.
    expect(html).not.toContain(danaCredential.client_secret);
  });

  it('a credential never used says so; a person with no credentials is told how to make one', async () => {
    const h = createHarness();
    await h.signIn();
    expect((await accessPage(h)).html).toContain('id="no-credentials"');
    await cliLogin(h, { name: 'fresh' });
    const { credentials, html } = await accessPage(h);
    expect(credentials[0]!.cells[3]).toBe('never');
    expect(html).not.toContain('id="no-credentials"');
  });

  it('names are shown as text', async () => {
    const h = createHarness();
    await h.signIn();
    await cliLogin(h, { name: '<img src=x onerror=alert(1)>' });
    const { html, credentials } = await accessPage(h);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(credentials).toHaveLength(1);
  });

  it('signed out, /access sends the browser to sign in and back', async () => {
    const h = createHarness();
    const res = await h.request('/access');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?return_to=%2Faccess');
    const signIn = await h.signIn('/access');
    expect(signIn.headers.get('location')).toBe('/access');
  });
});

describe('revoking one', () => {
  it('another browser of mine: gone from the list, its Looker token revoked, that browser signed out; nothing else touched', async () => {
    const { h, danaChrome, danaChromeLooker, danaFirefox, danaFirefoxLooker, danaCredential, sam } = await twoPeople();
    const firefox = (await accessPage(h)).sessions.find((s) => s.cells[0]!.startsWith('Firefox'))!;
    const res = await post(h, '/access/revoke', { grant: firefox.grantId });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/access');
    expect((await accessPage(h)).sessions.map((s) => s.cells[0])).toEqual(['Chrome on Linux this browser']);
    expect(h.sim.hasAccessToken(danaFirefoxLooker)).toBe(false);
    expect(h.sim.hasAccessToken(danaChromeLooker)).toBe(true);
    expect(await signedIn(h, danaFirefox)).toBe(false);
    expect(await signedIn(h, danaChrome)).toBe(true);
    expect(await works(h, danaCredential)).toBe(true);
    expect(await signedIn(h, sam)).toBe(true);
  });

  it("a credential: gone, its Looker token revoked, its tokens 401, the person's browsers untouched", async () => {
    const { h, danaChromeLooker, danaCredential, danaCredentialLooker, samCredential } = await twoPeople();
    const token = await sdkLogin(h, danaCredential.client_id, danaCredential.client_secret);
    const [row] = (await accessPage(h)).credentials;
    expect((await post(h, '/access/revoke', { grant: row!.grantId })).status).toBe(303);
    const after = await accessPage(h);
    expect(after.credentials).toEqual([]);
    expect(after.sessions).toHaveLength(2);
    expect(h.sim.hasAccessToken(danaCredentialLooker)).toBe(false);
    expect(h.sim.hasAccessToken(danaChromeLooker)).toBe(true);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(401);
    expect(await works(h, danaCredential)).toBe(false);
    expect(await works(h, samCredential)).toBe(true);
  });

  it('this browser: signed out here, sent home', async () => {
    const { h, danaChrome, danaChromeLooker, danaFirefox } = await twoPeople();
    const mine = (await accessPage(h)).sessions.find((s) => s.cells[0]!.includes('this browser'))!;
    const res = await post(h, '/access/revoke', { grant: mine.grantId });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(h.jar.has('__Host-lgw_session')).toBe(false);
    expect(h.sim.hasAccessToken(danaChromeLooker)).toBe(false);
    expect(await signedIn(h, danaChrome)).toBe(false);
    expect(await signedIn(h, danaFirefox)).toBe(true);
  });

  it("another person's grant id does nothing", async () => {
    const { h, danaChrome, sam, samCredential } = await twoPeople();
    use(h, sam);
    const samsPage = await accessPage(h);
    const samsIds = [...samsPage.sessions, ...samsPage.credentials].map((r) => r.grantId);
    expect(samsIds).toHaveLength(2);
    const liveBefore = h.sim.liveAccessTokens(SAM.id);
    use(h, danaChrome);
    for (const grant of samsIds) expect((await post(h, '/access/revoke', { grant })).status).toBe(303);
    expect(h.sim.liveAccessTokens(SAM.id)).toBe(liveBefore);
    expect(await works(h, samCredential)).toBe(true);
    expect(await signedIn(h, sam)).toBe(true);
    const samsAfter = await accessPage(h);
    expect([...samsAfter.sessions, ...samsAfter.credentials].map((r) => r.grantId)).toEqual(samsIds);
  });

  it('a form that names no grant is a 400', async () => {
    const { h } = await twoPeople();
    for (const grant of ['', 'x', '../../etc']) expect((await post(h, '/access/revoke', { grant })).status).toBe(400);
    expect((await accessPage(h)).sessions).toHaveLength(2);
  });
});

describe('sign out everywhere', () => {
  it("ends every session and credential of this person, here and at Looker; the other person's untouched", async () => {
    const { h, danaChrome, danaFirefox, danaCredential, sam, samCredential } = await twoPeople();
    const danaToken = await sdkLogin(h, danaCredential.client_id, danaCredential.client_secret);
    const samToken = await sdkLogin(h, samCredential.client_id, samCredential.client_secret);
    const samLive = h.sim.liveAccessTokens(SAM.id);
    expect(h.sim.liveAccessTokens(DANA.id)).toBe(3);

    // First the confirmation: what will end, and nothing ended yet.
    const confirm = await h.request('/access/sign-out-everywhere');
    expect(confirm.status).toBe(200);
    const page = await confirm.text();
    expect(page).toMatch(/<strong>2<\/strong> browser sessions/);
    expect(page).toContain('method="post" action="/access/sign-out-everywhere"');
    expect(h.sim.liveAccessTokens(DANA.id)).toBe(3);

    const res = await post(h, '/access/sign-out-everywhere', {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?signed-out=everywhere');
    expect(h.jar.has('__Host-lgw_session')).toBe(false);
    expect(await (await h.request('/?signed-out=everywhere')).text()).toContain('You signed out everywhere');

    expect(h.sim.liveAccessTokens(DANA.id)).toBe(0);
    expect((await bearerRequest(h, danaToken, '/api/4.0/user')).status).toBe(401);
    expect(await works(h, danaCredential)).toBe(false);
    expect(await signedIn(h, danaFirefox)).toBe(false);
    expect(await signedIn(h, danaChrome)).toBe(false);
    // Another instance agrees at once for browsers it never saw.
    const other = createHarness(h.share());
    use(other, danaFirefox);
    expect((await other.request('/api/4.0/user')).status).toBe(401);

    expect(h.sim.liveAccessTokens(SAM.id)).toBe(samLive);
    expect((await bearerRequest(h, samToken, '/api/4.0/user')).status).toBe(200);
    expect(await works(h, samCredential)).toBe(true);
    expect(await signedIn(h, sam)).toBe(true);
  });
});

describe("the page's forms act only from the gateway's own pages", () => {
  for (const [what, headers] of [
    ['without Origin', FORM],
    ['from another origin', { ...FORM, origin: 'https://evil.example' }],
    ['with Origin: null', { ...FORM, origin: 'null' }],
    ['from another site per Sec-Fetch-Site', { ...FORM, 'sec-fetch-site': 'cross-site' }],
  ] as [string, Record<string, string>][]) {
    it(`${what}: 403 for each, and nothing happens`, async () => {
      const { h, danaCredential } = await twoPeople();
      const before = await accessPage(h);
      const lookerTokens = h.sim.liveAccessTokens(DANA.id);
      for (const grant of [...before.sessions, ...before.credentials].map((r) => r.grantId)) {
        expect((await post(h, '/access/revoke', { grant }, headers)).status).toBe(403);
      }
      expect((await post(h, '/access/sign-out-everywhere', {}, headers)).status).toBe(403);
      const create = await post(h, '/access/credentials', { name: 'sneaky' }, headers);
      expect(create.status).toBe(403);
      expect(create.headers.get('location')).toBeNull();
      const after = await accessPage(h);
      expect(after.sessions).toEqual(before.sessions);
      expect(after.credentials).toEqual(before.credentials);
      expect(h.sim.liveAccessTokens(DANA.id)).toBe(lookerTokens);
      expect(await works(h, danaCredential)).toBe(true);
    });
  }

  it('signed out, a same-origin form is sent to sign in', async () => {
    const h = createHarness();
    const res = await post(h, '/access/sign-out-everywhere', {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?return_to=%2Faccess');
  });
});

describe('a credential made on the page', () => {
  it('name → Looker → consent → the secret shown once, with looker.ini and environment snippets that work with the SDK login', async () => {
    const h = createHarness();
    await h.signIn();
    const page = await h.request('/access');
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self' https://looker.test");

    const toLooker = await post(h, '/access/credentials', { name: 'nightly' });
    expect(toLooker.status).toBe(303);
    expect(toLooker.headers.get('location')).toMatch(/^https:\/\/looker\.test\/auth\?/);
    const consentPath = await browserToConsent(h, toLooker);
    const consent = await (await h.request(consentPath)).text();
    expect(consent).toContain('nightly');
    expect(consent).toContain('as a new script credential');
    expect(consent).toContain('read and change your Looker data</strong> (everything your Looker role allows)');

    const issued = await answerConsent(h, consentPath, 'allow');
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    const html = await issued.text();
    const clientId = /id="client-id">([^<]+)</.exec(html)![1]!;
    const clientSecret = /id="client-secret">([^<]+)</.exec(html)![1]!;
    expect(clientId).toMatch(/^lgwc_/);
    expect(clientSecret).toMatch(/^lgws_/);

    const ini = Object.fromEntries(
      /id="ini-snippet"[^>]*>([\s\S]*?)<\/textarea>/
        .exec(html)![1]!
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(ini).toEqual({ base_url: GATEWAY, client_id: clientId, client_secret: clientSecret, verify_ssl: 'true' });
    const env = Object.fromEntries(
      [...(/id="env-snippet"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)![1]!.matchAll(/export (\w+)=(?:'|&#39;)([^'&]*)(?:'|&#39;)/g))].map((m) => [m[1], m[2]]),
    );
    expect(env).toMatchObject({ LOOKERSDK_BASE_URL: GATEWAY, LOOKERSDK_CLIENT_ID: clientId, LOOKERSDK_CLIENT_SECRET: clientSecret });

    // As an SDK would use them: base_url + /api/4.0/login.
    for (const [base, id, secret] of [[ini.base_url, ini.client_id, ini.client_secret], [env.LOOKERSDK_BASE_URL, env.LOOKERSDK_CLIENT_ID, env.LOOKERSDK_CLIENT_SECRET]] as string[][]) {
      const login = await h.request(`${base}/api/4.0/login`, {
        method: 'POST',
        withCookies: false,
        headers: FORM,
        body: new URLSearchParams({ client_id: id!, client_secret: secret! }).toString(),
      });
      expect(login.status).toBe(200);
      const { access_token: token } = (await login.json()) as { access_token: string };
      expect(await (await bearerRequest(h, token, '/api/4.0/user')).json()).toMatchObject({ id: '42' });
    }

    // Shown once: the answer cannot be had again, and the list shows the credential without its secret.
    expect((await answerConsent(h, consentPath, 'allow')).status).toBe(410);
    const { credentials, html: listed } = await accessPage(h);
    expect(credentials.map((c) => c.cells[0])).toEqual([`nightly ${clientId}`]);
    expect(listed).not.toContain(clientSecret);
  });

  it('Read-only: the consent page says "read your Looker data"; the list says read-only; the credential reads but cannot write', async () => {
    const h = createHarness();
    await h.signIn();
    expect(await (await h.request('/access')).text()).toContain('<input type="checkbox" name="read_only" value="yes"/> Read-only');
    const consentPath = await browserToConsent(h, await post(h, '/access/credentials', { name: 'dashboards', read_only: 'yes' }));
    const consent = await (await h.request(consentPath)).text();
    expect(consent).toContain('It asks to <strong>read your Looker data</strong>');
    expect(consent).not.toContain('change your Looker data</strong>');
    const html = await (await answerConsent(h, consentPath, 'allow')).text();
    const clientId = /id="client-id">([^<]+)</.exec(html)![1]!;
    const clientSecret = /id="client-secret">([^<]+)</.exec(html)![1]!;
    const { credentials } = await accessPage(h);
    expect(credentials.map((c) => c.cells.slice(0, 2))).toEqual([[`dashboards ${clientId}`, 'read-only']]);
    const token = await sdkLogin(h, clientId, clientSecret);
    expect((await bearerRequest(h, token, '/api/4.0/user')).status).toBe(200);
    const refused = await bearerRequest(h, token, '/api/4.0/echo/looks/1', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ required_scope: 'looker:write' });
  });

  it('the snippets show every line, unbroken; the expiry is a UTC date and time like every date on the pages', async () => {
    const h = createHarness();
    await h.signIn();
    const issued = await answerConsent(h, await browserToConsent(h, await post(h, '/access/credentials', { name: 'nightly' })), 'allow');
    const html = await issued.text();
    for (const id of ['ini-snippet', 'env-snippet']) {
      const [, attributes, text] = new RegExp(`<textarea([^>]*id="${id}"[^>]*)>([\\s\\S]*?)</textarea>`).exec(html)!;
      const lines = text!.split('\n');
      expect(lines.every((line) => line.trim() !== '')).toBe(true);
      // As many rows as lines (none hidden), and no soft wrapping (a secret is never broken).
      expect(attributes).toContain(`rows="${lines.length}"`);
      expect(attributes).toContain('wrap="off"');
    }
    expect(/id="ini-snippet"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)![1]!.split('\n')).toHaveLength(5);
    expect(/id="env-snippet"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)![1]!.split('\n')).toHaveLength(4);
    // The harness's clock starts at 2026-11-28 12:00 UTC; credentials live 90 days.
    expect(html).toContain('until <time datetime="2027-02-26T12:00:00.000Z">2027-02-26 12:00 UTC</time>');
  });

  it('a credential made without a name is named after the page and the time, so that two can be told apart', async () => {
    const h = createHarness();
    await h.signIn();
    const make = async () => {
      const consentPath = await browserToConsent(h, await post(h, '/access/credentials', { name: '  ' }));
      expect(await (await h.request(consentPath)).text()).toContain('as a new script credential');
      expect((await answerConsent(h, consentPath, 'allow')).status).toBe(200);
    };
    await make();
    h.clock.advance(90);
    await make();
    const { credentials } = await accessPage(h);
    expect(credentials.map((c) => c.cells[0]!.replace(/ lgwc_\S+$/, '')).sort()).toEqual([
      'Your access · 2026-11-28 12:00 UTC',
      'Your access · 2026-11-28 12:01 UTC',
    ]);
  });

  it('Deny on the page creates nothing and revokes the new Looker token', async () => {
    const h = createHarness();
    await h.signIn();
    const consentPath = await browserToConsent(h, await post(h, '/access/credentials', { name: 'nope' }));
    const lookerToken = lastLookerToken(h);
    const denied = await answerConsent(h, consentPath, 'deny');
    expect(denied.status).toBe(200);
    expect(await denied.text()).toContain('Nothing was created');
    expect(h.sim.hasAccessToken(lookerToken)).toBe(false);
    expect((await accessPage(h)).credentials).toEqual([]);
  });
});

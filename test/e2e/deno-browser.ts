/**
 * The gateway on Deno in Chromium, as a person uses it: sign in (the gateway, Looker's
 * consent, back), see the Looker user, call the API from the page's origin (a real
 * browser's same-origin GET and POST, with the Origin and Sec-Fetch-Site it sends), sign
 * out, and stay signed out: the session cookie taken before the sign-out gets 401 when
 * replayed, and the back button and a reload show the signed-out page.
 *
 * Declared inside browser.e2e.test.ts, in the Chromium its Workers tests launched: a launch
 * costs more CPU than this whole test's pages (one context, one page) on two cores.
 */
import type { Browser, Response as PageResponse } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { denoGateway, type DevGateway, haveDeno } from './harness.ts';

/** What the page's script gets back from a fetch. */
interface Fetched {
  status: number;
  body: unknown;
}

export function denoBrowserSignIn(browserOf: () => Browser): void {
  describe.skipIf(!haveDeno)('on Deno (npm run dev -- --runtime deno)', () => {
    let gateway: DevGateway;
    let browser: Browser;

    beforeAll(() => {
      gateway = denoGateway();
      browser = browserOf();
    });

    it('signs in through Looker, shows the user, calls the API from the page, signs out, and stays signed out', async () => {
      // The gateway's pages run no script (their CSP says so): lift it for this context, so that
      // the page's origin can call the API as a browser app served from the gateway would.
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      const answers: PageResponse[] = [];
      page.on('response', (response) => {
        if (new URL(response.url()).origin === gateway.url) answers.push(response);
      });

      await page.goto(`${gateway.url}/`);
      await page.getByRole('link', { name: 'Sign in with Looker' }).click();
      await page.waitForURL((url) => url.origin === gateway.simUrl && url.pathname === '/auth');
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${gateway.url}/`);
      expect(await page.textContent('#user-name')).toBe('Dana Demo');
      expect(await page.textContent('#user-email')).toBe('dana.demo@example.com');
      const cookies = await context.cookies(gateway.url);
      const session = cookies.find((c) => c.name === '__Host-lgw_session');
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
      expect(cookies.filter((c) => c.name.startsWith('__Host-lgw_login'))).toEqual([]);

      // From the page's origin: a GET, and a POST (the browser's own Origin and Sec-Fetch-Site pass the CSRF check).
      // What crosses into the page is plain data (a string body), not a RequestInit.
      const fromPage = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Fetched> =>
        page.evaluate(
          async ([path, init]) => {
            const res = await fetch(path, init);
            return { status: res.status, body: (await res.json()) as unknown };
          },
          [path, init] as const,
        );
      expect(await fromPage('/api/4.0/user?fields=id,display_name', {})).toEqual({ status: 200, body: { id: '42', display_name: 'Dana Demo' } });
      const query = { model: 'thelook', view: 'orders', fields: ['orders.count'] };
      const created = await fromPage('/api/4.0/queries', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query) });
      expect(created).toMatchObject({ status: 200, body: { ...query, id: expect.stringMatching(/^\d+$/) } });

      // Sign out: a same-origin form POST; then the old cookie, the back button and a reload all find no session.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${gateway.url}/`);
      await page.getByRole('link', { name: 'Sign in with Looker' }).waitFor();
      expect((await context.cookies(gateway.url)).find((c) => c.name === '__Host-lgw_session')).toBeUndefined();

      const replayed = await fetch(`${gateway.url}/api/4.0/user`, { headers: { cookie: `__Host-lgw_session=${session!.value}` } });
      expect(replayed.status).toBe(401);
      expect(((await replayed.json()) as { login_url: string }).login_url).toBe(`${gateway.url}/login`);
      const replayedHome = await fetch(`${gateway.url}/`, { headers: { cookie: `__Host-lgw_session=${session!.value}` } });
      expect(await replayedHome.text()).toContain('Sign in with Looker');

      await page.goBack();
      await page.waitForURL(`${gateway.url}/`);
      await page.getByRole('link', { name: 'Sign in with Looker' }).waitFor();
      expect(await page.locator('#user-name').count()).toBe(0);
      await page.reload();
      await page.getByRole('link', { name: 'Sign in with Looker' }).waitFor();
      expect(await page.locator('#user-name').count()).toBe(0);
      expect(await fromPage('/api/4.0/user', {})).toMatchObject({ status: 401 });

      // Whatever the browser got from the gateway said who may keep it.
      const cacheControls = await Promise.all(answers.map(async (r) => ({ url: r.url(), status: r.status(), cacheControl: await r.headerValue('cache-control') })));
      expect(cacheControls.length).toBeGreaterThan(5);
      const isAsset = (url: string) => /\/(assets\/|favicon)/.test(new URL(url).pathname);
      expect(cacheControls.filter((a) => !isAsset(a.url) && !/\b(private|no-store)\b/.test(a.cacheControl ?? ''))).toEqual([]);
      await context.close();
    });
  });
}

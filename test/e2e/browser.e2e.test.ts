/**
 * The whole sign-in in a real browser: open the gateway, click "Sign in with Looker",
 * approve on the simulator's consent page, see the user's name, sign out.
 * Runs against the gateway `npm run dev`'s script started (shared by the run's files), so
 * it also proves that command works; and, in the same Chromium, against the gateway on
 * Deno (`npm run dev -- --runtime deno`: deno-browser.ts).
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { denoBrowserSignIn } from './deno-browser.ts';
import { type DevGateway, haveChromium, launchChromium, screenshot, sharedDevGateway, warnIfNoChromium } from './harness.ts';

warnIfNoChromium('the browser test');

describe.skipIf(!haveChromium)('sign-in in a real browser', () => {
  let dev: DevGateway;
  let browser: Browser;
  let gateway: string;
  /**
   * One browser context for these tests, its cookies cleared before each: a context's
   * first page starts a renderer process (over a CPU-second here), its later pages do not
   * (so the pages are left open).
   */
  let context: BrowserContext;

  beforeAll(async () => {
    dev = sharedDevGateway();
    gateway = dev.url;
    browser = await launchChromium();
    context = await browser.newContext();
  });

  beforeEach(async () => {
    await context.clearCookies();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('signs in, shows the Looker user, signs out', async () => {
    const page = await context.newPage();

    await page.goto(`${gateway}/`);
    await page.getByRole('link', { name: 'Sign in with Looker' }).click();

    // Looker's (simulated) consent page.
    await page.waitForURL(/\/auth\?/);
    expect(await page.textContent('h1')).toContain('Allow access?');
    await screenshot(page, 'consent');
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back at the gateway, signed in.
    await page.waitForURL(`${gateway}/`);
    expect(await page.textContent('#user-name')).toBe('Dana Demo');
    expect(await page.textContent('#user-email')).toBe('dana.demo@example.com');
    await screenshot(page, 'signed-in');
    const cookies = await context.cookies(gateway);
    const session = cookies.find((c) => c.name === '__Host-lgw_session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    expect(cookies.find((c) => c.name.startsWith('__Host-lgw_login'))).toBeUndefined();

    // The API pass-through with the browser's cookie: a navigation (the gateway's pages run
    // no script, so their CSP forbids fetch), and a POST through the context's cookie jar.
    const userPage = await context.newPage();
    const userResponse = await userPage.goto(`${gateway}/api/4.0/user?fields=id,display_name`);
    expect(userResponse!.status()).toBe(200);
    expect(await userResponse!.json()).toEqual({ id: '42', display_name: 'Dana Demo' });
    const post = await context.request.post(`${gateway}/api/4.0/echo/from-browser-context`, { data: { a: 1 } });
    expect(post.status()).toBe(200);
    const echoed = (await post.json()) as { headers: Record<string, string> };
    expect(echoed.headers.authorization).toMatch(/^Bearer /);
    expect(echoed.headers.cookie).toBeUndefined();
    await userPage.close();

    // Sign out: a same-origin form POST that must pass the Origin / Sec-Fetch-Site check.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${gateway}/`);
    await page.getByRole('link', { name: 'Sign in with Looker' }).waitFor();
    expect((await context.cookies(gateway)).find((c) => c.name === '__Host-lgw_session')).toBeUndefined();
    await screenshot(page, 'signed-out');
    const after = await context.request.get(`${gateway}/api/4.0/user`);
    expect(after.status()).toBe(401);
    expect(((await after.json()) as { login_url: string }).login_url).toBe(`${gateway}/login`);
  });

  it('sign-ins started in two tabs at once both finish, in either order', async () => {
    const first = await context.newPage();
    const second = await context.newPage();
    // Both tabs reach Looker's consent page before either answers it.
    await first.goto(`${gateway}/login?return_to=/?tab=1`);
    await second.goto(`${gateway}/login?return_to=/?tab=2`);
    await first.waitForURL(/\/auth\?/);
    await second.waitForURL(/\/auth\?/);
    expect((await context.cookies(gateway)).filter((c) => c.name.startsWith('__Host-lgw_login_'))).toHaveLength(2);

    // The later one is approved first; the earlier one's cookie was not overwritten.
    await second.getByRole('button', { name: 'Allow' }).click();
    await second.waitForURL(`${gateway}/?tab=2`);
    expect(await second.textContent('#user-name')).toBe('Dana Demo');
    await first.getByRole('button', { name: 'Allow' }).click();
    await first.waitForURL(`${gateway}/?tab=1`);
    expect(await first.textContent('#user-name')).toBe('Dana Demo');

    const cookies = await context.cookies(gateway);
    expect(cookies.filter((c) => c.name.startsWith('__Host-lgw_login'))).toEqual([]);
    expect(cookies.filter((c) => c.name === '__Host-lgw_session')).toHaveLength(1);
    expect((await context.request.get(`${gateway}/api/4.0/user`)).status()).toBe(200);
  });

  it('a denial on the consent page shows a clear page with "Try again"', async () => {
    const page = await context.newPage();
    await page.goto(`${gateway}/login`);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(/\/callback\?/);
    expect(await page.textContent('h1')).toBe('Access denied');
    await page.getByRole('link', { name: 'Try again' }).waitFor();
  });

  denoBrowserSignIn(() => browser);
});

/**
 * The whole sign-in in a real browser: open the gateway, click "Sign in with Looker",
 * approve on the simulator's consent page, see the user's name, sign out.
 * Runs the same script as `npm run dev`, so it also proves that command works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`Chromium not found at ${CHROMIUM}; CI must install it (apt-get install -y chromium).`);
}
if (!haveChromium) console.warn(`Skipping the browser test: no Chromium at ${CHROMIUM} (apt-get install chromium).`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, output: () => string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited early (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Gateway did not start within ${timeoutMs} ms:\n${output()}`);
}

describe.skipIf(!haveChromium)('sign-in in a real browser', () => {
  let dev: ChildProcess;
  let browser: Browser;
  let gateway: string;
  let log = '';

  beforeAll(async () => {
    const port = await freePort();
    const simPort = await freePort();
    gateway = `http://localhost:${port}`;
    const state = mkdtempSync(join(tmpdir(), 'lgw-e2e-'));
    // Settings from a file of the test's own: `npm test` must not create .dev.vars.
    const envFile = join(state, 'test.vars');
    writeFileSync(envFile, `SESSION_SECRET=${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    dev = spawn(
      process.execPath,
      ['scripts/dev.mjs', '--simulator', '--env-file', envFile, '--port', String(port), '--sim-port', String(simPort), '--', '--persist-to', state],
      { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    dev.stdout!.on('data', (d) => (log += d));
    dev.stderr!.on('data', (d) => (log += d));
    await waitFor(`${gateway}/`, dev, () => log);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dev !== undefined && dev.exitCode === null) {
      dev.kill('SIGTERM');
      await new Promise((r) => dev.once('exit', r));
    }
  });

  it('signs in, shows the Looker user, signs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    mkdirSync('test-results', { recursive: true });

    await page.goto(`${gateway}/`);
    await page.getByRole('link', { name: 'Sign in with Looker' }).click();

    // Looker's (simulated) consent page.
    await page.waitForURL(/\/auth\?/);
    expect(await page.textContent('h1')).toContain('Allow access?');
    await page.screenshot({ path: 'test-results/consent.png' });
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back at the gateway, signed in.
    await page.waitForURL(`${gateway}/`);
    expect(await page.textContent('#user-name')).toBe('Dana Demo');
    expect(await page.textContent('#user-email')).toBe('dana.demo@example.com');
    await page.screenshot({ path: 'test-results/signed-in.png' });
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
    await page.screenshot({ path: 'test-results/signed-out.png' });
    const after = await context.request.get(`${gateway}/api/4.0/user`);
    expect(after.status()).toBe(401);
    expect(((await after.json()) as { login_url: string }).login_url).toBe(`${gateway}/login`);
    await context.close();
  });

  it('sign-ins started in two tabs at once both finish, in either order', async () => {
    const context = await browser.newContext();
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
    await context.close();
  });

  it('a denial on the consent page shows a clear page with "Try again"', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gateway}/login`);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(/\/callback\?/);
    expect(await page.textContent('h1')).toBe('Access denied');
    await page.getByRole('link', { name: 'Try again' }).waitFor();
    await context.close();
  });
});

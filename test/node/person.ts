/**
 * A person at a browser without the browser: follows redirects, keeps cookies, and submits
 * the forms of the gateway's and the Looker simulator's pages (which run no script), so
 * that the command line's sign-ins can be finished against the real gateway in-process.
 * Chromium does the same in test/e2e, where the pages' CSP and rendering matter.
 */

export interface Page {
  url: string;
  status: number;
  body: string;
  headers: Headers;
}

type Decision = 'Allow' | 'Deny';

const decode = (text: string) =>
  text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return match === null ? undefined : decode(match[1] ?? match[2] ?? '');
}

export class Person {
  /** Cookies by host name (as browsers keep them: not by port), then by name. */
  private readonly jar = new Map<string, Map<string, string>>();

  /** Opens an address and follows redirects (as a browser would, to the command's loopback too). */
  async open(url: string, init: RequestInit = {}): Promise<Page> {
    let current = url;
    let request: RequestInit = init;
    for (let hops = 0; hops < 20; hops++) {
      const target = new URL(current);
      const cookies = [...(this.jar.get(target.hostname) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
      const headers = new Headers(request.headers);
      if (cookies !== '') headers.set('cookie', cookies);
      const response = await fetch(current, { ...request, headers, redirect: 'manual' });
      this.keepCookies(target.hostname, response.headers);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        current = new URL(location, current).href;
        request = {};
        continue;
      }
      return { url: current, status: response.status, body: await response.text(), headers: response.headers };
    }
    throw new Error(`Too many redirects from ${url}`);
  }

  /** Clicks the button labelled `button` in the page's form that has one, after filling `fields`. */
  async submit(page: Page, button: string, fields: Record<string, string> = {}): Promise<Page> {
    for (const [, attributes = '', inner = ''] of page.body.matchAll(/<form\b([^>]*)>([^]*?)<\/form>/gi)) {
      const buttons = [...inner.matchAll(/<button\b([^>]*)>([^]*?)<\/button>/gi)];
      const clicked = buttons.find(([, , label = '']) => decode(label.replace(/<[^>]*>/g, '')).trim() === button);
      if (clicked === undefined) continue;
      const form = new URLSearchParams();
      for (const [input] of inner.matchAll(/<input\b[^>]*>/gi)) {
        const name = attribute(input, 'name');
        if (name !== undefined) form.set(name, fields[name] ?? attribute(input, 'value') ?? '');
      }
      const name = attribute(clicked[1] ?? '', 'name');
      if (name !== undefined) form.set(name, attribute(clicked[1] ?? '', 'value') ?? '');
      const action = new URL(attribute(`<form ${attributes}>`, 'action') ?? page.url, page.url);
      const from = new URL(page.url);
      return this.open(action.href, {
        method: (attribute(`<form ${attributes}>`, 'method') ?? 'get').toUpperCase(),
        body: form,
        headers: { origin: from.origin, 'sec-fetch-site': from.origin === action.origin ? 'same-origin' : 'cross-site' },
      });
    }
    throw new Error(`No form with a "${button}" button at ${page.url} (${page.status}):\n${page.body.slice(0, 2000)}`);
  }

  /**
   * The whole browser part of the command's loopback sign-in: the address it printed, Looker's
   * consent, then the gateway's. Returns the last page (the command's own, when it gets there).
   */
  async signIn(address: string, atLooker: Decision = 'Allow', atGateway: Decision = 'Allow'): Promise<Page> {
    const looker = await this.open(address);
    const afterLooker = await this.submit(looker, atLooker);
    return atLooker === 'Deny' ? afterLooker : this.submit(afterLooker, atGateway);
  }

  /** Types a device's code at the gateway's /device page, then answers at Looker and at the gateway. */
  async allowDevice(gateway: string, userCode: string, atLooker: Decision = 'Allow', atGateway: Decision = 'Allow'): Promise<Page> {
    const entry = await this.open(`${gateway}/device`);
    const looker = await this.submit(entry, 'Continue', { user_code: userCode });
    const afterLooker = await this.submit(looker, atLooker);
    return atLooker === 'Deny' ? afterLooker : this.submit(afterLooker, atGateway);
  }

  /** The value of the cookie `name` this person's browser holds for `url`'s host, if any. */
  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).hostname)?.get(name);
  }

  private keepCookies(host: string, headers: Headers): void {
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    this.jar.set(host, cookies);
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const gone = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a) || (/^\s*expires\s*=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      if (gone) cookies.delete(name);
      else cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
}

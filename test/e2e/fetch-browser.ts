/**
 * A browser, minimally, for end-to-end tests driven with fetch: cookies per origin,
 * redirects followed by hand, the first form on a page submitted as its own origin.
 */
export class FetchBrowser {
  readonly #jar = new Map<string, Map<string, string>>();
  /** Every URL this browser was sent to (the codes and states in them are what must not be kept). */
  readonly visited: URL[] = [];

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    this.visited.push(target);
    const cookies = this.#jar.get(target.origin);
    const headers = new Headers(init.headers);
    if (cookies !== undefined && cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const jar = this.#jar.get(target.origin) ?? new Map<string, string>();
      if (/max-age=0/i.test(line)) jar.delete(pair!.slice(0, eq));
      else jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      this.#jar.set(target.origin, jar);
    }
    return res;
  }

  /** The value of the cookie `name` this browser holds for `origin`, if any. */
  cookie(origin: string, name: string): string | undefined {
    return this.#jar.get(origin)?.get(name);
  }

  /** Follows redirects from `res` until an answer that is not one, or one that leaves for `stopAt`. */
  async follow(res: Response, from: string, stopAt?: (url: URL) => boolean): Promise<{ res: Response; url: URL }> {
    let url = new URL(from);
    while (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url);
      if (stopAt?.(url)) {
        this.visited.push(url);
        return { res, url };
      }
      res = await this.fetch(url.href);
    }
    return { res, url };
  }

  /**
   * The browser side of any sign-in: from a redirect to Looker, through the simulator's
   * consent page (Allow), back to the gateway at `gatewayOrigin` — or to a loopback elsewhere.
   * Throws if the redirect did not lead to `lookerOrigin`.
   */
  async throughLooker(start: Response, startUrl: string, lookerOrigin: string, gatewayOrigin: string): Promise<{ res: Response; url: URL }> {
    const atLooker = await this.follow(start, startUrl);
    if (atLooker.url.origin !== lookerOrigin) throw new Error(`expected to reach Looker at ${lookerOrigin}, reached ${atLooker.url.href}`);
    const decided = await this.submit(atLooker.res, atLooker.url, { decision: 'allow' });
    return this.follow(decided.res, decided.action.href, (url) => url.hostname === '127.0.0.1' && url.origin !== gatewayOrigin);
  }

  /** Submits the first form on the page (hidden fields + the named button), as the page's own origin. */
  async submit(page: Response, pageUrl: URL, button: Record<string, string>): Promise<{ res: Response; action: URL }> {
    const html = await page.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
    if (form === null) throw new Error(`no form on ${pageUrl.pathname}:\n${html.slice(0, 400)}`);
    const fields = new URLSearchParams();
    for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.set(input[1]!, decodeEntities(input[2]!));
    for (const [k, v] of Object.entries(button)) fields.set(k, v);
    const action = new URL(decodeEntities(form[1]!), pageUrl);
    const res = await this.fetch(action.href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: pageUrl.origin, 'sec-fetch-site': 'same-origin' },
      body: fields.toString(),
    });
    return { res, action };
  }
}

function decodeEntities(text: string): string {
  return text.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>');
}


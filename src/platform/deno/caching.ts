/**
 * Deno Deploy may cache answers that do not say otherwise, so every answer the gateway
 * sends says who may keep it: the few deliberately public files (the command line, the
 * stylesheet, the icon) keep their `public, max-age`; anything else without a
 * cache-control gets `no-store`; an API answer (Looker's, passed through) is made
 * `private` whatever Looker said, since it is one person's.
 */
export function withPrivateCaching(response: Response, isApi: boolean): Response {
  const current = response.headers.get('cache-control');
  let wanted: string | null = null;
  if (isApi) {
    if (current === null) wanted = 'private, no-store';
    else if (!/\b(private|no-store)\b/i.test(current)) wanted = `private, ${current.replace(/\bpublic\b\s*,?\s*/gi, '').replace(/^\s*,\s*|\s*,\s*$/g, '')}`.replace(/,\s*$/, '');
  } else if (current === null) wanted = 'no-store';
  if (wanted === null) return response;
  try {
    response.headers.set('cache-control', wanted);
    return response;
  } catch {
    // Immutable headers (a fetched response passed on as is): answer a copy.
    const copy = new Response(response.body, response);
    copy.headers.set('cache-control', wanted);
    return copy;
  }
}

/**
 * The client of a request as Cloudflare reports it: `CF-Connecting-IP` (set by Cloudflare's
 * edge; a client cannot set it through Cloudflare) and the country and city of
 * `request.cf`. Under `wrangler dev` the address is the local one and the location is
 * made up, so the gateway shows no location for a local address.
 */
import type { ClientInfo } from '../../http/client.ts';

export function clientOfCloudflareRequest(request: Request): ClientInfo {
  const cf = (request as Request & { cf?: { country?: unknown; city?: unknown } }).cf;
  const country = typeof cf?.country === 'string' && /^[A-Z]{2}$/.test(cf.country) ? cf.country : undefined;
  const city = typeof cf?.city === 'string' && cf.city !== '' ? cf.city.slice(0, 80) : undefined;
  return {
    address: request.headers.get('cf-connecting-ip')?.slice(0, 64) ?? 'unknown',
    ...(country === undefined ? {} : { country }),
    ...(city === undefined ? {} : { city }),
  };
}

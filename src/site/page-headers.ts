/**
 * The security headers of every answer the site gives (pages, error pages, redirects,
 * health, assets), from this one definition. No route sets a Content-Security-Policy of
 * its own: a page whose form is answered with a redirect to another origin (to Looker,
 * or to the command line's loopback) names that origin with `allowFormTarget`, and the
 * policy below adds it to `form-action`.
 *
 * hono's secureHeaders computes function-valued directives before it calls `next()`
 * (they exist for nonces that a handler then reads), so a target a route names while it
 * runs would not be seen. The middleware therefore runs hono's secureHeaders once the
 * route has answered, with a `next` that does nothing: the route's choice is in the
 * context by then, and the headers replace anything a route may have set.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../context.ts';

/** Lets this answer's page send its forms, through a redirect, to this URL's origin as well as the gateway's own. */
export function allowFormTarget(c: Context<AppEnv>, url: string): void {
  // An origin is scheme://host[:port]: nothing in it can end the directive or add a source.
  const origin = new URL(url).origin;
  const targets = c.get('formTargets') ?? [];
  if (!targets.includes(origin)) c.set('formTargets', [...targets, origin]);
}

/** `form-action`: the gateway itself, and the origins the route allowed. */
function formAction(c: Context<AppEnv>): string {
  return ["'self'", ...(c.get('formTargets') ?? [])].join(' ');
}

const headers = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: [formAction],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: 'DENY',
  // Never send the callback URL (it carries the code) to another origin; and unlike
  // no-referrer, keeps a real Origin header on same-origin form POSTs.
  referrerPolicy: 'same-origin',
});

const nothingMore = async () => {};

/** Sets the site's security headers on whatever the route answered (errors and "not found" included). */
export const pageHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  await headers(c, nothingMore);
};

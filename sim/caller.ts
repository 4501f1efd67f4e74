/** Whom an API request acts for, the way every authenticated simulator route asks. */
import type { Context } from 'hono';
import type { SimContext } from './context.ts';
import { presentedToken } from './http.ts';
import type { SimulatedUser } from './state.ts';

/** The user a request acts for: an access token's (OAuth or sudo), or an API-key session's. */
export function callerOf(sim: SimContext, c: Context): SimulatedUser | null {
  const token = presentedToken(c);
  if (token === undefined) return null;
  const userId = (sim.state.liveAccessToken(token) ?? sim.state.liveApiSession(token))?.userId;
  return userId === undefined ? null : (sim.state.user(userId) ?? null);
}

/**
 * The caller of a route behind the API's token check (sim/api.ts), which refused every
 * request without one.
 */
export function authenticatedCaller(sim: SimContext, c: Context): SimulatedUser {
  const user = callerOf(sim, c);
  if (user === null) throw new Error('An authenticated route was reached without a caller: is it registered after the token check?');
  return user;
}

/** Where this Looker's web pages are: share links and Explore URLs point there. */
export const webOrigin = (sim: SimContext, c: Context): string => sim.options.webServerUrl ?? sim.options.publicUrl ?? new URL(c.req.url).origin;

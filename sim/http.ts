/** Small pieces of how Looker answers, shared by the simulator's route modules. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const DOCS = 'https://cloud.google.com/looker/docs/r/err/4.0/';

/** Looker's API error body: `{ message, documentation_url }`. */
export const lookerError = (c: Context, status: ContentfulStatusCode, message: string, headers: Record<string, string> = {}) =>
  c.json({ message, documentation_url: DOCS }, status, headers);

export const requiresAuthentication = (c: Context) => lookerError(c, 401, 'Requires authentication.');
export const notFound = (c: Context) => lookerError(c, 404, 'Not found');
export const forbidden = (c: Context) => lookerError(c, 403, 'Forbidden');

/** Looker's 422: `{ message, errors: [{ field, code, message, documentation_url }], documentation_url }`. */
export const validationFailed = (c: Context, errors: { field: string; code: string; message: string }[]) =>
  c.json({ message: 'Validation Failed', errors: errors.map((e) => ({ ...e, documentation_url: DOCS })), documentation_url: DOCS }, 422);

/** The token of an `Authorization: Bearer …` or `Authorization: token …` header (Looker takes both). */
export function presentedToken(c: Context): string | undefined {
  return /^(?:Bearer|token) (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
}

/** Never answers (for two minutes); ends quietly when the caller gives up. */
export const hang = (signal: AbortSignal) =>
  new Promise<Response>((resolve) => {
    const end = () => resolve(new Response(null, { status: 499 }));
    const timer = setTimeout(end, 120_000);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      end();
    });
  });

/**
 * The Looker SDKs' login, answered by the gateway: an unmodified SDK with base_url = the
 * gateway and a gateway credential in place of an API key posts `client_id` and
 * `client_secret` (form fields; `client_id` may also come as a query parameter, as Looker
 * accepts, but a `client_secret` in the URL is refused: URLs end up in logs) to
 * `/api/4.0/login` and gets a short-lived **gateway** access token; Looker's own tokens
 * never leave the gateway. A wrong, expired or revoked credential gets what Looker gives
 * a wrong API key (404 "Not found"), so SDK error handling is unchanged. Logout ends that
 * gateway token only, never the credential's grant. Sudo (`login/{user_id}`) is refused.
 */
import type { Context } from 'hono';
import type { AppEnv, Gateway } from '../context.ts';
import { readForm } from '../http/form.ts';
import { lookerError, requiresAuthentication } from './looker-shapes.ts';


const SUDO_PATH = /^\/api\/(?:3\.1|4\.0)\/login\/\d{1,20}$/;

/** `POST /api/4.0/login/{user_id}`, as the SDKs spell it (any other spelling is refused by the target check). */
export function isSudoPath(path: string): boolean {
  return SUDO_PATH.test(path);
}

export async function sdkLogin(c: Context<AppEnv>, gw: Gateway, path: string): Promise<Response> {
  const notFound = () => c.json(lookerError('Not found', 404, path, 'POST'), 404);
  if (new URL(c.req.url).searchParams.has('client_secret')) {
    gw.log.warn('credential_login_refused', { requestId: c.get('requestId'), reason: 'client_secret in the URL' });
    return c.json(
      lookerError(
        'client_secret must be sent in the request body as a form (client_id=…&client_secret=…), never in the URL, where proxies and logs may keep it. If this secret passed through a proxy or a log, revoke the credential on the gateway\'s Your access page and create a new one.',
        400,
        path,
        'POST',
      ),
      400,
    );
  }
  const params = await loginParameters(c.req.raw);
  if (params === null) return c.json(lookerError('The login body must be form-encoded (client_id, client_secret), at most 16 KiB', 400, path, 'POST'), 400);
  const clientId = params.get('client_id') ?? undefined;
  let credential;
  let minted;
  try {
    credential = await gw.credentials.verify(clientId, params.get('client_secret') ?? undefined);
    minted = credential === null ? null : await gw.tokens.mint(credential, gw.config.accessTokenTtlSeconds);
  } catch {
    // KV or the ledger did not answer: the credential may be fine; say "try again", not "wrong key".
    return unavailable(c, path, 'POST');
  }
  if (credential === null || minted === null) {
    gw.log.warn('credential_login_refused', {
      requestId: c.get('requestId'),
      // A well-formed client_id is public and says which credential failed; anything else is not echoed.
      clientId: clientId !== undefined && gw.minter.parse('client-id', clientId) !== null ? clientId : undefined,
      reason: credential === null ? 'unknown client_id, wrong secret or expired' : 'credential revoked',
    });
    return notFound();
  }
  c.set('caller', 'token');
  gw.log.info('credential_login', { requestId: c.get('requestId'), clientId: credential.record.clientId, grantId: credential.record.grantId });
  return c.json(
    { access_token: minted.accessToken, token_type: 'Bearer', expires_in: minted.expiresIn, refresh_token: null },
    200,
    { 'cache-control': 'no-store' },
  );
}

/** Ends the presented gateway token. Without one, Looker's answer to an unauthenticated call. */
export async function sdkLogout(c: Context<AppEnv>, gw: Gateway, path: string, bearer: string | undefined): Promise<Response> {
  let resolved;
  try {
    resolved = bearer === undefined ? null : await gw.tokens.resolve(bearer);
    if (bearer === undefined || resolved === null) return c.json(requiresAuthentication(gw.origin, path, 'DELETE'), 401);
    c.set('caller', 'token');
    await gw.tokens.end(bearer);
  } catch {
    return unavailable(c, path, 'DELETE');
  }
  gw.log.info('access_token_ended', { requestId: c.get('requestId'), clientId: resolved.caller.credential.clientId });
  return c.body(null, 204);
}

function unavailable(c: Context<AppEnv>, path: string, method: string): Response {
  return c.json(lookerError('The gateway could not reach its storage right now; try again.', 503, path, method), 503, { 'retry-after': '1' });
}

export function sudoRefused(c: Context<AppEnv>, path: string): Response {
  return c.json(
    lookerError('Acting as another Looker user (sudo) is not available through the gateway: each credential acts only as the person who created it.', 403, path, 'POST'),
    403,
  );
}

/**
 * Content types a login form arrives with. @looker/sdk-node hands `fetch` the encoded form
 * as a plain string without a content type, so it arrives as text/plain; Looker reads it
 * as a form all the same, and so must the shim.
 */
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'text/plain', '']);

/** client_id and client_secret from a form body, client_id else from the query string (as Looker accepts); null for a body that is too large or not a form. */
async function loginParameters(request: Request): Promise<URLSearchParams | null> {
  const query = new URL(request.url).searchParams;
  const read = await readForm(request, FORM_TYPES);
  if (!read.ok) return null;
  const form = read.empty ? new URLSearchParams() : read.form;
  const clientId = query.get('client_id');
  if (!form.has('client_id') && clientId !== null) form.set('client_id', clientId);
  return form;
}

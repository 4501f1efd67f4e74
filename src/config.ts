/**
 * Environment variables → a typed Config, or one error that lists every bad or
 * missing variable. Values are never echoed back: a problem names the variable
 * and says what is wrong with it, nothing more.
 */

export interface Config {
  /** Looker UI base URL (serves /auth), without a trailing slash. */
  lookerUrl: string;
  /** Looker API base URL (serves /api/token and /api/4.0/*), without a trailing slash. */
  lookerApiUrl: string;
  lookerClientId: string;
  sessionSecret: string;
  /** Public origin of the gateway; undefined means "the origin of each request". */
  gatewayOrigin: string | undefined;
  lookerScope: string;
  /** Browser origins allowed to call /api/* with the session cookie (CORS + CSRF). */
  allowedOrigins: readonly string[];
  /** How long to wait for Looker's API to start answering a proxied request. */
  upstreamTimeoutMs: number;
  /** How long a script credential lives (renewed by signing in again). */
  credentialTtlMs: number;
  /** How long a gateway access token from the SDK login lives. */
  accessTokenTtlSeconds: number;
}

export interface ConfigProblem {
  variable: string;
  problem: string;
}

export type ConfigResult =
  | { ok: true; config: Config }
  | { ok: false; problems: ConfigProblem[] };

export const MIN_SESSION_SECRET_LENGTH = 32;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 300_000;
export const DEFAULT_CREDENTIAL_TTL_DAYS = 90;
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** The Durable Object namespace that holds each person's ledger (see docs/storage.md). */
export const ACCOUNTS_BINDING = 'ACCOUNTS';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || hostname.endsWith('.localhost');
}

type Env = Record<string, unknown>;

function readString(env: Env, name: string): string | undefined {
  const value = env[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * A base URL for Looker: http(s), no credentials, query or fragment. Plain http is
 * allowed only for loopback hosts, because bearer tokens travel over it.
 */
export function parseBaseUrl(raw: string, variable: string, problems: ConfigProblem[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push({ variable, problem: 'is not a valid absolute URL (expected e.g. https://example.cloud.looker.com)' });
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push({ variable, problem: 'must be an http(s) URL' });
    return undefined;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    problems.push({ variable, problem: 'must use https (plain http is only allowed for localhost)' });
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    problems.push({ variable, problem: 'must not contain a user name or password' });
    return undefined;
  }
  if (url.search !== '' || url.hash !== '') {
    problems.push({ variable, problem: 'must not contain a query string or fragment' });
    return undefined;
  }
  return url.href.replace(/\/+$/, '');
}

export function parseOrigin(raw: string, variable: string, problems: ConfigProblem[]): string | undefined {
  const base = parseBaseUrl(raw, variable, problems);
  if (base === undefined) return undefined;
  const url = new URL(base);
  if (url.pathname !== '/' && url.pathname !== '') {
    problems.push({ variable, problem: 'must be an origin only (scheme, host and port), without a path' });
    return undefined;
  }
  return url.origin;
}

export function parseConfig(env: Env): ConfigResult {
  const problems: ConfigProblem[] = [];

  const lookerUrlRaw = readString(env, 'LOOKER_URL');
  const lookerUrl =
    lookerUrlRaw === undefined
      ? (problems.push({ variable: 'LOOKER_URL', problem: 'is required (the Looker UI URL, e.g. https://example.cloud.looker.com)' }), undefined)
      : parseBaseUrl(lookerUrlRaw, 'LOOKER_URL', problems);

  const lookerApiUrlRaw = readString(env, 'LOOKER_API_URL');
  const lookerApiUrl =
    lookerApiUrlRaw === undefined ? lookerUrl : parseBaseUrl(lookerApiUrlRaw, 'LOOKER_API_URL', problems);

  const lookerClientId = readString(env, 'LOOKER_CLIENT_ID');
  if (lookerClientId === undefined) {
    problems.push({ variable: 'LOOKER_CLIENT_ID', problem: 'is required (the client_guid the OAuth app was registered with in Looker)' });
  }

  const sessionSecret = readString(env, 'SESSION_SECRET');
  if (sessionSecret === undefined) {
    problems.push({ variable: 'SESSION_SECRET', problem: 'is required (generate one with: openssl rand -base64 32)' });
  } else if (sessionSecret.length < MIN_SESSION_SECRET_LENGTH) {
    problems.push({
      variable: 'SESSION_SECRET',
      problem: `is too short: it needs at least ${MIN_SESSION_SECRET_LENGTH} characters of randomness (openssl rand -base64 32)`,
    });
  }

  const gatewayUrlRaw = readString(env, 'GATEWAY_URL');
  const gatewayOrigin = gatewayUrlRaw === undefined ? undefined : parseOrigin(gatewayUrlRaw, 'GATEWAY_URL', problems);

  const lookerScope = readString(env, 'LOOKER_SCOPE') ?? 'cors_api';
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(lookerScope)) {
    problems.push({ variable: 'LOOKER_SCOPE', problem: 'must be space-separated OAuth scope tokens (default: cors_api)' });
  }

  const allowedOrigins: string[] = [];
  const allowedOriginsRaw = readString(env, 'ALLOWED_ORIGINS');
  if (allowedOriginsRaw !== undefined) {
    for (const entry of allowedOriginsRaw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const origin = parseOrigin(entry, 'ALLOWED_ORIGINS', problems);
      if (origin !== undefined) allowedOrigins.push(origin);
    }
  }

  const upstreamTimeoutMs = readWholeNumber(env, 'UPSTREAM_TIMEOUT_MS', DEFAULT_UPSTREAM_TIMEOUT_MS, 1, 3_600_000, 'milliseconds', problems);
  const credentialTtlDays = readWholeNumber(env, 'CREDENTIAL_TTL_DAYS', DEFAULT_CREDENTIAL_TTL_DAYS, 1, 365, 'days', problems);
  const accessTokenTtlSeconds = readWholeNumber(env, 'GATEWAY_TOKEN_TTL_SECONDS', DEFAULT_ACCESS_TOKEN_TTL_SECONDS, 15, 86_400, 'seconds', problems);

  const accounts = env[ACCOUNTS_BINDING];
  if (typeof accounts !== 'object' || accounts === null || typeof (accounts as { idFromName?: unknown }).idFromName !== 'function') {
    problems.push({
      variable: ACCOUNTS_BINDING,
      problem: 'Durable Object binding is missing (wrangler.toml: [[durable_objects.bindings]] name = "ACCOUNTS", class_name = "AccountObject")',
    });
  }

  if (
    problems.length > 0 ||
    lookerUrl === undefined ||
    lookerApiUrl === undefined ||
    lookerClientId === undefined ||
    sessionSecret === undefined
  ) {
    return { ok: false, problems };
  }
  return {
    ok: true,
    config: {
      lookerUrl,
      lookerApiUrl,
      lookerClientId,
      sessionSecret,
      gatewayOrigin,
      lookerScope,
      allowedOrigins,
      upstreamTimeoutMs,
      credentialTtlMs: credentialTtlDays * 24 * 3600 * 1000,
      accessTokenTtlSeconds,
    },
  };
}

function readWholeNumber(env: Env, name: string, fallback: number, min: number, max: number, unit: string, problems: ConfigProblem[]): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    problems.push({ variable: name, problem: `must be a whole number of ${unit} between ${min} and ${max}` });
    return fallback;
  }
  return parsed;
}

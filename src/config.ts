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
  /** How often a device sign-in's command line may poll (RFC 8628 `interval`). */
  devicePollIntervalSeconds: number;
}

export interface ConfigProblem {
  variable: string;
  problem: string;
}

export type ConfigResult =
  | { ok: true; config: Config }
  | { ok: false; problems: ConfigProblem[] };

/** SESSION_SECRET keys every sealed session: it must carry at least as much randomness as the AES-256 keys derived from it. */
export const MIN_SESSION_SECRET_BITS = 256;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 300_000;
export const DEFAULT_CREDENTIAL_TTL_DAYS = 90;
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
export const DEFAULT_DEVICE_POLL_INTERVAL_SECONDS = 5;
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

/**
 * The variables. The runtime checks its own bindings (see src/runtime.ts); the operator
 * tools see wrangler.toml and the environment, and check wrangler.toml's bindings themselves.
 */
export function parseVariables(env: Env): ConfigResult {
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
  } else if (estimateSecretBits(sessionSecret) < MIN_SESSION_SECRET_BITS) {
    problems.push({
      variable: 'SESSION_SECRET',
      problem: `is too weak: it needs at least ${MIN_SESSION_SECRET_BITS} bits of randomness, e.g. 64 hex digits or 43 base64 characters from a random source (generate one with: openssl rand -base64 32)`,
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
  const devicePollIntervalSeconds = readWholeNumber(env, 'DEVICE_POLL_INTERVAL_SECONDS', DEFAULT_DEVICE_POLL_INTERVAL_SECONDS, 1, 60, 'seconds', problems);

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
      devicePollIntervalSeconds,
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

/**
 * An estimate of the randomness in a secret, from the characters it uses. Each
 * character counts for the alphabet it evidently comes from: 16 for single-case hex, 64
 * for base64 (or base64url) with both letter cases, otherwise 26 per letter case, 10 for
 * digits and one per other character seen. A phrase of words counts as at most a
 * diceware word (12.9 bits) per word. A string with structure that random ones do not
 * show (far fewer distinct characters or neighbour pairs than its length would give,
 * or mostly runs like "abcd" and "aaaa") counts as 0: it was made up, not drawn.
 *
 * An estimate, not a proof: a made-up secret can pass; the output of
 * `openssl rand -base64 32` or `openssl rand -hex 32` always does.
 */
export function estimateSecretBits(secret: string): number {
  // Base64 padding carries no randomness.
  const chars = [...secret.replace(/={1,2}$/, '')];
  const n = chars.length;
  if (n === 0) return 0;
  const text = chars.join('');
  let alphabet: number;
  if (/^(?:[0-9a-f]+|[0-9A-F]+)$/.test(text)) alphabet = 16;
  else if (/^[\w+/-]+$/.test(text) && /[a-z]/.test(text) && /[A-Z]/.test(text)) alphabet = 64;
  else {
    const others = new Set(chars.filter((c) => !/[a-zA-Z0-9]/.test(c))).size;
    alphabet = (/[a-z]/.test(text) ? 26 : 0) + (/[A-Z]/.test(text) ? 26 : 0) + (/[0-9]/.test(text) ? 10 : 0) + others;
  }

  const pairs = new Set<string>();
  let runs = 0;
  for (let i = 1; i < n; i++) {
    pairs.add(chars[i - 1]! + chars[i]!);
    if (Math.abs(chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!) <= 1) runs++;
  }
  // Random strings sit close to these expectations (far above the thresholds: see
  // test/config.test.ts); repetition, patterns and prose fall well below.
  const structured =
    new Set(chars).size < 0.5 * expectedDistinct(alphabet, n) ||
    pairs.size < 0.6 * expectedDistinct(alphabet * alphabet, n - 1) ||
    runs > 0.5 * (n - 1);
  if (structured) return 0;

  const bits = n * Math.log2(alphabet);
  const words = text.trim().split(/\s+/).length;
  return words > 1 ? Math.min(bits, words * Math.log2(7776)) : bits;
}

/** How many distinct values `draws` uniform draws from `size` values show on average. */
function expectedDistinct(size: number, draws: number): number {
  return size * (1 - (1 - 1 / size) ** draws);
}

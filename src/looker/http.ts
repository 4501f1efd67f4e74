/**
 * One fetch to Looker with a deadline, and one classifier of Looker's answers: every call
 * the gateway makes to Looker (token, user, versions, logout, admin tools) goes through
 * `callLooker`, so status codes mean the same everywhere. The deadline covers the wait for
 * response headers; the API proxy streams bodies itself and only uses `fetchWithDeadline`.
 * Redirects are never followed, so a bearer token never leaves the URL it was meant for.
 */
import { LookerProtocolError, LookerRejectedError, LookerTimeoutError, LookerUnavailableError } from './errors.ts';

export type Fetch = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export async function fetchWithDeadline(
  fetchFn: Fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<Response> {
  const answer = fetchFn(url, { ...init, redirect: 'manual' });
  let response: Response | typeof TIMED_OUT;
  try {
    response = await withDeadline(answer, timeoutMs);
  } catch (error) {
    throw new LookerUnavailableError(`${what}: Looker could not be reached`, { cause: error });
  }
  if (response === TIMED_OUT) {
    // Nobody will read a late answer: let its connection go as soon as it arrives.
    answer.then((late) => late.body?.cancel(), () => {});
    throw new LookerTimeoutError(`${what}: Looker did not answer within ${timeoutMs} ms`);
  }
  return response;
}

/** Reads a small body under the same kind of deadline. */
export async function readTextWithDeadline(response: Response, timeoutMs: number, what: string): Promise<string> {
  let text: string | typeof TIMED_OUT;
  try {
    text = await withDeadline(response.text(), timeoutMs);
  } catch (error) {
    throw new LookerUnavailableError(`${what}: the connection to Looker broke while reading its answer`, { cause: error });
  }
  if (text === TIMED_OUT) {
    response.body?.cancel().catch(() => {});
    throw new LookerTimeoutError(`${what}: Looker did not finish answering within ${timeoutMs} ms`);
  }
  return text;
}

export interface LookerCall {
  fetch: Fetch;
  timeoutMs: number;
  /** What the call does, for messages ("Refreshing the access token"). */
  what: string;
}

/** Looker's answer once classified as a success: the status and the body, parsed as JSON when there is one. */
export interface LookerAnswer {
  status: number;
  body: unknown;
}

/**
 * Calls Looker and classifies the answer: 2xx → parsed JSON (null for an empty body);
 * 3xx → LookerProtocolError; 408, 429, 5xx → LookerUnavailableError (with Retry-After);
 * other 4xx → LookerRejectedError (with the OAuth `error` code when the body has one);
 * a 2xx body that is not JSON → LookerProtocolError; no answer in time → LookerTimeoutError.
 */
export async function callLooker(call: LookerCall, url: string, init: RequestInit): Promise<LookerAnswer> {
  const response = await fetchWithDeadline(call.fetch, url, init, call.timeoutMs, call.what);
  const text = await readTextWithDeadline(response, call.timeoutMs, call.what);
  return classifyAnswer(response.status, response.headers, text, call.what);
}

export function classifyAnswer(status: number, headers: Headers, text: string, what: string): LookerAnswer {
  if (status >= 500 || status === 429 || status === 408) {
    throw new LookerUnavailableError(`${what}: Looker answered ${status}`, { status, retryAfter: parseRetryAfter(headers.get('retry-after')) });
  }
  if (status >= 300 && status < 400) {
    throw new LookerProtocolError(`${what}: Looker answered with a redirect (${status}); is LOOKER_API_URL the API host?`, status);
  }
  if (status >= 400) {
    const code = oauthErrorCode(text);
    throw new LookerRejectedError(`${what}: Looker refused it (${status}${code === undefined ? '' : ` ${code}`})`, status, code);
  }
  if (text.trim() === '') return { status, body: null };
  try {
    return { status, body: JSON.parse(text) };
  } catch {
    throw new LookerProtocolError(`${what}: Looker answered ${status} with something that is not JSON`, status);
  }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), when it holds a sane value. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,6}$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The OAuth `error` field of a JSON error body, when it has a sane one. */
function oauthErrorCode(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const code = (parsed as { error: unknown }).error;
      if (typeof code === 'string' && /^[a-z0-9_]{1,64}$/i.test(code)) return code;
    }
  } catch {
    // Looker-style or HTML error bodies carry no OAuth code.
  }
  return undefined;
}

/** What a deadline gives when time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** `promise`'s outcome, or TIMED_OUT once `ms` have passed without it settling. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

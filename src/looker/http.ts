/**
 * One fetch to Looker with a deadline and errors mapped to types. The deadline covers
 * the wait for response headers; once Looker starts answering, the body is the caller's
 * (small bodies: readTextWithDeadline; the API proxy streams it for as long as it takes).
 * Redirects are never followed, so a bearer token never leaves the URL it was meant for.
 */
import { LookerTimeoutError, LookerUnavailableError } from './errors.ts';

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
    throw new LookerUnavailableError(`${what}: Looker could not be reached (${describeNetworkError(error)})`);
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
  } catch {
    throw new LookerUnavailableError(`${what}: the connection to Looker broke while reading its answer`);
  }
  if (text === TIMED_OUT) {
    response.body?.cancel().catch(() => {});
    throw new LookerTimeoutError(`${what}: Looker did not finish answering within ${timeoutMs} ms`);
  }
  return text;
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

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.message !== '') return error.message.slice(0, 200);
  return 'network error';
}

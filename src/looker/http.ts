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
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetchFn(url, { ...init, redirect: 'manual', signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) throw new LookerTimeoutError(`${what}: Looker did not answer within ${timeoutMs} ms`);
    throw new LookerUnavailableError(`${what}: Looker could not be reached (${describeNetworkError(error)})`);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a small body under the same kind of deadline. */
export async function readTextWithDeadline(response: Response, timeoutMs: number, what: string): Promise<string> {
  const timeout = new LookerTimeoutError(`${what}: Looker did not finish answering within ${timeoutMs} ms`);
  try {
    return await withDeadline(response.text(), timeoutMs, timeout);
  } catch (error) {
    if (error === timeout) {
      response.body?.cancel().catch(() => {});
      throw error;
    }
    throw new LookerUnavailableError(`${what}: the connection to Looker broke while reading its answer`);
  }
}

/** `promise`, or `timeout` thrown once `ms` have passed without it settling. */
export function withDeadline<T>(promise: Promise<T>, ms: number, timeout: Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeout), ms);
    }),
  ]);
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.message !== '') return error.message.slice(0, 200);
  return 'network error';
}

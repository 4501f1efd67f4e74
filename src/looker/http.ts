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
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LookerTimeoutError(`${what}: Looker did not finish answering within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([response.text(), deadline]);
  } catch (error) {
    if (error instanceof LookerTimeoutError) {
      response.body?.cancel().catch(() => {});
      throw error;
    }
    throw new LookerUnavailableError(`${what}: the connection to Looker broke while reading its answer`);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.message !== '') return error.message.slice(0, 200);
  return 'network error';
}

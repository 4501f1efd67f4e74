/**
 * One streamed request to Looker's API. The deadline covers the wait for response
 * headers only: once Looker starts answering, the body streams for as long as it takes
 * (query results and renders can be large).
 */
import { LookerTimeoutError, LookerUnavailableError } from '../looker/errors.ts';
import type { Fetch } from '../looker/http.ts';

export interface UpstreamRequest {
  method: string;
  url: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | ArrayBuffer | null;
}

export async function forwardToLooker(fetchFn: Fetch, request: UpstreamRequest, timeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetchFn(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      // The bearer token must never follow a redirect to anywhere but LOOKER_API_URL.
      redirect: 'manual',
      signal: controller.signal,
    });
  } catch (error) {
    if (controller.signal.aborted) {
      throw new LookerTimeoutError(`Looker did not start answering within ${timeoutMs} ms`);
    }
    throw new LookerUnavailableError(
      `Looker could not be reached (${error instanceof Error && error.message !== '' ? error.message.slice(0, 200) : 'network error'})`,
    );
  } finally {
    clearTimeout(timer);
  }
}

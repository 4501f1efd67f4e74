/**
 * The request URL as the runtime gives it (absolute, already normalised), split without
 * a second parse: the API keeps path and query exactly as they arrived (the parsed
 * forms would percent-decode them), and the request log drops the query.
 */

/** Index of the path's first "/" in an absolute URL. */
function pathStart(url: string): number {
  return url.indexOf('/', url.indexOf('//') + 2);
}

/** Path and query (with its "?"), both as they arrived; the fragment never reaches a server. */
export function splitRawUrl(url: string): { path: string; search: string } {
  const at = pathStart(url);
  const queryAt = url.indexOf('?', at);
  return queryAt === -1 ? { path: url.slice(at), search: '' } : { path: url.slice(at, queryAt), search: url.slice(queryAt) };
}

export function pathOf(url: string): string {
  return splitRawUrl(url).path;
}

/** Whether the URL's path is /api or under /api/. */
export function isApiUrl(url: string): boolean {
  const at = pathStart(url);
  return url.startsWith('/api', at) && (url.length === at + 4 || '/?#'.includes(url[at + 4]!));
}

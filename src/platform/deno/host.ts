/**
 * Deno builds `request.url` from the Host header as the client sent it, unchecked. One with
 * a "/", "?", "#" or "@" in it still makes a URL, but another one than the request line's:
 * `GET /user` with `Host: gw.example.com/api/4.0` reaches the app as /api/4.0/user, and a
 * user part changes its origin. One with a space or a bad port makes no URL at all: the
 * first part of the app that parses it would throw (plainHttpAnswer refuses it on plain
 * http; served over https, a 500). HTTP says such a request gets 400 (RFC 9112, section
 * 3.2); on Workers the platform never hands one over.
 */

/** A host name or an IP address (IPv6 in brackets), and an optional port. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The answer to a request whose Host is not a host (with a port), or whose URL does not parse; undefined for any other. */
export function badHostAnswer(request: Request): Response | undefined {
  const host = request.headers.get('host');
  // Without a Host (HTTP/1.0, or HTTP/2's :authority), Deno's own URL is the one to judge.
  if ((host === null || HOST.test(host)) && URL.canParse(request.url)) return undefined;
  return Response.json(
    { message: 'Bad request: the Host header must be a host name or address, with an optional port.' },
    { status: 400, headers: { 'cache-control': 'no-store' } },
  );
}

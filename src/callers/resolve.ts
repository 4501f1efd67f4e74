/**
 * Who is calling the API: each kind of caller is a CallerSource (a script's bearer token,
 * a browser's session cookie, …), asked in the order registered here. A new kind of caller
 * is one module implementing CallerSource plus its line here.
 */
import type { AccessTokens } from './access-tokens.ts';
import type { BrowserSessions } from './browser-sessions.ts';
import type { CallerSource, Presented } from './caller-source.ts';

interface CallerParts {
  tokens: AccessTokens;
  sessions: BrowserSessions;
}

/**
 * The registered kinds, in the order they are asked; the last speaks for every request
 * that presents no other. Each is reached through its getter only when asked, so a request
 * answered by an earlier kind builds nothing for the later ones (the proxy's hot path).
 */
const SOURCES = [(parts: CallerParts) => parts.tokens, (parts: CallerParts) => parts.sessions] as const;

export type CallerKindName = ReturnType<(typeof SOURCES)[number]>['kind'];

/** The source that speaks for this request. */
export function callerSourceFor(parts: CallerParts, presented: Presented): CallerSource<CallerKindName> {
  let source: CallerSource<CallerKindName> | undefined;
  for (const sourceOf of SOURCES) {
    source = sourceOf(parts);
    if (source.presents(presented)) return source;
  }
  return source!;
}

/**
 * Who is calling the API: each kind of caller is a CallerSource (a script's bearer token,
 * a browser's session cookie, …), asked in the order registered here. A new kind of caller
 * is one module implementing CallerSource plus its line here.
 */
import type { AccessTokens } from './access-tokens.ts';
import type { BrowserSessions } from './browser-sessions.ts';
import type { CallerSource, Presented } from './caller-source.ts';

/** The registered kinds, in the order they are asked; the last answers when no other is presented. */
function sources(parts: { tokens: AccessTokens; sessions: BrowserSessions }) {
  return [parts.tokens, parts.sessions] as const;
}

export type CallerKindName = ReturnType<typeof sources>[number]['kind'];

/** The source that speaks for this request. */
export function callerSourceFor(parts: { tokens: AccessTokens; sessions: BrowserSessions }, presented: Presented): CallerSource<CallerKindName> {
  const registered: readonly CallerSource<CallerKindName>[] = sources(parts);
  return registered.find((source) => source.presents(presented)) ?? registered[registered.length - 1]!;
}

/**
 * Structured logs: one JSON object per line. Callers pass only fields that are safe
 * to keep (ids, statuses, reasons); tokens, cookies, codes and secrets never go in.
 * LOG_EVENTS is the one list of what the gateway logs: the logger accepts nothing else,
 * and the docs' table is checked against it by a test.
 */

export const LOG_EVENTS = {
  request: 'one per request: request id, method, route template, path (no query), status, duration, refresh, Looker status, KV reads/writes, caller kind',
  sign_in: 'a browser signed in',
  sign_out: 'a browser signed out (its session ended here and at Looker)',
  sign_out_everywhere: 'a person ended all their sessions and credentials',
  sign_in_refused: 'Looker answered the sign-in with an error (e.g. access_denied)',
  sign_in_bad_state: 'a callback without a matching sign-in in this browser',
  sign_in_failed: 'the code exchange or the user lookup failed',
  session_ended: 'a session found over (refresh refused, revoked) and the browser told',
  token_refresh: 'a Looker token refresh of one grant (its `grantId`): refreshed, adopted from elsewhere, failed (the grant survives) or ended',
  grant_ended: 'a grant ended (sign-out, revocation, refusal), or revoking it at Looker failed',
  credential_created: 'a script credential was created (its client_id)',
  credential_login: 'an SDK logged in with a credential and got a gateway token (its client_id, and the `grantId` its refreshes are logged under)',
  credential_login_refused: 'an SDK login with an unknown, wrong, expired or revoked credential',
  credential_revoked: 'a script credential was revoked (its client_id)',
  access_token_ended: "an SDK logged out: its gateway token ended (the credential lives on)",
  consent_answered: 'a person allowed or denied a credential on the consent page',
  agent_registered: 'an AI agent registered itself as an OAuth client (its client_id)',
  agent_authorized: 'a person allowed an AI agent and it redeemed its code: a new agent grant (its client, scope)',
  agent_refresh_replayed: "an agent's spent refresh token was presented again: its grant ended",
  agent_code_replayed: "an agent's authorization code was presented again (within 10 minutes of its grant): the grant it issued ended",
  agent_revoked: 'an agent grant was ended by the agent (token revocation) or from Your access',
  device_code_issued: 'the command line started a device sign-in',
  device_codes_shed: "device sign-ins were full: the busiest network's oldest waiting ones were dropped (their count)",
  device_code_guessing_refused: 'a network that entered too many wrong device codes was told to wait',
  csrf_refused: 'an unsafe cross-site request with a cookie was refused',
  cross_site_navigation_refused: 'a top-level navigation from another site to /api/* was refused',
  api_upstream_failed: 'Looker could not be reached, timed out, or its token renewal failed',
  looker_unavailable: 'a page could not reach Looker',
  config_invalid: 'the configuration is invalid (each bad variable named, never its value)',
  unhandled_error: 'a bug: the error name only',
} as const;

export type LogEvent = keyof typeof LOG_EVENTS;
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type LogSink = (line: string) => void;

export interface Logger {
  info(event: LogEvent, fields?: LogFields): void;
  warn(event: LogEvent, fields?: LogFields): void;
  error(event: LogEvent, fields?: LogFields): void;
}

export function createLogger(sink: LogSink = (line) => console.log(line)): Logger {
  const write = (level: string, event: LogEvent, fields: LogFields = {}) => {
    sink(JSON.stringify({ level, event, ...fields }));
  };
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}

/**
 * What a grant may do at Looker, beyond what its person's Looker role allows (it never
 * allows more than that): `looker:write` everything the role allows; `looker:read` only
 * what reads. Looker cannot express this itself: its OAuth scope (`cors_api`) is all or
 * nothing, so the gateway enforces it on every API call a grant makes.
 *
 * Reading includes the few writes Looker needs in order to read: creating a query and
 * running one (POST /queries, POST /queries/run/{format}, POST /queries/run_inline,
 * POST /query_tasks). SQL Runner is never reading: it runs any SQL the connection's
 * database user may, so every /sql_queries path needs `looker:write`, GET included.
 */

export const READ_SCOPE = 'looker:read';
export const WRITE_SCOPE = 'looker:write';
export type Scope = typeof READ_SCOPE | typeof WRITE_SCOPE;

/** A grant's scopes, as a space-separated list (OAuth's form): `looker:write` implies `looker:read`. */
export type GrantScope = 'read' | 'write';

/** The writes reading needs, after /api/<version>/ (matched on the canonical path: lower case, decoded). */
const READING_WRITES = /^(?:queries|queries\/run\/[^/]+|queries\/run_inline|query_tasks)$/;

/** SQL Runner, under /api/ or /api/<version>/. */
const SQL_RUNNER = /^\/api\/(?:[^/]+\/)?sql_queries(?:\/|$)/;

/** The part of a canonical API path after /api/<version>/ ("4.0", "3.1"), or after /api/ without one. */
function resourceOf(canonicalPath: string): string {
  const match = /^\/api\/(?:\d+\.\d+\/)?(.*)$/.exec(canonicalPath);
  return match?.[1] ?? canonicalPath;
}

/**
 * The scope a call needs. `canonicalPath` is the path as resolveApiTarget judged it
 * (decoded, case-folded, dot segments resolved): spelling cannot move a call out of its
 * scope.
 */
export function requiredScope(method: string, canonicalPath: string): Scope {
  if (SQL_RUNNER.test(canonicalPath)) return WRITE_SCOPE;
  if (method === 'GET' || method === 'HEAD') return READ_SCOPE;
  if (method === 'POST' && READING_WRITES.test(resourceOf(canonicalPath))) return READ_SCOPE;
  return WRITE_SCOPE;
}

/** Whether a grant of this scope may make a call that needs `required`. */
export function allows(granted: GrantScope, required: Scope): boolean {
  return granted === 'write' || required === READ_SCOPE;
}

/** The OAuth scope string of a grant. */
export function scopeString(granted: GrantScope): string {
  return granted === 'write' ? `${READ_SCOPE} ${WRITE_SCOPE}` : READ_SCOPE;
}

/**
 * A requested OAuth scope string as a grant's scope: `looker:write` asks for writing;
 * `looker:read`, or nothing, for reading (read-only is the default). Undefined when it
 * names a scope this gateway does not have (invalid_scope).
 */
export function parseScope(requested: string | undefined): GrantScope | undefined {
  const words = (requested ?? '').split(' ').filter((word) => word !== '');
  if (words.some((word) => word !== READ_SCOPE && word !== WRITE_SCOPE)) return undefined;
  return words.includes(WRITE_SCOPE) ? 'write' : 'read';
}

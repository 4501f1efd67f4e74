/**
 * A grant's scope on /api/*: a read-only grant's call that needs `looker:write` is refused
 * here, before anything reaches Looker. Judged on the path's canonical form (as the target
 * check reads it: decoded, case-folded), so no spelling moves a call out of its scope.
 * Only read-only grants come here: the full (default) path does no extra work.
 */
import { allows, type GrantScope, requiredScope, type Scope } from '../grants/scope.ts';
import { canonicalAcceptedPath } from '../http/api-target.ts';

export interface ScopeRefusal {
  message: string;
  required_scope: Scope;
}

/** Why this call is beyond `granted`, or null when it is within. `path` is the raw path resolveApiTarget accepted. */
export function scopeRefusal(granted: GrantScope, method: string, path: string): ScopeRefusal | null {
  const required = requiredScope(method, canonicalAcceptedPath(path));
  if (allows(granted, required)) return null;
  return {
    message: `${method} is not allowed here: this credential is read-only, and the call changes Looker data or uses SQL Runner (it needs looker:write).`,
    required_scope: required,
  };
}

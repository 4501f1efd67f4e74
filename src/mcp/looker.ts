/**
 * How the MCP tools reach Looker: through a function the /mcp route binds to the caller's
 * grant (the Looker token never comes here), narrowed to what the grant's scope allows,
 * with Looker's errors turned into one error carrying Looker's own message.
 */
import { WRITE_SCOPE, type GrantScope } from '../grants/scope.ts';
import { allowsApiCall } from '../http/api-target.ts';

/**
 * A call to the Looker API as the caller: `path` is under /api/4.0 (e.g.
 * `/lookml_models?fields=name`), `body` a JSON value sent as application/json. Looker's
 * answer comes back as it is, errors included; a rejected promise means Looker could not
 * be reached.
 */
export type LookerCall = (method: string, path: string, body?: unknown) => Promise<Response>;

/** Looker answered with an error status: `message` is Looker's own. */
export class LookerError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'LookerError';
    this.status = status;
  }
}

/** The gateway refused a call the grant's scope does not allow (it never reached Looker). */
export class ScopeError extends Error {
  constructor(method: string, path: string) {
    super(`${method} ${path.split('?')[0]} needs ${WRITE_SCOPE}, and this agent's grant is read-only`);
    this.name = 'ScopeError';
  }
}

/**
 * `looker`, refusing what `scope` does not allow, judged as the API pass-through judges it
 * (http/api-target.ts) on the canonical path: decoded, case-folded. The tools build their
 * paths from checked segments (segment()), so there is nothing else to canonicalise.
 */
export function scopedLooker(looker: LookerCall, scope: GrantScope): LookerCall {
  return (method, path, body) => (allowsApiCall(scope, method, path) ? looker(method, path, body) : Promise.reject(new ScopeError(method, path)));
}

/** A name or id as one path segment: letters, digits and `_ - . :`, never a dot segment. */
const SEGMENT = /^[A-Za-z0-9_.:-]+$/;

/** `value` as a path segment, or a tool error naming the argument when it cannot be one. */
export function segment(name: string, value: string): string {
  if (!SEGMENT.test(value) || /^\.+$/.test(value)) throw new ArgumentError(`${name} must be a Looker name or id (letters, digits, _ - . :), not ${JSON.stringify(value)}`);
  return value;
}

/** An argument the tool cannot use, said to the agent as it is. */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** A query string from the entries that have a value (undefined and '' are left out). */
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** Looker's message from an error answer: `message`, then each of `errors[].message` (its 422). */
async function messageOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown; errors?: { field?: unknown; message?: unknown }[] };
    const details = Array.isArray(body.errors)
      ? body.errors.map((e) => (typeof e.message === 'string' ? (typeof e.field === 'string' ? `${e.field}: ${e.message}` : e.message) : '')).filter((m) => m !== '')
      : [];
    if (typeof body.message === 'string') return details.length > 0 ? `${body.message} (${details.join('; ')})` : body.message;
  } catch {
    // Not JSON: the status says it.
  }
  return text.trim().slice(0, 300) || `HTTP ${res.status}`;
}

/** Calls Looker; its answer's body as text, or a LookerError with Looker's message. */
export async function lookerText(looker: LookerCall, method: string, path: string, body?: unknown): Promise<string> {
  let res: Response;
  try {
    res = await looker(method, path, body);
  } catch (error) {
    if (error instanceof ScopeError) throw error;
    throw new LookerError(502, 'Looker could not be reached');
  }
  if (!res.ok) throw new LookerError(res.status, await messageOf(res));
  return res.text();
}

/** Calls Looker; its answer parsed as JSON, or a LookerError with Looker's message. */
export async function lookerJson<T>(looker: LookerCall, method: string, path: string, body?: unknown): Promise<T> {
  const text = await lookerText(looker, method, path, body);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LookerError(502, 'Looker answered with something that is not JSON');
  }
}

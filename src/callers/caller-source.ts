/** What one kind of caller of the API is (see resolve.ts, where each kind is registered). */
import type { Context } from 'hono';
import type { GrantAccess } from '../grants/access.ts';
import type { Grant } from '../grants/record.ts';

/** What a request presents that could say who calls: the headers the API has already read. */
export interface Presented {
  authorization: string | undefined;
  cookie: string | undefined;
}

/** A resolved caller: the grant it uses and the key that opens it. */
export interface Caller {
  access: GrantAccess;
  grant: Grant;
}

export interface CallerSource<K extends string = string> {
  readonly kind: K;
  /**
   * Rides on a credential the browser adds by itself (a cookie): an unsafe method must then
   * come from an allowed origin, checked before the caller is resolved.
   */
  readonly ambient: boolean;
  /** How a caller of this kind is told it is not (or no longer) known: Looker's own 401, or the gateway's sign-in. */
  readonly whenUnknown: 'looker-401' | 'sign-in';
  presents(presented: Presented): boolean;
  /** From the isolate's memory, without waiting, when that is recent enough (the steady state); else undefined. */
  callerFromMemory(presented: Presented): Caller | undefined;
  /** The caller, or null when what it presents is not (or no longer) good. Throws GrantUnavailableError when that cannot be told now. */
  callerFrom(presented: Presented, c: Context): Promise<Caller | null>;
}

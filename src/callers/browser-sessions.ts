/**
 * "This browser's session", in one place: the session cookie paired with its KV record
 * and its grant (oauth2-proxy's persistence manager is the model). Routes call load,
 * start and end; they never touch the cookie, KV or the ledger themselves.
 */
import type { Context } from 'hono';
import { importSealKey } from '../crypto/seal.ts';
import { hashFor, randomId } from '../crypto/tokens.ts';
import type { GrantAccess } from '../grants/access.ts';
import type { Grant } from '../grants/record.ts';
import type { LookerUser } from '../looker/api.ts';
import type { TokenSet } from '../looker/oauth.ts';
import type { CallerContext } from './context.ts';
import type { Caller, CallerSource, Presented } from './caller-source.ts';
import { cookies, SESSION_TTL_SECONDS } from './cookies.ts';
import type { KeyValueStore, SessionRecord } from './records.ts';
import { describeBrowser } from './user-agent.ts';

export interface BrowserSession {
  readonly kvKey: string;
  readonly access: GrantAccess;
  readonly record: SessionRecord;
  grant: Grant;
}

interface Remembered {
  kind: 'session';
  kvKey: string;
  access: GrantAccess;
  record: SessionRecord;
}

/** As a caller of the API: the session cookie, ambient (the browser sends it by itself), so unsafe methods need an allowed origin. */
export class BrowserSessions implements CallerSource<'browser'> {
  readonly kind = 'browser';
  readonly ambient = true;
  readonly whenUnknown = 'sign-in';
  readonly #x: CallerContext;
  readonly #kv: KeyValueStore;

  constructor(context: CallerContext, kv: KeyValueStore) {
    this.#x = context;
    this.#kv = kv;
  }

  /** The last one asked: it speaks for every request that presents nothing else. */
  presents(): boolean {
    return true;
  }

  callerFromMemory(presented: Presented): Caller | undefined {
    return this.remembered(presented.cookie);
  }

  callerFrom(_presented: Presented, c: Context): Promise<Caller | null> {
    return this.load(c);
  }

  /**
   * This browser's session from the isolate's memory, without waiting, when that memory
   * is recent enough to trust (the steady state of a busy session); else undefined, and
   * `load` answers.
   */
  remembered(cookieHeader: string | undefined): BrowserSession | undefined {
    const cookie = cookies.sessionFromHeader(cookieHeader);
    if (cookie === undefined) return undefined;
    const holder = this.#x.memory.get(cookie) as Remembered | undefined;
    if (holder?.kind !== 'session') return undefined;
    const grant = this.#x.keeper.confirmedFromMemory(holder.access.grantId);
    return grant === undefined ? undefined : { kvKey: holder.kvKey, access: holder.access, record: holder.record, grant };
  }

  /**
   * The live session this browser's cookie names, or null (and the cookie cleared) when
   * there is none. A cookie the gateway did not mint is refused before any storage is
   * read. Throws GrantUnavailableError when liveness cannot be confirmed right now.
   */
  async load(c: Context): Promise<BrowserSession | null> {
    const cookie = cookies.readSession(c);
    if (cookie === undefined) return null;
    const holder = await this.#resolve(cookie);
    if (holder === null) {
      cookies.clearSession(c);
      return null;
    }
    const grant = await this.#x.keeper.confirm(holder.access, { touch: true });
    if (grant === null) {
      this.#x.memory.delete(cookie);
      cookies.clearSession(c);
      return null;
    }
    return { kvKey: holder.kvKey, access: holder.access, record: holder.record, grant };
  }

  /** Signs this browser in: ends the session it had, stores a new one, sets its cookie. */
  async start(c: Context, init: { user: LookerUser; personKey: string; tokens: TokenSet; redirectUri: string }): Promise<BrowserSession> {
    const previous = await this.load(c).catch(() => null);
    if (previous !== null) await this.end(c, previous, 'replaced by a new sign-in');

    const now = this.#x.now();
    const token = this.#x.minter.mint('session');
    const kvKey = hashFor('session', token.secret);
    const access: GrantAccess = {
      personKey: init.personKey,
      grantId: randomId(),
      key: await importSealKey(await this.#x.sealer.keyBytes('session-grant', token.secret)),
    };
    const record: SessionRecord = {
      personKey: init.personKey,
      grantId: access.grantId,
      user: init.user,
      createdAt: now,
      expiresAt: now + SESSION_TTL_SECONDS * 1000,
      label: describeBrowser(c.req.header('user-agent')),
    };
    const grant = await this.#x.keeper.create(access, {
      kind: 'session',
      label: record.label,
      // The person themself: everything their Looker role allows.
      scope: 'write',
      tokens: init.tokens,
      redirectUri: init.redirectUri,
      expiresAt: record.expiresAt,
      kvKeys: [kvKey],
    });
    try {
      await this.#x.records.put(this.#kv, 'session', kvKey, token.secret, record);
    } catch (error) {
      await this.#x.keeper.end(access.personKey, { grantId: access.grantId }, 'could not store the session').catch(() => {});
      throw error;
    }
    this.#x.memory.set(token.value, { kind: 'session', kvKey, access, record } satisfies Remembered);
    cookies.setSession(c, token.value);
    return { kvKey, access, record, grant };
  }

  /** Ends the session everywhere (ledger, KV, Looker) and clears this browser's cookie. */
  async end(c: Context, session: BrowserSession, reason: string): Promise<void> {
    // The ledger first: if it cannot be reached, the cookie stays, so the person can try again.
    await this.#x.keeper.end(session.access.personKey, { grantId: session.access.grantId }, reason);
    this.clear(c);
  }

  /** Forgets this browser's session here (the grant is already over). */
  clear(c: Context): void {
    const cookie = cookies.readSession(c);
    if (cookie !== undefined) this.#x.memory.delete(cookie);
    cookies.clearSession(c);
  }

  async #resolve(cookie: string): Promise<Remembered | null> {
    const remembered = this.#x.memory.get(cookie) as Remembered | undefined;
    if (remembered?.kind === 'session') return remembered;
    const token = this.#x.minter.parse('session', cookie);
    if (token === null) return null;
    const kvKey = hashFor('session', token.secret);
    const record = await this.#x.records.readSession(this.#kv, kvKey, token.secret);
    if (record === null) return null;
    const holder: Remembered = {
      kind: 'session',
      kvKey,
      access: {
        personKey: record.personKey,
        grantId: record.grantId,
        key: await importSealKey(await this.#x.sealer.keyBytes('session-grant', token.secret)),
      },
      record,
    };
    this.#x.memory.set(cookie, holder);
    return holder;
  }
}

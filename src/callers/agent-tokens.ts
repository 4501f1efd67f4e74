/**
 * AI agents' tokens: what /oauth/token issues for an agent grant (its own Looker sign-in,
 * see credential-flows.ts), and what /mcp accepts as `Authorization: Bearer`.
 *
 * - An access token lives an hour (at most as long as its grant) and is bound to one
 *   resource, the gateway's `/mcp`. It is its own kind of token (`lgwat_`, its own MAC),
 *   so /api/* never takes it for a script's gateway token, nor /mcp a script's for it.
 * - A refresh token is single use: each refresh returns the next one, and a spent one
 *   presented again ends the whole grant (the ledger decides that in one step).
 * - The ledger keeps both only by their hashes, beside the grant's key sealed under the
 *   token itself; the grant (its Looker tokens) is sealed under that key. The Looker token
 *   never leaves the gateway.
 */
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
import { importSealKey, open, seal } from '../crypto/seal.ts';
import { hashFor } from '../crypto/tokens.ts';
import { GrantUnavailableError, LIVENESS_TTL_MS, type GrantAccess } from '../grants/access.ts';
import type { EndedGrant, TokenPair } from '../grants/ledger.ts';
import { isObject, parseJson, parsePerson, type Grant } from '../grants/record.ts';
import { scopeString, type GrantScope } from '../grants/scope.ts';
import type { LookerUser } from '../looker/api.ts';
import { redirectHostOf } from '../oauth/redirect-uris.ts';
import { bearerToken } from './access-tokens.ts';
import type { Caller, CallerSource, Presented } from './caller-source.ts';
import type { CallerContext } from './context.ts';
import type { AgentAuthorization, HeldGrant } from './credential-flows.ts';

/** How long an agent's access token lives. */
export const AGENT_ACCESS_TTL_SECONDS = 3600;

/** What an agent's token says about its grant (sealed under the token itself). */
export interface AgentDescription {
  clientId: string;
  clientName: string;
  scope: GrantScope;
  resource: string;
  user: LookerUser;
  createdAt: number;
  expiresAt: number;
}

/** Who an agent's access token speaks for. */
export interface AgentCaller {
  readonly personKey: string;
  readonly access: GrantAccess;
  readonly expiresAt: number;
  readonly agent: AgentDescription;
}

/** The token endpoint's answer (RFC 6749 §5.1). */
export interface AgentTokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export type RefreshResult = { ok: true; answer: AgentTokenAnswer } | { ok: false; reason: string; error?: 'invalid_scope'; ended?: EndedGrant };

interface Remembered {
  kind: 'agent-token';
  caller: AgentCaller;
  checkedAt: number;
}

interface Payload extends AgentDescription {
  grantSecret: string;
}

export class AgentTokens implements CallerSource<'agent'> {
  readonly kind = 'agent';
  readonly ambient = false;
  readonly whenUnknown = 'looker-401';
  readonly #x: CallerContext;

  constructor(context: CallerContext) {
    this.#x = context;
  }

  /**
   * A redeemed code becomes a grant of the agent's own, named by the code (so a second use
   * of the code names it too), and its first tokens. Null when the ledger refused.
   */
  async create(redeemed: { held: HeldGrant; agent: AgentAuthorization; grantId: string }, ttlMs: number): Promise<AgentTokenAnswer | null> {
    const now = this.#x.now();
    const { held, agent } = redeemed;
    const grantSecret = crypto.getRandomValues(new Uint8Array(32));
    const access: GrantAccess = { personKey: held.personKey, grantId: redeemed.grantId, key: await this.#grantKey(grantSecret) };
    const description: AgentDescription = {
      clientId: agent.clientId,
      clientName: agent.clientName,
      scope: agent.scope,
      resource: agent.resource,
      user: held.user,
      createdAt: now,
      expiresAt: now + ttlMs,
    };
    await this.#x.keeper.create(access, {
      kind: 'agent',
      label: agent.clientName,
      tokens: held.tokens,
      redirectUri: held.lookerRedirectUri,
      expiresAt: description.expiresAt,
      kvKeys: [],
      clientId: agent.clientId,
      scope: agent.scope,
      redirectHost: redirectHostOf(agent.redirectUri),
    });
    const issued = await this.#pair(access, description, grantSecret);
    const outcome = await this.#x.ledgerFor(held.personKey).issuePair(issued.pair, now);
    if (!outcome.ok) return null;
    this.#x.log.info('agent_authorized', { clientId: logClientId(agent.clientId), personKey: held.personKey, scope: agent.scope });
    return issued.answer;
  }

  /**
   * A refresh (RFC 6749 §6) with rotation: the presented token is spent; presented again
   * later, it ends the grant. Asking for write on a read-only grant is refused (the token
   * unspent): only the person can widen a grant, by authorizing again. Asking for less
   * than was granted gets the grant's scope, as the answer's `scope` says.
   */
  async refresh(value: string | undefined, clientId: string | undefined, wanted?: GrantScope): Promise<RefreshResult> {
    const now = this.#x.now();
    const token = this.#x.minter.parse('agent-refresh', value);
    if (token === null || token.personKey === undefined) return { ok: false, reason: 'The refresh token is not one this gateway issued.' };
    const refreshId = hashFor('agent-refresh', token.secret);
    const ledger = this.#x.ledgerFor(token.personKey);
    const entry = await ledger.getRefresh(refreshId, now);
    const payload = entry === null ? null : await this.#openPayload(token.secret, refreshId, entry.sealed);
    if (entry === null || payload === null) return { ok: false, reason: 'The refresh token has expired or its grant has ended.' };
    // A public client names itself: a token of another client's is refused without spending it.
    if (clientId !== payload.clientId) return { ok: false, reason: 'The refresh token was issued to another client.' };
    if (wanted === 'write' && payload.scope !== 'write') {
      return { ok: false, error: 'invalid_scope', reason: 'This authorization is read-only (looker:read); for looker:write, authorize again and allow writing.' };
    }
    const grantSecret = decodeBase64(payload.grantSecret);
    const access: GrantAccess = { personKey: token.personKey, grantId: entry.grantId, key: await this.#grantKey(grantSecret) };
    const { grantSecret: _secret, ...description } = payload;
    const issued = await this.#pair(access, description, grantSecret);
    const outcome = await ledger.rotateRefresh(refreshId, issued.pair, now);
    if (outcome.ok) return { ok: true, answer: issued.answer };
    if (outcome.ended === null) return { ok: false, reason: 'The refresh token has expired or its grant has ended.' };
    // A spent token came back: someone holds a copy. The grant has ended; its Looker token is revoked.
    await this.#x.keeper.cleanUp([outcome.ended], 'refresh token used twice');
    this.#x.log.warn('agent_refresh_replayed', { clientId: logClientId(payload.clientId), personKey: token.personKey });
    return { ok: false, reason: 'The refresh token was already used, so the whole authorization has ended. Authorize again.', ended: outcome.ended };
  }

  /** RFC 7009: an agent's access or refresh token ends its grant. False when it named none (the answer is the same). */
  async revoke(value: string | undefined, clientId: string | undefined): Promise<boolean> {
    const now = this.#x.now();
    for (const kind of ['agent-access', 'agent-refresh'] as const) {
      const token = this.#x.minter.parse(kind, value);
      if (token === null || token.personKey === undefined) continue;
      const id = hashFor(kind, token.secret);
      const ledger = this.#x.ledgerFor(token.personKey);
      const found = kind === 'agent-access' ? await ledger.checkToken(id, Number.MAX_SAFE_INTEGER, now) : await ledger.getRefresh(id, now);
      if (found === null || ('alive' in found && !found.alive)) return false;
      const sealed = 'payload' in found ? found.payload : found.sealed;
      const payload = await this.#openPayload(token.secret, id, sealed);
      if (payload === null || (clientId !== undefined && clientId !== payload.clientId)) return false;
      if (value !== undefined) this.#x.memory.delete(value);
      const ended = await this.#x.keeper.end(token.personKey, { grantId: found.grantId }, 'revoked by the agent');
      if (ended.length > 0) this.#x.log.info('agent_revoked', { clientId: logClientId(payload.clientId), personKey: token.personKey, reason: 'revoked by the agent' });
      return ended.length > 0;
    }
    return false;
  }

  presents(presented: Presented): boolean {
    return presented.authorization !== undefined;
  }

  callerFromMemory(presented: Presented): Caller | undefined {
    const value = bearerToken(presented.authorization);
    const found = value === undefined ? undefined : this.#remembered(value);
    return found === undefined ? undefined : { access: found.caller.access, grant: found.grant };
  }

  async callerFrom(presented: Presented): Promise<Caller | null> {
    const value = bearerToken(presented.authorization);
    const found = value === undefined ? null : await this.resolve(value);
    return found === null ? null : { access: found.caller.access, grant: found.grant };
  }

  /**
   * The agent and live grant an access token speaks for, if it was issued for `resource`;
   * null when it is unknown, expired, ended, or for another resource. A token the gateway
   * did not mint as an agent's is refused before anything is read. Throws
   * GrantUnavailableError when the ledger cannot be asked.
   */
  async resolve(value: string, resource?: string): Promise<{ caller: AgentCaller; grant: Grant } | null> {
    const found = this.#remembered(value) ?? (await this.#check(value));
    if (found === null || (resource !== undefined && found.caller.agent.resource !== resource)) return null;
    return found;
  }

  #remembered(value: string): { caller: AgentCaller; grant: Grant } | undefined {
    const remembered = this.#x.memory.get(value) as Remembered | undefined;
    if (remembered?.kind !== 'agent-token') return undefined;
    const now = this.#x.now();
    if (remembered.caller.expiresAt <= now || now - remembered.checkedAt >= LIVENESS_TTL_MS) return undefined;
    const grant = this.#x.keeper.remembered(remembered.caller.access.grantId);
    return grant === undefined ? undefined : { caller: remembered.caller, grant };
  }

  async #check(value: string): Promise<{ caller: AgentCaller; grant: Grant } | null> {
    const token = this.#x.minter.parse('agent-access', value);
    if (token === null || token.personKey === undefined) return null;
    const now = this.#x.now();
    const tokenId = hashFor('agent-access', token.secret);
    const known = this.#x.memory.get(value) as Remembered | undefined;
    const knownGrant = known?.kind === 'agent-token' ? this.#x.keeper.remembered(known.caller.access.grantId) : undefined;
    let answer;
    try {
      answer = await this.#x.ledgerFor(token.personKey).checkToken(tokenId, knownGrant?.version ?? 0, now);
    } catch (error) {
      throw new GrantUnavailableError('The gateway could not confirm the token right now', { retryAfter: 1, cause: error });
    }
    if (!answer.alive) {
      this.#x.memory.delete(value);
      return null;
    }
    let caller = known?.kind === 'agent-token' ? known.caller : undefined;
    if (caller === undefined) {
      const payload = await this.#openPayload(token.secret, tokenId, answer.payload);
      if (payload === null) return null;
      const { grantSecret, ...agent } = payload;
      caller = {
        personKey: token.personKey,
        access: { personKey: token.personKey, grantId: answer.grantId, key: await this.#grantKey(decodeBase64(grantSecret)) },
        expiresAt: answer.expiresAt,
        agent,
      };
    }
    const grant = answer.sealed === null ? knownGrant : await this.#x.keeper.openGrant(caller.access, answer.version, answer.sealed);
    if (grant === undefined || grant === null) return null;
    this.#x.keeper.remember(grant);
    this.#x.memory.set(value, { kind: 'agent-token', caller, checkedAt: now } satisfies Remembered);
    return { caller, grant };
  }

  /** A new refresh token and access token for the grant, and the answer that hands them over. */
  async #pair(access: GrantAccess, description: AgentDescription, grantSecret: Uint8Array): Promise<{ pair: TokenPair; answer: AgentTokenAnswer }> {
    const now = this.#x.now();
    const refresh = this.#x.minter.mint('agent-refresh', access.personKey);
    const token = this.#x.minter.mint('agent-access', access.personKey);
    const refreshId = hashFor('agent-refresh', refresh.secret);
    const tokenId = hashFor('agent-access', token.secret);
    const payload = JSON.stringify({ ...description, grantSecret: encodeBase64(grantSecret) } satisfies Payload);
    const expiresAt = Math.min(now + AGENT_ACCESS_TTL_SECONDS * 1000, description.expiresAt);
    const pair: TokenPair = {
      refreshId,
      refresh: { grantId: access.grantId, issuedAt: now, expiresAt: description.expiresAt, sealed: await seal(await this.#x.sealer.keyFor('agent-token', refresh.secret), refreshId, payload) },
      tokenId,
      token: { grantId: access.grantId, issuedAt: now, expiresAt, sealed: await seal(await this.#x.sealer.keyFor('agent-token', token.secret), tokenId, payload) },
    };
    return {
      pair,
      answer: {
        access_token: token.value,
        token_type: 'Bearer',
        expires_in: Math.max(1, Math.floor((expiresAt - now) / 1000)),
        refresh_token: refresh.value,
        scope: scopeString(description.scope),
      },
    };
  }

  async #grantKey(grantSecret: Uint8Array) {
    return importSealKey(await this.#x.sealer.keyBytes('agent-grant', grantSecret));
  }

  async #openPayload(secret: Uint8Array, storageKey: string, sealed: string): Promise<Payload | null> {
    const text = await open(await this.#x.sealer.keyFor('agent-token', secret), storageKey, sealed);
    const v = text === null ? undefined : parseJson(text);
    if (!isObject(v) || typeof v.grantSecret !== 'string' || typeof v.clientId !== 'string' || typeof v.clientName !== 'string') return null;
    const user = parsePerson(v.user);
    if (user === null || (v.scope !== 'read' && v.scope !== 'write') || typeof v.resource !== 'string') return null;
    if (typeof v.createdAt !== 'number' || typeof v.expiresAt !== 'number') return null;
    return { grantSecret: v.grantSecret, clientId: v.clientId, clientName: v.clientName, scope: v.scope, resource: v.resource, user, createdAt: v.createdAt, expiresAt: v.expiresAt };
  }
}

/** A client_id as a log line may carry it: ours as is (public), a metadata document's URL by its host only. */
export function logClientId(clientId: string): string {
  if (!clientId.startsWith('https://')) return clientId;
  try {
    return `metadata document at ${new URL(clientId).host}`;
  } catch {
    return 'metadata document';
  }
}

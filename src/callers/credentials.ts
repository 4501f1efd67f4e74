/**
 * Script credentials: the gateway's own client_id / client_secret pairs, which unmodified
 * Looker SDKs present to `POST /api/4.0/login` instead of a Looker API key. Each is born
 * from its own Looker authorization, so it holds its own grant: revoking one never
 * touches a browser session or another credential.
 *
 * Stored only as hashes: the KV record is keyed by a hash of the client_id and sealed
 * under a key derived from it, and holds a hash of the secret; the grant is sealed under
 * a key derived from SESSION_SECRET and the secret, which only the person's file holds.
 */
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { importSealKey } from '../crypto/seal.ts';
import { hashFor, randomId } from '../crypto/tokens.ts';
import type { GrantAccess } from '../grants/access.ts';
import type { GrantScope } from '../grants/scope.ts';
import type { LookerUser } from '../looker/api.ts';
import type { TokenSet } from '../looker/oauth.ts';
import type { CallerContext } from './context.ts';
import type { HeldGrant } from './credential-flows.ts';
import type { CredentialRecord, KeyValueStore } from './records.ts';

/** A credential whose secret was just verified: what the login shim needs to mint a token. */
export interface VerifiedCredential {
  readonly record: CredentialRecord;
  readonly kvKey: string;
  readonly access: GrantAccess;
  /** The grant key's bytes, to hand (sealed) to the access tokens minted for it. */
  readonly grantKey: Uint8Array;
}

export interface IssuedCredential {
  clientId: string;
  clientSecret: string;
  record: CredentialRecord;
}

interface Remembered {
  kind: 'credential';
  kvKey: string;
  record: CredentialRecord;
}

export class ScriptCredentials {
  readonly #x: CallerContext;
  readonly #kv: KeyValueStore;

  constructor(context: CallerContext, kv: KeyValueStore) {
    this.#x = context;
    this.#kv = kv;
  }

  /** A new credential holding `tokens` as its grant. The secret is returned here, once, and never stored. */
  async create(init: { personKey: string; user: LookerUser; name: string; scope: GrantScope; tokens: TokenSet; redirectUri: string; ttlMs: number }): Promise<IssuedCredential> {
    const now = this.#x.now();
    const id = this.#x.minter.mint('client-id');
    const secret = this.#x.minter.mint('client-secret');
    const kvKey = hashFor('credential', id.secret);
    const grantKey = await this.#x.sealer.keyBytes('credential-grant', secret.secret);
    const access: GrantAccess = { personKey: init.personKey, grantId: randomId(), key: await importSealKey(grantKey) };
    const record: CredentialRecord = {
      personKey: init.personKey,
      grantId: access.grantId,
      user: init.user,
      createdAt: now,
      expiresAt: now + init.ttlMs,
      clientId: id.value,
      name: init.name,
      secretHash: hashFor('client-secret', secret.secret),
    };
    await this.#x.keeper.create(access, {
      kind: 'credential',
      label: init.name,
      scope: init.scope,
      tokens: init.tokens,
      redirectUri: init.redirectUri,
      expiresAt: record.expiresAt,
      kvKeys: [kvKey],
      clientId: id.value,
    });
    try {
      await this.#x.records.put(this.#kv, 'credential', kvKey, id.secret, record);
    } catch (error) {
      await this.#x.keeper.end(init.personKey, { grantId: access.grantId }, 'could not store the credential').catch(() => {});
      throw error;
    }
    this.#x.log.info('credential_created', { clientId: id.value, personKey: init.personKey });
    return { clientId: id.value, clientSecret: secret.value, record };
  }

  /** A credential for a grant that waited for the person's Allow (see credential-flows.ts). */
  createFromHeld(held: HeldGrant, ttlMs: number): Promise<IssuedCredential> {
    return this.create({
      personKey: held.personKey,
      user: held.user,
      name: held.name,
      scope: held.scope,
      tokens: held.tokens,
      redirectUri: held.lookerRedirectUri,
      ttlMs,
    });
  }

  /**
   * The credential these values name, if the secret is right and it has not expired.
   * A client_id the gateway did not mint is refused before KV is read. (Whether its
   * grant is still alive is the ledger's answer, asked when a token is minted.)
   */
  async verify(clientId: string | undefined, clientSecret: string | undefined): Promise<VerifiedCredential | null> {
    const id = this.#x.minter.parse('client-id', clientId);
    const secret = this.#x.minter.parse('client-secret', clientSecret);
    if (id === null || secret === null) return null;
    const holder = await this.#holder(id.value, id.secret);
    if (holder === null || holder.record.expiresAt <= this.#x.now()) return null;
    const presented = new TextEncoder().encode(hashFor('client-secret', secret.secret));
    if (!constantTimeEqual(presented, new TextEncoder().encode(holder.record.secretHash))) return null;
    const grantKey = await this.#x.sealer.keyBytes('credential-grant', secret.secret);
    return {
      record: holder.record,
      kvKey: holder.kvKey,
      access: { personKey: holder.record.personKey, grantId: holder.record.grantId, key: await importSealKey(grantKey) },
      grantKey,
    };
  }

  /** Ends the credential everywhere: its grant, its access tokens, its KV record; revoked at Looker. */
  async revoke(credential: { personKey: string; grantId: string; clientId: string }, reason: string): Promise<boolean> {
    this.#x.memory.delete(`credential:${credential.clientId}`);
    const ended = await this.#x.keeper.end(credential.personKey, { grantId: credential.grantId }, reason);
    // Another instance may have ended it already (this one still remembered it): one revocation, one line.
    if (ended.length > 0) this.#x.log.info('credential_revoked', { clientId: credential.clientId, reason });
    return ended.length > 0;
  }

  async #holder(clientId: string, idSecret: Uint8Array): Promise<Remembered | null> {
    const memoryKey = `credential:${clientId}`;
    const remembered = this.#x.memory.get(memoryKey) as Remembered | undefined;
    if (remembered?.kind === 'credential') return remembered;
    const kvKey = hashFor('credential', idSecret);
    const record = await this.#x.records.readCredential(this.#kv, kvKey, idSecret);
    if (record === null) return null;
    const holder: Remembered = { kind: 'credential', kvKey, record };
    this.#x.memory.set(memoryKey, holder);
    return holder;
  }
}

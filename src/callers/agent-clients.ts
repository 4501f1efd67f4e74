/**
 * The OAuth clients of AI agents (MCP clients): the ones that registered themselves
 * (RFC 7591), kept in KV, and the ones whose client_id is the https URL of their metadata
 * document, fetched when asked (and remembered briefly). Either way the gateway learns a
 * name the client claims and the redirect URIs it may be sent back to; nothing it registers
 * is a secret (they are public clients, PKCE is their proof).
 *
 * A registration's record is keyed by a hash of its client_id and sealed under a key from
 * SESSION_SECRET and the client_id's random part: KV alone shows nothing of it.
 */
import { open, seal } from '../crypto/seal.ts';
import { hashFor } from '../crypto/tokens.ts';
import { isObject, parseJson } from '../grants/record.ts';
import type { Fetch } from '../looker/http.ts';
import { fetchClientMetadata, looksLikeMetadataUrl } from '../oauth/client-metadata.ts';
import { MAX_REDIRECT_URIS, redirectUriProblem } from '../oauth/redirect-uris.ts';
import type { CallerContext } from './context.ts';
import type { AgentRegistration } from './credential-flows.ts';
import type { KeyValueStore } from './records.ts';
import { cleanName } from './names.ts';

/** How long a registration is kept: a client that still needs it after a year registers again. */
export const REGISTRATION_TTL_SECONDS = 365 * 24 * 3600;
/** How long a fetched metadata document (or its refusal) is remembered in an isolate. */
const DOCUMENT_MEMORY_MS = 5 * 60_000;
export const CLIENT_NAME_MAX = 100;

export interface AgentClient {
  clientId: string;
  /** As the client claims it, cleaned of controls; nobody checked it. */
  name: string;
  registration: AgentRegistration;
  redirectUris: string[];
}

export type Registration = { ok: true; client: AgentClient; issuedAt: number } | { ok: false; error: 'invalid_redirect_uri' | 'invalid_client_metadata'; description: string };

export type ClientLookup = { ok: true; client: AgentClient } | { ok: false; problem: string };

interface StoredRegistration {
  name: string;
  redirectUris: string[];
  createdAt: number;
}

interface RememberedDocument {
  kind: 'client-document';
  lookup: ClientLookup;
  until: number;
}

export class AgentClients {
  readonly #x: CallerContext;
  readonly #kv: KeyValueStore;
  readonly #fetch: Fetch;
  readonly #documentTimeoutMs: number | undefined;

  constructor(context: CallerContext, kv: KeyValueStore, fetch: Fetch, documentTimeoutMs?: number) {
    this.#x = context;
    this.#kv = kv;
    this.#fetch = fetch;
    this.#documentTimeoutMs = documentTimeoutMs;
  }

  /** RFC 7591 §2–3: checks the client's metadata and stores it; the client_id is returned once and kept only as a hash. */
  async register(metadata: Record<string, unknown>): Promise<Registration> {
    const uris = metadata.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0) return { ok: false, error: 'invalid_redirect_uri', description: 'redirect_uris must list at least one URI.' };
    if (uris.length > MAX_REDIRECT_URIS) return { ok: false, error: 'invalid_redirect_uri', description: `At most ${MAX_REDIRECT_URIS} redirect_uris.` };
    for (const uri of uris) {
      const problem = redirectUriProblem(uri);
      if (problem !== null) return { ok: false, error: 'invalid_redirect_uri', description: `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.` };
    }
    const grantTypes = metadata.grant_types;
    if (grantTypes !== undefined && (!Array.isArray(grantTypes) || grantTypes.some((g) => g !== 'authorization_code' && g !== 'refresh_token'))) {
      return { ok: false, error: 'invalid_client_metadata', description: 'grant_types may only be authorization_code and refresh_token.' };
    }
    const responseTypes = metadata.response_types;
    if (responseTypes !== undefined && (!Array.isArray(responseTypes) || responseTypes.some((r) => r !== 'code'))) {
      return { ok: false, error: 'invalid_client_metadata', description: 'response_types may only be code.' };
    }
    if (metadata.client_name !== undefined && typeof metadata.client_name !== 'string') {
      return { ok: false, error: 'invalid_client_metadata', description: 'client_name must be a string.' };
    }
    const now = this.#x.now();
    const id = this.#x.minter.mint('agent-client');
    const stored: StoredRegistration = { name: clientName(metadata.client_name), redirectUris: [...new Set(uris as string[])], createdAt: now };
    const key = hashFor('agent-client', id.secret);
    const sealed = await seal(await this.#x.sealer.keyFor('agent-client', id.secret), key, JSON.stringify(stored));
    await this.#kv.put(key, sealed, { expirationTtl: REGISTRATION_TTL_SECONDS });
    return { ok: true, client: { clientId: id.value, name: stored.name, registration: 'dynamic', redirectUris: stored.redirectUris }, issuedAt: now };
  }

  /** The client a client_id names: a registration of this gateway's, or a metadata document. */
  async find(clientId: string | undefined): Promise<ClientLookup> {
    if (clientId === undefined || clientId === '') return { ok: false, problem: 'The request names no client_id.' };
    if (looksLikeMetadataUrl(clientId)) return this.#document(clientId);
    const id = this.#x.minter.parse('agent-client', clientId);
    if (id === null) return { ok: false, problem: 'This client_id is unknown here: the client must register first, or use the URL of its metadata document.' };
    const key = hashFor('agent-client', id.secret);
    const sealed = await this.#kv.get(key);
    const text = sealed === null ? null : await open(await this.#x.sealer.keyFor('agent-client', id.secret), key, sealed);
    const v = text === null ? undefined : parseJson(text);
    if (!isObject(v) || typeof v.name !== 'string' || !Array.isArray(v.redirectUris)) {
      return { ok: false, problem: 'This client registration is unknown or has expired: the client must register again.' };
    }
    return { ok: true, client: { clientId, name: v.name, registration: 'dynamic', redirectUris: v.redirectUris as string[] } };
  }

  async #document(url: string): Promise<ClientLookup> {
    const memoryKey = `client-document:${url}`;
    const now = this.#x.now();
    const remembered = this.#x.memory.get(memoryKey) as RememberedDocument | undefined;
    if (remembered?.kind === 'client-document' && remembered.until > now) return remembered.lookup;
    const fetched = await fetchClientMetadata(this.#fetch, url, this.#documentTimeoutMs);
    const lookup: ClientLookup = fetched.ok
      ? { ok: true, client: { clientId: url, name: clientName(fetched.metadata.clientName, new URL(url).host), registration: 'metadata', redirectUris: fetched.metadata.redirectUris } }
      : { ok: false, problem: `The client's metadata document was refused: ${fetched.problem}.` };
    this.#x.memory.set(memoryKey, { kind: 'client-document', lookup, until: now + DOCUMENT_MEMORY_MS } satisfies RememberedDocument);
    return lookup;
  }
}

/** A client's name as a page may show it: printable, at most CLIENT_NAME_MAX characters; else the fallback. */
function clientName(raw: unknown, fallback = 'An unnamed client'): string {
  return cleanName(typeof raw === 'string' ? raw : undefined, fallback, CLIENT_NAME_MAX);
}

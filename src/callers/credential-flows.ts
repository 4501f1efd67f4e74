/**
 * The ways a script credential comes to be, between the Looker sign-in that gives it a
 * grant and the moment its secret is handed over:
 *
 * - consent: after Looker's callback the new grant waits (≤ 10 minutes) in the person's
 *   ledger until the person answers "Allow <name> …?" in the same browser (a consent
 *   cookie binds the answer to it);
 * - loopback (RFC 8252): on Allow, a one-time code (single use, ≤ 60 s, bound to the
 *   command line's PKCE challenge and redirect_uri) is what the command line trades for
 *   the credential;
 * - device (RFC 8628): the command line holds a device code and shows a short user code;
 *   the person enters it in any browser, signs in, allows; the command line's polling
 *   then collects the credential.
 *
 * While it waits, a grant is sealed under a key derived from SESSION_SECRET and a random
 * salt kept beside it: the ledger alone opens nothing, and the wait is short.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from '@oslojs/encoding';
import { importSealKey, open, seal } from '../crypto/seal.ts';
import { hashFor, randomId } from '../crypto/tokens.ts';
import type { PendingBox } from '../grants/ledger.ts';
import type { GrantScope } from '../grants/scope.ts';
import type { LookerUser } from '../looker/api.ts';
import type { TokenSet } from '../looker/oauth.ts';
import { networkGroupOf, networkOf } from '../http/client.ts';
import { TtlMap } from '../util/ttl-map.ts';
import type { CallerContext } from './context.ts';
import type { DeviceLimits, Requester, WaitingDevice } from './device-store.ts';

export const CONSENT_TTL_MS = 10 * 60_000;
export const CODE_TTL_MS = 60_000;
export const DEVICE_CODE_TTL_SECONDS = 600;
/**
 * The device flow's limits (see DeviceLimits): ten waiting sign-ins per network, 5,000
 * gateway-wide (the busiest group's oldest dropped first when full), twenty wrong codes
 * per network and a hundred per group in ten minutes, counted for up to 10,000 networks
 * and groups.
 */
export const DEFAULT_DEVICE_LIMITS: DeviceLimits = {
  perNetwork: 10,
  total: 5000,
  wrongCodesPerNetwork: 20,
  wrongCodesPerGroup: 100,
  wrongCodesWindowMs: 10 * 60_000,
  wrongCodeNetworks: 10_000,
};
/**
 * How long after an agent's grant was made a second use of its code ends it (and how long
 * the mark of a second use waits for the first). A second use that matters (a thief racing
 * the client) comes within the code's minute; the code lives on in the redirect URL (browser
 * history, logs), so a use long after would only let whoever saw it revoke the agent.
 */
export const CODE_REPLAY_WINDOW_MS = CONSENT_TTL_MS;
/** The mark a second use of an agent's code leaves for its first (a box that holds nothing). */
const replayMarkKey = (grantId: string) => `agent-code-replayed:${grantId}`;
const REPLAY_MARK: PendingBox = { salt: '', sealed: '', name: 'an authorization code used twice', user: { id: '', displayName: '', email: null } };

/** No vowels or look-alikes: codes read aloud or typed from another screen. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

/** Where the credential goes once allowed. */
export type CredentialFlow =
  | { kind: 'loopback'; redirectUri: string; codeChallenge: string; state: string }
  /** `requester` and `startedAt`: where and when the device asked, for the person to judge. */
  | { kind: 'device'; userCode: string; requester: Requester; startedAt: number }
  | { kind: 'page' }
  | AgentFlow;

/** How an AI agent's client came to be known: it registered itself (RFC 7591), or its client_id is its metadata document's URL. */
export type AgentRegistration = 'dynamic' | 'metadata';

/** An AI agent's authorization request (OAuth 2.1), checked at /oauth/authorize: where its code goes once the person allows. */
export interface AgentFlow {
  kind: 'agent';
  clientId: string;
  /** As the client claims it (cleaned of controls); nobody checked it. */
  clientName: string;
  registration: AgentRegistration;
  redirectUri: string;
  codeChallenge: string;
  state: string | undefined;
  /** What the client asked for; the person may grant less. */
  scope: GrantScope;
  resource: string;
}

/** What an agent's authorization code stands for, once redeemed. */
export interface AgentAuthorization {
  clientId: string;
  clientName: string;
  registration: AgentRegistration;
  redirectUri: string;
  resource: string;
  /** What the person granted. */
  scope: GrantScope;
}

export type AgentCodeRedemption =
  | { ok: true; held: HeldGrant; agent: AgentAuthorization; grantId: string }
  /** `replayed`: a real code that was already used (or expired): the grant it issued, if any, is to end. */
  | { ok: false; reason: string; spent?: HeldGrant; replayed?: { personKey: string; grantId: string } };

/** A credential waiting for the person's answer, as the consent page shows it. */
export interface PendingConsent {
  id: string;
  personKey: string;
  name: string;
  /** What the credential asks to do: read only, or everything the person's Looker role allows. */
  scope: GrantScope;
  user: LookerUser;
  flow: CredentialFlow;
}

/** A waiting grant, opened: what creating the credential needs. */
export interface HeldGrant {
  personKey: string;
  name: string;
  scope: GrantScope;
  user: LookerUser;
  tokens: TokenSet;
  /** The redirect_uri of the Looker authorization (refreshes send it again). */
  lookerRedirectUri: string;
}

/** A refused redemption that spent a real code carries its grant, which nobody will hold: the caller ends it at Looker. */
export type CodeRedemption = { ok: true; held: HeldGrant } | { ok: false; reason: string; spent?: HeldGrant };

export type DevicePoll =
  | { status: 'pending' }
  | { status: 'slow_down'; interval: number }
  | { status: 'denied' }
  | { status: 'expired' }
  | { status: 'approved'; held: HeldGrant };

export class CredentialFlows {
  readonly #x: CallerContext;
  /** The isolate's memory of device-flow refusals (a network at its limit, a network told to wait): until when. */
  readonly #refusedUntil: TtlMap<string, number>;

  constructor(context: CallerContext) {
    this.#x = context;
    this.#refusedUntil = new TtlMap<string, number>({ maxEntries: 5000, ttlMs: DEVICE_CODE_TTL_SECONDS * 1000, now: context.now });
  }

  /** Holds a new grant until the person answers; returns the consent id and the secret for the consent cookie. */
  async holdForConsent(held: HeldGrant, flow: CredentialFlow): Promise<{ id: string; cookieValue: string }> {
    const id = randomId();
    // A minted value: a made-up consent cookie is refused by its MAC before any ledger is asked.
    const cookie = this.#x.minter.mint('consent', held.personKey);
    // The flow is sealed too: the loopback's state and the device's code are kept in no store in the clear.
    const box: PendingBox = { ...(await this.#sealHeld(held)), flow: await this.#seal(held.personKey, 'flow', flow), consentHash: hashFor('consent', cookie.secret) };
    await this.#x.ledgerFor(held.personKey).putBox(`consent:${id}`, box, this.#x.now() + CONSENT_TTL_MS);
    return { id, cookieValue: cookie.value };
  }

  /** The consent waiting under `id` for the browser holding `cookieValue`, or null. */
  async peekConsent(id: string, cookieValue: string | undefined, family: ConsentFamily = 'script'): Promise<PendingConsent | null> {
    const found = await this.#consentBox(id, cookieValue, 'peek', family);
    return found === null ? null : found.pending;
  }

  /** Takes the consent (single use) with its grant opened, or null. */
  async takeConsent(id: string, cookieValue: string | undefined, family: ConsentFamily = 'script'): Promise<{ pending: PendingConsent; held: HeldGrant } | null> {
    const found = await this.#consentBox(id, cookieValue, 'take', family);
    if (found === null) return null;
    const held = await this.#openHeld(found.pending.personKey, found.box);
    return held === null ? null : { pending: found.pending, held };
  }

  /** Allowed through the loopback flow: a one-time code for the command line. */
  async issueCode(held: HeldGrant, flow: Extract<CredentialFlow, { kind: 'loopback' }>): Promise<string> {
    const code = this.#x.minter.mint('code', held.personKey);
    const box: PendingBox = { ...(await this.#sealHeld(held)), redirectUri: flow.redirectUri, codeChallenge: flow.codeChallenge };
    await this.#x.ledgerFor(held.personKey).putBox(`code:${hashFor('code', code.secret)}`, box, this.#x.now() + CODE_TTL_MS);
    return code.value;
  }

  /** Allowed by the person: an OAuth authorization code for the agent (single use, 60 s), bound to its client, redirect_uri, PKCE challenge and resource. */
  async issueAgentCode(held: HeldGrant, flow: AgentFlow, granted: GrantScope): Promise<string> {
    const code = this.#x.minter.mint('agent-code', held.personKey);
    const agent: AgentAuthorization = {
      clientId: flow.clientId,
      clientName: flow.clientName,
      registration: flow.registration,
      redirectUri: flow.redirectUri,
      resource: flow.resource,
      scope: granted,
    };
    const box: PendingBox = {
      ...(await this.#sealHeld(held)),
      redirectUri: flow.redirectUri,
      codeChallenge: flow.codeChallenge,
      flow: await this.#seal(held.personKey, 'agent', agent),
    };
    await this.#x.ledgerFor(held.personKey).putBox(`agent-code:${hashFor('agent-code', code.secret)}`, box, this.#x.now() + CODE_TTL_MS);
    return code.value;
  }

  /**
   * The agent trades its code (once, within 60 s) with its PKCE verifier, the same client_id,
   * redirect_uri and resource. The grant a code issues is named by the code itself, so a code
   * presented again after its redemption names the grant to end.
   */
  async redeemAgentCode(
    codeValue: string | undefined,
    presented: { verifier: string | undefined; redirectUri: string | undefined; clientId: string | undefined; resource: string | undefined },
  ): Promise<AgentCodeRedemption> {
    const code = this.#x.minter.parse('agent-code', codeValue);
    if (code === null || code.personKey === undefined) return { ok: false, reason: 'The code is not one this gateway issued.' };
    const grantId = this.#x.minter.derivedId('agent-grant', code.secret);
    const ledger = this.#x.ledgerFor(code.personKey);
    const box = await ledger.takeBox(`agent-code:${hashFor('agent-code', code.secret)}`, this.#x.now());
    const gone = { ok: false as const, reason: 'The code has expired or was already used.', replayed: { personKey: code.personKey, grantId } };
    if (box === null || box.flow === undefined) {
      // Its first redemption may not have created the grant yet (the caller ends it, and would
      // find nothing): leave a mark that redemption looks for once its tokens exist
      // (codeWasReplayed). Whichever comes first, the mark or the grant, the grant ends.
      // A mark that cannot be stored must not stop the caller ending a grant already made.
      try {
        await ledger.putBox(replayMarkKey(grantId), REPLAY_MARK, this.#x.now() + CODE_REPLAY_WINDOW_MS);
      } catch {
        // Ending what exists is still worth it.
      }
      return gone;
    }
    const held = await this.#openHeld(code.personKey, box);
    const agent = await this.#open<AgentAuthorization>(code.personKey, 'agent', box.flow);
    if (held === null || agent === null) return gone;
    // The code is spent either way (single use): a mismatch leaves its grant to be ended.
    const refuse = (reason: string): AgentCodeRedemption => ({ ok: false, reason, spent: held });
    if (presented.clientId !== agent.clientId) return refuse('client_id does not match the authorization request.');
    if (box.redirectUri !== presented.redirectUri) return refuse('redirect_uri does not match the authorization request.');
    if (presented.resource !== undefined && presented.resource !== agent.resource) return refuse('resource does not match the authorization request.');
    if (!pkceMatches(presented.verifier, box.codeChallenge)) return refuse('code_verifier is missing or does not match the code_challenge.');
    return { ok: true, held, agent, grantId };
  }

  /**
   * Whether the code behind this agent grant was presented again while it was being
   * redeemed (see redeemAgentCode): then the tokens just issued must not be handed out.
   */
  async codeWasReplayed(personKey: string, grantId: string): Promise<boolean> {
    return (await this.#x.ledgerFor(personKey).takeBox(replayMarkKey(grantId), this.#x.now())) !== null;
  }

  /** The command line trades its code (once, within 60 s, with its PKCE verifier and the same redirect_uri). */
  async redeemCode(codeValue: string | undefined, verifier: string | undefined, redirectUri: string | undefined): Promise<CodeRedemption> {
    const code = this.#x.minter.parse('code', codeValue);
    if (code === null || code.personKey === undefined) return { ok: false, reason: 'The code is not one this gateway issued.' };
    const box = await this.#x.ledgerFor(code.personKey).takeBox(`code:${hashFor('code', code.secret)}`, this.#x.now());
    if (box === null) return { ok: false, reason: 'The code has expired or was already used.' };
    const held = await this.#openHeld(code.personKey, box);
    if (held === null) return { ok: false, reason: 'The code has expired or was already used.' };
    // The code is spent either way (single use): a mismatch leaves its grant to be ended.
    if (box.redirectUri !== redirectUri) return { ok: false, reason: 'redirect_uri does not match the authorization request.', spent: held };
    if (typeof verifier !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) {
      return { ok: false, reason: 'code_verifier is missing or malformed.', spent: held };
    }
    if (!pkceMatches(verifier, box.codeChallenge)) return { ok: false, reason: 'code_verifier does not match the code_challenge.', spent: held };
    return { ok: true, held };
  }

  /**
   * A new device authorization: the device code for the command line, the user code for
   * the person. Refused (nothing stored) when the requester's network already has its
   * limit of sign-ins waiting.
   */
  async startDevice(
    name: string,
    scope: GrantScope,
    requester: Requester,
    interval: number,
    limits: DeviceLimits,
  ): Promise<{ deviceCode: string; userCode: string; shed: number } | 'too many from this network' | 'busy'> {
    const now = this.#x.now();
    const deviceCode = this.#x.minter.mint('device-code');
    const deviceKey = hashFor('device', deviceCode.secret);
    const { network, group } = this.#networkKeys(requester.address);
    // A network told "no more" is told again from memory until its first sign-in expires (no storage call).
    if ((this.#refusedUntil.get(`start:${network}`) ?? 0) > now) return 'too many from this network';
    for (let attempt = 0; attempt < 5; attempt++) {
      const userCode = generateUserCode();
      const started = await this.#x.deviceFlows().start(
        {
          deviceKey,
          userCodeKey: this.#userCodeKey(userCode),
          name,
          scope,
          network,
          group,
          requester,
          interval,
          startedAt: now,
          expiresAt: now + DEVICE_CODE_TTL_SECONDS * 1000,
        },
        limits,
      );
      if (started.ok) return { deviceCode: deviceCode.value, userCode, shed: started.shed };
      if (started.reason === 'network limit') {
        this.#refusedUntil.set(`start:${network}`, started.retryAt);
        return 'too many from this network';
      }
    }
    // Five user codes in a row already in use: 2.6·10^10 codes make this all but impossible.
    return 'busy';
  }

  /**
   * The device sign-in waiting under what the person typed; null for a wrong or expired
   * code; 'wait' once the person's network entered too many wrong codes lately (user
   * codes are short: guessing them must stay slow).
   */
  async findDevice(typed: string, address: string, limits: DeviceLimits): Promise<(WaitingDevice & { userCode: string }) | null | 'wait'> {
    const now = this.#x.now();
    const from = this.#networkKeys(address);
    // A verdict of "wait" only gets stricter until its window ends: told again from memory, with no storage call.
    if ((this.#refusedUntil.get(`enter:${from.network}`) ?? 0) > now) return 'wait';
    const userCode = normaliseUserCode(typed);
    const entry = await this.#x.deviceFlows().enter(userCode === null ? null : this.#userCodeKey(userCode), from, now, limits);
    if (entry.status === 'found' && userCode !== null) return { ...entry.device, userCode };
    if (entry.status === 'wait') {
      this.#refusedUntil.set(`enter:${from.network}`, entry.until);
      return 'wait';
    }
    return null;
  }

  /** The person answered for a device: the grant waits for the command line's next poll. */
  async answerDevice(userCode: string, answer: { allowed: true; held: HeldGrant } | { allowed: false }): Promise<boolean> {
    const now = this.#x.now();
    if (!answer.allowed) return this.#x.deviceFlows().answer(this.#userCodeKey(userCode), { allowed: false }, now);
    const waiting = randomId();
    const ledger = this.#x.ledgerFor(answer.held.personKey);
    await ledger.putBox(`device-grant:${waiting}`, await this.#sealHeld(answer.held), now + DEVICE_CODE_TTL_SECONDS * 1000);
    if (await this.#x.deviceFlows().answer(this.#userCodeKey(userCode), { allowed: true, personKey: answer.held.personKey, waiting }, now)) return true;
    await ledger.takeBox(`device-grant:${waiting}`, now);
    return false;
  }

  /** One poll of the command line (RFC 8628 §3.5). */
  async pollDevice(deviceCodeValue: string | undefined): Promise<DevicePoll> {
    const deviceCode = this.#x.minter.parse('device-code', deviceCodeValue);
    if (deviceCode === null) return { status: 'expired' };
    const now = this.#x.now();
    const state = await this.#x.deviceFlows().poll(hashFor('device', deviceCode.secret), now);
    if (state.status !== 'approved') return state;
    const box = await this.#x.ledgerFor(state.personKey).takeBox(`device-grant:${state.waiting}`, now);
    const held = box === null ? null : await this.#openHeld(state.personKey, box);
    return held === null ? { status: 'expired' } : { status: 'approved', held };
  }

  /**
   * Sign out everywhere ends what is still on its way too: credentials waiting for the
   * person's answer, allowed ones the command line has not collected yet (loopback codes,
   * device grants). Their new Looker tokens are revoked. Returns how many there were.
   */
  async cancelPending(personKey: string): Promise<number> {
    const boxes = await this.#x.ledgerFor(personKey).takeBoxes(['consent:', 'code:', 'device-grant:', 'agent-code:'], this.#x.now());
    await Promise.all(
      boxes.map(async (box) => {
        const held = await this.#openHeld(personKey, box);
        if (held !== null) await this.#x.keeper.revokeQuietly(held.tokens.accessToken);
      }),
    );
    return boxes.length;
  }

  async #consentBox(id: string, cookieValue: string | undefined, mode: 'peek' | 'take', family: ConsentFamily): Promise<{ pending: PendingConsent; box: PendingBox } | null> {
    if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return null;
    const cookie = this.#x.minter.parse('consent', cookieValue);
    if (cookie === null || cookie.personKey === undefined) return null;
    const { personKey, secret } = cookie;
    const ledger = this.#x.ledgerFor(personKey);
    const now = this.#x.now();
    const box = await ledger.getBox(`consent:${id}`, now);
    if (box === null || box.consentHash === undefined || box.flow === undefined) return null;
    const presented = new TextEncoder().encode(hashFor('consent', secret));
    if (!constantTimeEqual(presented, new TextEncoder().encode(box.consentHash))) return null;
    const flow = await this.#open<CredentialFlow>(personKey, 'flow', box.flow);
    // An agent's consent is answered on its own page, a script's on the command line's: never one for the other.
    if (flow === null || (flow.kind === 'agent') !== (family === 'agent')) return null;
    if (mode === 'take' && (await ledger.takeBox(`consent:${id}`, now)) === null) return null;
    return { pending: { id, personKey, name: box.name, scope: box.scope ?? 'write', user: box.user, flow }, box };
  }

  /** A user code as the store keeps it: a keyed hash (20^8 codes are too few for a plain one). */
  #userCodeKey(userCode: string): string {
    return this.#x.minter.keyedHash('user-code', userCode);
  }

  /** The requester's network (IPv6 /64, IPv4 address) and group (/48, /24), as keyed hashes. */
  #networkKeys(address: string): { network: string; group: string } {
    return { network: this.#x.minter.keyedHash('network', networkOf(address)), group: this.#x.minter.keyedHash('network-group', networkGroupOf(address)) };
  }

  async #sealHeld(held: HeldGrant): Promise<PendingBox> {
    const sealed: SealedHeld = { tokens: held.tokens, lookerRedirectUri: held.lookerRedirectUri };
    return { ...(await this.#seal(held.personKey, 'pending', sealed)), name: held.name, scope: held.scope, user: held.user };
  }

  /** Seals `value` for `personKey`'s ledger under a key from SESSION_SECRET and a fresh salt kept beside it. */
  async #seal(personKey: string, purpose: string, value: unknown): Promise<{ salt: string; sealed: string }> {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await importSealKey(await this.#x.sealer.keyBytes('pending-grant', salt));
    return { salt: encodeBase64urlNoPadding(salt), sealed: await seal(key, `${purpose}:${personKey}`, JSON.stringify(value)) };
  }

  /** What #seal sealed; null when it does not open (another key, another person, tampered). AES-GCM vouches for the shape. */
  async #open<T>(personKey: string, purpose: string, box: { salt: string; sealed: string }): Promise<T | null> {
    const key = await importSealKey(await this.#x.sealer.keyBytes('pending-grant', decodeBase64urlIgnorePadding(box.salt)));
    const text = await open(key, `${purpose}:${personKey}`, box.sealed);
    return text === null ? null : (JSON.parse(text) as T);
  }

  async #openHeld(personKey: string, box: PendingBox): Promise<HeldGrant | null> {
    const opened = await this.#open<SealedHeld>(personKey, 'pending', box);
    return opened === null ? null : { personKey, name: box.name, scope: box.scope ?? 'write', user: box.user, tokens: opened.tokens, lookerRedirectUri: opened.lookerRedirectUri };
  }
}

/** Which consent page answers a waiting grant: an AI agent's, or a script credential's. */
export type ConsentFamily = 'agent' | 'script';

/** Whether a PKCE verifier (RFC 7636: 43–128 unreserved characters) hashes (S256) to the challenge. */
function pkceMatches(verifier: string | undefined, challenge: string | undefined): boolean {
  if (typeof verifier !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || typeof challenge !== 'string') return false;
  const computed = encodeBase64urlNoPadding(sha256(new TextEncoder().encode(verifier)));
  return constantTimeEqual(new TextEncoder().encode(computed), new TextEncoder().encode(challenge));
}

/** The sealed part of a waiting grant. */
interface SealedHeld {
  tokens: TokenSet;
  lookerRedirectUri: string;
}

/** Eight letters, shown as XXXX-XXXX: 20^8 ≈ 2.6·10^10 codes, alive for ten minutes. */
function generateUserCode(): string {
  let letters = '';
  while (letters.length < 8) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      // Bytes from 240 up would favour the first letters: drop them (no modulo bias).
      if (byte < 240 && letters.length < 8) letters += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    }
  }
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

/** A user code as typed (any case, with or without the dash or spaces), or null when it cannot be one. */
export function normaliseUserCode(input: string): string | null {
  const letters = input.toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== 8 || [...letters].some((ch) => !USER_CODE_ALPHABET.includes(ch))) return null;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

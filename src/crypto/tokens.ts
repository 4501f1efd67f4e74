/**
 * The gateway's bearer secrets: browser session and consent cookies, gateway access
 * tokens, script credentials' ids and secrets, one-time codes. Each is random bytes plus a MAC keyed by
 * SESSION_SECRET, so a forged or mistyped value is refused before any storage is read
 * (an anonymous flood of made-up cookies costs no KV operation). Some carry a routing
 * part, the opaque key of the person they belong to, so the gateway knows which Durable
 * Object to ask without a lookup.
 *
 * Layout: prefix ‖ base64url(routing? ‖ random ‖ MAC), MAC = HMAC-SHA256(key, kind ‖ 0 ‖
 * routing ‖ random) truncated to 96 bits. Storage only ever sees hashes (hashFor).
 */
import { hmac } from '@oslojs/crypto/hmac';
import { SHA256, sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding, encodeHexLowerCase } from '@oslojs/encoding';

/** Bytes of a person key (the routing part of some tokens). */
const PERSON_KEY_BYTES = 16;

export type TokenKind =
  | 'session'
  | 'access-token'
  | 'client-id'
  | 'client-secret'
  | 'code'
  | 'device-code'
  | 'consent'
  | 'agent-client'
  | 'agent-code'
  | 'agent-access'
  | 'agent-refresh';

interface TokenShape {
  prefix: string;
  /** Bytes of routing (a person key) before the random part; 0 for none. */
  routing: number;
  random: number;
}

/** Recognisable prefixes, so a leaked value is easy to identify (and to scan for). */
const SHAPES: Record<TokenKind, TokenShape> = {
  session: { prefix: '', routing: 0, random: 32 },
  'access-token': { prefix: 'lgwt_', routing: PERSON_KEY_BYTES, random: 32 },
  'client-id': { prefix: 'lgwc_', routing: 0, random: 16 },
  'client-secret': { prefix: 'lgws_', routing: 0, random: 32 },
  code: { prefix: 'lgwo_', routing: PERSON_KEY_BYTES, random: 32 },
  'device-code': { prefix: 'lgwd_', routing: 0, random: 32 },
  /** A consent cookie: names the person whose ledger holds the waiting grant. */
  consent: { prefix: '', routing: PERSON_KEY_BYTES, random: 32 },
  /** An AI agent's client_id from dynamic registration (public: it names the client's record). */
  'agent-client': { prefix: 'lgwi_', routing: 0, random: 16 },
  /** The OAuth authorization code an agent trades at /oauth/token (single use, 60 s). */
  'agent-code': { prefix: 'lgwac_', routing: PERSON_KEY_BYTES, random: 32 },
  /** An agent's access token for /mcp (1 hour); never accepted at /api/*. */
  'agent-access': { prefix: 'lgwat_', routing: PERSON_KEY_BYTES, random: 32 },
  /** An agent's refresh token (single use: each refresh returns the next one). */
  'agent-refresh': { prefix: 'lgwar_', routing: PERSON_KEY_BYTES, random: 32 },
};
const MAC_BYTES = 12;
const encoder = new TextEncoder();

/** A parsed token: its random part (what storage keys and sealing salts derive from) and its routing part. */
export interface ParsedToken {
  readonly kind: TokenKind;
  readonly value: string;
  readonly secret: Uint8Array;
  /** The person key it routes to (hex), or undefined for kinds without one. */
  readonly personKey: string | undefined;
}

export class TokenMinter {
  readonly #macKey: Uint8Array;

  constructor(sessionSecret: string) {
    // HMAC as a PRF over a high-entropy secret: a sync key for a check that runs before any I/O.
    this.#macKey = hmac(SHA256, encoder.encode(sessionSecret), encoder.encode('looker-oauth-gateway/v2/token-mac'));
  }

  mint(kind: TokenKind, personKey?: string): ParsedToken {
    const shape = SHAPES[kind];
    const routing = shape.routing === 0 ? new Uint8Array(0) : hexToBytes(personKey ?? '', shape.routing);
    const secret = crypto.getRandomValues(new Uint8Array(shape.random));
    const body = concat(routing, secret);
    const value = shape.prefix + encodeBase64urlNoPadding(concat(body, this.#mac(kind, body)));
    return { kind, value, secret, personKey: shape.routing === 0 ? undefined : personKey };
  }

  /** The token, or null when the value is not a well-formed token of this kind minted with this secret. */
  parse(kind: TokenKind, value: string | undefined): ParsedToken | null {
    const shape = SHAPES[kind];
    const length = shape.routing + shape.random + MAC_BYTES;
    if (value === undefined || value.length !== shape.prefix.length + Math.ceil((length * 4) / 3)) return null;
    if (!value.startsWith(shape.prefix)) return null;
    const encoded = value.slice(shape.prefix.length);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return null;
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64urlIgnorePadding(encoded);
    } catch {
      return null;
    }
    if (bytes.length !== length) return null;
    const body = bytes.subarray(0, length - MAC_BYTES);
    if (!constantTimeEqual(bytes.subarray(length - MAC_BYTES), this.#mac(kind, body))) return null;
    const routing = body.subarray(0, shape.routing);
    return {
      kind,
      value,
      secret: body.slice(shape.routing),
      personKey: shape.routing === 0 ? undefined : encodeHexLowerCase(routing),
    };
  }

  /**
   * A keyed hash (HMAC under a key from SESSION_SECRET), for values too guessable to keep
   * as plain hashes: short user codes, network addresses. `label:hex`, 128 bits.
   */
  keyedHash(label: string, value: string): string {
    return `${label}:${encodeHexLowerCase(hmac(SHA256, this.#macKey, encoder.encode(`keyed\0${label}\0${value}`)).subarray(0, 16))}`;
  }

  /**
   * A public identifier derived from a secret (16 bytes of HMAC, base64url, 22 characters):
   * the same secret always names the same thing, and the name reveals nothing of it.
   */
  derivedId(label: string, secret: Uint8Array): string {
    return encodeBase64urlNoPadding(hmac(SHA256, this.#macKey, concat(encoder.encode(`derived\0${label}\0`), secret)).subarray(0, 16));
  }

  /** The person key for a Looker user: opaque, stable for one Looker instance and SESSION_SECRET. */
  personKeyFor(lookerApiUrl: string, userId: string): string {
    const digest = hmac(SHA256, this.#macKey, encoder.encode(`person\0${lookerApiUrl}\0${userId}`));
    return encodeHexLowerCase(digest.subarray(0, PERSON_KEY_BYTES));
  }

  #mac(kind: TokenKind, body: Uint8Array): Uint8Array {
    return hmac(SHA256, this.#macKey, concat(encoder.encode(`${kind}\0`), body)).subarray(0, MAC_BYTES);
  }
}

/** `${label}:${hex(SHA-256(label ‖ 0 ‖ secret))}`: the only form in which a token reaches storage. */
export function hashFor(label: string, secret: Uint8Array): string {
  return `${label}:${encodeHexLowerCase(sha256(concat(encoder.encode(`${label}\0`), secret)))}`;
}

/** A fresh random identifier (not a secret): 16 bytes, base64url. */
export function randomId(): string {
  return encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(16)));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function hexToBytes(hex: string, length: number): Uint8Array {
  if (!new RegExp(`^[0-9a-f]{${length * 2}}$`).test(hex)) throw new Error('a person key is 16 bytes of lowercase hex');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

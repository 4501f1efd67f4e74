/**
 * Sealing of stored values: AES-256-GCM under keys derived by HKDF-SHA256 from the
 * gateway's SESSION_SECRET *and* a salt that only the holder has (a cookie's token, a
 * credential's secret, a gateway access token). The stores hold neither, so their
 * contents alone reveal nothing; the storage key is bound in as additional data, so a
 * sealed value moved under another key does not open.
 *
 * Format: "v2." + base64url(iv ‖ ciphertext+tag). The version names the scheme and the
 * secret generation, leaving room for a key ring when SESSION_SECRET rotates.
 */
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from '@oslojs/encoding';

const VERSION = 'v2';
const IV_BYTES = 12;
const KEY_BYTES = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a sealed value is for; part of the key derivation, so keys of one purpose never open another's values. */
export type SealPurpose =
  | 'session'
  | 'session-grant'
  | 'credential'
  | 'credential-grant'
  | 'access-token'
  | 'login'
  | 'pending-grant'
  | 'revocation'
  | 'agent-client'
  | 'agent-grant'
  | 'agent-token';

/** An AES-GCM key for one holder and purpose. */
export type SealKey = CryptoKey;

export class Sealer {
  readonly #secret: Promise<CryptoKey>;

  constructor(sessionSecret: string) {
    this.#secret = crypto.subtle.importKey('raw', encoder.encode(sessionSecret), 'HKDF', false, ['deriveBits']);
  }

  /** 32 bytes of key material for (purpose, salt): what a holder of the salt can re-derive. */
  async keyBytes(purpose: SealPurpose, salt: Uint8Array): Promise<Uint8Array> {
    const bits = await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: bufferOf(salt), info: encoder.encode(`looker-oauth-gateway/${VERSION}/${purpose}`) },
      await this.#secret,
      KEY_BYTES * 8,
    );
    return new Uint8Array(bits);
  }

  async keyFor(purpose: SealPurpose, salt: Uint8Array): Promise<SealKey> {
    return importSealKey(await this.keyBytes(purpose, salt));
  }
}

export function importSealKey(bytes: Uint8Array): Promise<SealKey> {
  return crypto.subtle.importKey('raw', bufferOf(bytes), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export async function seal(key: SealKey, storageKey: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(storageKey) },
    key,
    encoder.encode(plaintext),
  );
  const out = new Uint8Array(IV_BYTES + ciphertext.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ciphertext), IV_BYTES);
  return `${VERSION}.${encodeBase64urlNoPadding(out)}`;
}

/** The plaintext, or null when the value is malformed, tampered with, or sealed under another key or storage key. */
export async function open(key: SealKey, storageKey: string, sealed: string): Promise<string | null> {
  if (!sealed.startsWith(`${VERSION}.`)) return null;
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64urlIgnorePadding(sealed.slice(VERSION.length + 1));
  } catch {
    return null;
  }
  if (bytes.length < IV_BYTES + 16) return null;
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bufferOf(bytes.subarray(0, IV_BYTES)), additionalData: encoder.encode(storageKey) },
      key,
      bufferOf(bytes.subarray(IV_BYTES)),
    );
    return decoder.decode(plaintext);
  } catch {
    return null;
  }
}

/** The bytes as Web Crypto's types want them (backed by an ArrayBuffer, never a SharedArrayBuffer): a view when they are, else a copy. */
function bufferOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

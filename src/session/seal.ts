/**
 * Sealing of stored values: AES-256-GCM with a key derived by HKDF-SHA256 from the
 * gateway's SESSION_SECRET *and* the caller's token (the HKDF salt). The store holds
 * neither, so its contents alone reveal nothing; the storage key is bound in as
 * additional data, so a sealed value moved to another key does not open.
 *
 * Format: "v1." + base64url(iv ‖ ciphertext+tag). The version names the scheme and
 * secret generation, leaving room for a key ring when SESSION_SECRET rotates.
 */
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding } from '@oslojs/encoding';

const VERSION = 'v1';
const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Sealer {
  readonly #secret: Promise<CryptoKey>;

  constructor(sessionSecret: string) {
    this.#secret = crypto.subtle.importKey('raw', encoder.encode(sessionSecret), 'HKDF', false, ['deriveKey']);
  }

  async #keyFor(purpose: string, token: Uint8Array): Promise<CryptoKey> {
    return crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: token, info: encoder.encode(`looker-oauth-gateway/${VERSION}/${purpose}`) },
      await this.#secret,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
  }

  async seal(purpose: string, token: Uint8Array, storageKey: string, plaintext: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const key = await this.#keyFor(purpose, token);
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

  /** The plaintext, or null when the value is malformed, tampered with or sealed under other secrets. */
  async open(purpose: string, token: Uint8Array, storageKey: string, sealed: string): Promise<string | null> {
    if (!sealed.startsWith(`${VERSION}.`)) return null;
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64urlIgnorePadding(sealed.slice(VERSION.length + 1));
    } catch {
      return null;
    }
    if (bytes.length < IV_BYTES + 16) return null;
    try {
      const key = await this.#keyFor(purpose, token);
      const plaintext = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: encoder.encode(storageKey) },
        key,
        bytes.subarray(IV_BYTES),
      );
      return decoder.decode(plaintext);
    } catch {
      return null;
    }
  }
}

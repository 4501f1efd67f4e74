/**
 * Bearer secrets held by browsers (session and login cookies), and the names under
 * which their state is stored. A token is 256 random bits; the store only ever sees
 * a SHA-256 hash of it, so reading the store does not let anyone present a cookie.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding, encodeHexLowerCase } from '@oslojs/encoding';

const TOKEN_BYTES = 32;
/** base64url of 32 bytes without padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A fresh token: its bytes, and the cookie value that carries them. */
export function generateToken(): { token: Uint8Array; cookieValue: string } {
  const token = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return { token, cookieValue: encodeBase64urlNoPadding(token) };
}

/** Parses a cookie value into the token's bytes, or null when it cannot be one of ours. */
export function parseToken(value: string | undefined): Uint8Array | null {
  if (value === undefined || !TOKEN_PATTERN.test(value)) return null;
  try {
    const bytes = decodeBase64urlIgnorePadding(value);
    return bytes.length === TOKEN_BYTES ? bytes : null;
  } catch {
    return null;
  }
}

/** `${kind}:${hex(SHA-256(kind ‖ 0x00 ‖ token))}`: the kind keeps hashes of different uses apart. */
export function storageKeyFor(kind: 'session' | 'login', token: Uint8Array): string {
  const label = new TextEncoder().encode(`${kind}\0`);
  const input = new Uint8Array(label.length + token.length);
  input.set(label);
  input.set(token, label.length);
  return `${kind}:${encodeHexLowerCase(sha256(input))}`;
}

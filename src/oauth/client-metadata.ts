/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client_id
 * that is an https URL names a JSON document, published by the client, with its name and
 * redirect URIs. The gateway fetches it itself, so the fetch is fenced: https only, a
 * path, no userinfo or fragment, never a host that is `localhost` or an IP literal in a
 * private, loopback, link-local or otherwise non-public range; no redirects followed; at
 * most MAX_DOCUMENT_BYTES; an answer within the timeout. A name that resolves to a private
 * address (DNS rebinding) cannot be caught here: the runtime resolves names itself
 * (docs/security.md says what that leaves).
 */
import { readAtMost } from '../http/form.ts';
import type { Fetch } from '../looker/http.ts';
import { MAX_REDIRECT_URIS, redirectUriProblem } from './redirect-uris.ts';

export const MAX_DOCUMENT_BYTES = 5 * 1024;
export const DOCUMENT_TIMEOUT_MS = 5_000;

export interface ClientMetadata {
  clientName: string | undefined;
  redirectUris: string[];
}

export type MetadataResult = { ok: true; metadata: ClientMetadata } | { ok: false; problem: string };

/** Whether a client_id is meant as a metadata document's URL (then it must pass metadataUrlProblem). */
export function looksLikeMetadataUrl(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/** Why the gateway will not fetch this client_id, or null. */
export function metadataUrlProblem(clientId: string): string | null {
  if (clientId.length > 2000) return 'the client_id URL is too long';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'the client_id is not a URL';
  }
  if (url.protocol !== 'https:') return 'a client_id URL must use https';
  if (url.href !== clientId) return 'a client_id URL must be written in its normal form';
  if (url.username !== '' || url.password !== '' || clientId.includes('#')) return 'a client_id URL must have no user name, password or fragment';
  if (url.pathname === '/' || url.pathname === '') return 'a client_id URL must have a path';
  if (refusedHost(url.hostname)) return 'a client_id URL must name a public host';
  return null;
}

/** localhost, and IP literals that are not public addresses. */
export function refusedHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host.startsWith('[')) return refusedIpv6(host.slice(1, -1));
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4 !== null) return refusedIpv4(v4.slice(1).map(Number));
  return false;
}

function refusedIpv4([a, b]: number[]): boolean {
  if (a === undefined || b === undefined) return true;
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local (cloud metadata services)
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224 // multicast, reserved, broadcast
  );
}

function refusedIpv6(address: string): boolean {
  const a = address.toLowerCase();
  if (a === '::' || a === '::1') return true;
  // IPv4-mapped (::ffff:a.b.c.d, which the URL parser writes as ::ffff:xxxx:xxxx): judged as IPv4.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (mapped !== null) {
    const hi = Number.parseInt(mapped[1]!, 16);
    return refusedIpv4([hi >> 8, hi & 0xff]);
  }
  const groups = a.split(':');
  const first = Number.parseInt(groups[0] || '0', 16);
  // 6to4 (2002:AABB:CCDD::/48) reaches the IPv4 address AA.BB.CC.DD: judged as IPv4.
  if (first === 0x2002) {
    const hi = Number.parseInt(groups[1] || '0', 16);
    return refusedIpv4([hi >> 8, hi & 0xff]);
  }
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xffc0) === 0xfec0 || // site-local fec0::/10 (deprecated, still routed on some private networks)
    (first & 0xff00) === 0xff00 || // multicast
    a.startsWith('64:ff9b:') || // NAT64 reaches IPv4 behind it
    a.startsWith('::') // other IPv4-compatible and unspecified forms
  );
}

/** Fetches and checks the document a client_id URL names. */
export async function fetchClientMetadata(fetch: Fetch, clientId: string, timeoutMs = DOCUMENT_TIMEOUT_MS): Promise<MetadataResult> {
  const problem = metadataUrlProblem(clientId);
  if (problem !== null) return { ok: false, problem };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(clientId, { method: 'GET', redirect: 'manual', headers: { accept: 'application/json' }, signal: controller.signal });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return { ok: false, problem: response.status >= 300 && response.status < 400 ? 'the client metadata document redirects (not followed)' : `the client metadata document answered ${response.status}` };
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > MAX_DOCUMENT_BYTES) {
      await response.body?.cancel().catch(() => {});
      return { ok: false, problem: 'the client metadata document is too large' };
    }
    const bytes = response.body === null ? new Uint8Array(0) : await readAtMost(response.body, MAX_DOCUMENT_BYTES);
    if (bytes === null) return { ok: false, problem: 'the client metadata document is too large' };
    return parseDocument(new TextDecoder().decode(bytes), clientId);
  } catch {
    return { ok: false, problem: controller.signal.aborted ? 'the client metadata document did not arrive in time' : 'the client metadata document could not be fetched' };
  } finally {
    clearTimeout(timer);
  }
}

function parseDocument(text: string, clientId: string): MetadataResult {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'the client metadata document is not JSON' };
  }
  if (typeof document !== 'object' || document === null) return { ok: false, problem: 'the client metadata document is not a JSON object' };
  const d = document as Record<string, unknown>;
  if (d.client_id !== clientId) return { ok: false, problem: 'the client metadata document names another client_id' };
  const uris = d.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS) {
    return { ok: false, problem: `the client metadata document must list 1 to ${MAX_REDIRECT_URIS} redirect_uris` };
  }
  for (const uri of uris) {
    const bad = redirectUriProblem(uri);
    if (bad !== null) return { ok: false, problem: `the client metadata document lists a bad redirect URI: ${bad}` };
  }
  return { ok: true, metadata: { clientName: typeof d.client_name === 'string' ? d.client_name : undefined, redirectUris: uris as string[] } };
}

/**
 * Who is on the other end of a request, as the platform reports it: the client's address
 * and, where the platform knows it, its country and city. Each runtime supplies the
 * function that reads these (the Worker: src/platform/cloudflare/client.ts); the gateway
 * uses them for per-network limits and to tell a person where a device sign-in came from.
 */
export interface ClientInfo {
  /** The address the request came from, or "unknown" where the platform does not say. */
  address: string;
  /** Two-letter country code. */
  country?: string;
  city?: string;
}

export type ClientOf = (request: Request) => ClientInfo;

/**
 * The network a limit counts: an IPv6 address's /64 (one subscriber or host usually holds
 * a whole /64, so counting single addresses would let it pose as 2^64 clients), an IPv4
 * address itself (an IPv4-mapped IPv6 address counts as its IPv4 address); anything
 * else as given.
 */
export function networkOf(address: string): string {
  const trimmed = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(trimmed);
  if (mapped !== null) return mapped[1]!;
  if (!trimmed.includes(':')) return trimmed;
  const groups = expandIpv6(trimmed);
  if (groups === null) return trimmed;
  const v4 = mappedIpv4(groups);
  return v4 ?? `${groups.slice(0, 4).join(':')}::/64`;
}

/**
 * The wider group a network belongs to, for what a holder of many networks must not
 * outweigh: an IPv6 /48 (what one site or tunnel account usually gets), an IPv4 /24.
 */
export function networkGroupOf(address: string): string {
  const network = networkOf(address);
  const v4 = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/.exec(network);
  if (v4 !== null) return `${v4[1]}.0/24`;
  if (network.endsWith('::/64')) return `${network.split(':').slice(0, 3).join(':')}::/48`;
  return network;
}

/** The IPv4 address in an IPv4-mapped IPv6 address (::ffff:a.b.c.d in any spelling), or null. */
function mappedIpv4(groups: string[]): string | null {
  if (groups.slice(0, 5).some((g) => g !== '0') || groups[5] !== 'ffff') return null;
  const hi = Number.parseInt(groups[6]!, 16);
  const lo = Number.parseInt(groups[7]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros; null when it is not one. */
function expandIpv6(address: string): string[] | null {
  const withoutZone = address.split('%')[0]!;
  const halves = withoutZone.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  // An embedded IPv4 tail (e.g. 64:ff9b::192.0.2.1) is two groups.
  const last = tail.length > 0 ? tail : head;
  const dotted = last[last.length - 1];
  if (dotted !== undefined && dotted.includes('.')) {
    const octets = dotted.split('.').map(Number);
    if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return null;
    last.splice(last.length - 1, 1, ((octets[0]! << 8) | octets[1]!).toString(16), ((octets[2]! << 8) | octets[3]!).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}

const LOOPBACK = /^(?:127\.|::1$|localhost$)/;

/** Whether the address is this machine (development), where a location means nothing. */
export function isLocalAddress(address: string): boolean {
  return LOOPBACK.test(address.trim().toLowerCase());
}

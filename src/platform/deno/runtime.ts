/**
 * The gateway on Deno: one Deno KV database for the holder records, the per-person
 * ledgers and the device-flow store; the client's address from the connection (Deno.serve's
 * `info.remoteAddr`), or, behind a reverse proxy you run, from the header it sets
 * (opt-in: a header a client could set itself must never be trusted by default); work
 * after the answer simply keeps running (there is no isolate to be frozen).
 */
import type { DeviceFlowStore } from '../../callers/device-store.ts';
import type { ClientInfo } from '../../http/client.ts';
import type { Runtime, StoresResult } from '../../runtime.ts';
import { DenoKvDeviceFlows } from './device-flows.ts';
import { DenoKvHolderStore } from './holder-store.ts';
import { DenoKvLedger } from './ledger.ts';

export interface DenoRuntimeOptions {
  /**
   * The header a reverse proxy in front of the gateway sets to the client's address (e.g.
   * `x-forwarded-for`, `x-real-ip`). Only set this when every request reaches the gateway
   * through that proxy: anyone who can reach the gateway directly could set it. With a
   * list (X-Forwarded-For), the last entry counts: the one your proxy added.
   */
  trustedProxyHeader?: string;
  /** Prefix of every key (tests keep theirs apart with it). */
  prefix?: Deno.KvKey;
  /** The clock leases and holder-record expiry are judged by (default Date.now). */
  clock?: () => number;
  /** Pauses between looks at a held refresh lease. */
  sleep?: (ms: number) => Promise<void>;
  /** Work after the answer (default: kept running, its failure ignored: it reports its own). */
  defer?: (work: Promise<unknown>) => void;
}

export interface DenoRuntime extends Runtime {
  /**
   * Tells the runtime where a request came from (the server entry calls it with Deno.serve's
   * info), and gives the request as the app is to see it: behind a trusted proxy that says
   * the client used https (X-Forwarded-Proto), its URL says https, as the client's did.
   */
  arrived(request: Request, remoteAddr: Deno.Addr | undefined): Request;
  /** Resolves when the work handed to `defer` so far has finished (for a clean shutdown). */
  settled(): Promise<void>;
}

/**
 * A request a TLS-terminating proxy passed on over plain http, with the scheme the client
 * used (the last X-Forwarded-Proto entry: the one the proxy nearest us added). Only ever
 * applied when the operator says a proxy stands in front (TRUSTED_PROXY_HEADER).
 */
function asSentByClient(request: Request): Request {
  if (!request.url.startsWith('http:')) return request;
  const proto = request.headers.get('x-forwarded-proto')?.split(',').at(-1)?.trim().toLowerCase();
  if (proto !== 'https') return request;
  const sent = `https:${request.url.slice('http:'.length)}`;
  // A Host header that makes no URL: left as it came, for the app to refuse (400), instead of throwing here (500).
  return URL.canParse(sent) ? new Request(sent, request) : request;
}

export function denoRuntime(kv: Deno.Kv, options: DenoRuntimeOptions = {}): DenoRuntime {
  const addresses = new WeakMap<Request, string>();
  const pending = new Set<Promise<unknown>>();
  const proxyHeader = options.trustedProxyHeader?.trim().toLowerCase() || undefined;
  const holders = new DenoKvHolderStore(kv, { ...(options.prefix === undefined ? {} : { prefix: options.prefix }), ...(options.clock === undefined ? {} : { clock: options.clock }) });
  const ledgerOptions = {
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
  };
  // One device-flow store per name for this process: its calls queue behind each other here.
  const deviceStores = new Map<string, DeviceFlowStore>();
  const result: StoresResult = {
    ok: true,
    stores: {
      kv: holders,
      ledger: (name) => new DenoKvLedger(kv, name, ledgerOptions),
      deviceFlows: (name) => {
        let store = deviceStores.get(name);
        if (store === undefined) {
          store = new DenoKvDeviceFlows(kv, name, options.prefix === undefined ? {} : { prefix: options.prefix });
          deviceStores.set(name, store);
        }
        return store;
      },
    },
  };

  const clientOf = (request: Request): ClientInfo => {
    if (proxyHeader !== undefined) {
      const forwarded = request.headers.get(proxyHeader);
      const last = forwarded?.split(',').at(-1)?.trim();
      if (last !== undefined && last !== '') return { address: last.slice(0, 64) };
    }
    return { address: addresses.get(request) ?? 'unknown' };
  };

  return {
    storesFor: () => result,
    clientOf,
    defer:
      options.defer ??
      ((work) => {
        const kept = work.catch(() => {});
        pending.add(kept);
        void kept.finally(() => pending.delete(kept));
      }),
    arrived(received, remoteAddr) {
      const request = proxyHeader === undefined ? received : asSentByClient(received);
      if (remoteAddr !== undefined && (remoteAddr.transport === 'tcp' || remoteAddr.transport === 'udp')) addresses.set(request, remoteAddr.hostname);
      return request;
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

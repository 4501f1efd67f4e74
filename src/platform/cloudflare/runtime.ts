/**
 * The gateway on Cloudflare Workers: KV for holder records, a Durable Object per person
 * for the ledger and one for device sign-ins, waitUntil for work after the answer,
 * CF-Connecting-IP and request.cf for the client.
 */
import { waitUntil } from 'cloudflare:workers';
import type { DeviceFlowStore } from '../../callers/device-store.ts';
import type { KeyValueStore } from '../../callers/records.ts';
import type { ConfigProblem } from '../../config.ts';
import type { Ledger } from '../../grants/ledger.ts';
import type { Bindings, Runtime, StoresResult } from '../../runtime.ts';
import { ACCOUNTS_BINDING, DEVICE_FLOWS_BINDING, KV_BINDING } from './bindings.ts';
import { clientOfCloudflareRequest } from './client.ts';

export interface CloudflareRuntimeOptions {
  /** Work after the answer (default: the runtime's waitUntil). */
  defer?: (work: Promise<unknown>) => void;
}

export function cloudflareRuntime(options: CloudflareRuntimeOptions = {}): Runtime {
  return {
    storesFor: storesFromBindings,
    clientOf: clientOfCloudflareRequest,
    defer: options.defer ?? ((work) => waitUntil(work)),
  };
}

function storesFromBindings(env: Bindings): StoresResult {
  const problems: ConfigProblem[] = [];
  const namespace = (binding: string, className: string): DurableObjectNamespace | undefined => {
    const value = env[binding] as { idFromName?: unknown } | null | undefined;
    if (typeof value?.idFromName === 'function') return value as DurableObjectNamespace;
    problems.push({
      variable: binding,
      problem: `is not bound: wrangler.toml must bind the Durable Object class ${className} as ${binding} ([[durable_objects.bindings]])`,
    });
    return undefined;
  };
  const accounts = namespace(ACCOUNTS_BINDING, 'AccountObject');
  const devices = namespace(DEVICE_FLOWS_BINDING, 'DeviceFlowObject');
  const bound = env[KV_BINDING] as Partial<KeyValueStore> | null | undefined;
  const kv = typeof bound?.get === 'function' && typeof bound.put === 'function' && typeof bound.delete === 'function' ? (bound as KeyValueStore) : undefined;
  if (kv === undefined) {
    problems.push({ variable: KV_BINDING, problem: `is not bound: wrangler.toml must bind a KV namespace as ${KV_BINDING} ([[kv_namespaces]])` });
  }
  if (kv === undefined || accounts === undefined || devices === undefined) return { ok: false, problems, ...(kv === undefined ? {} : { kv }) };
  return {
    ok: true,
    stores: {
      kv,
      ledger: (name) => stubOf<Ledger>(accounts, name),
      deviceFlows: (name) => stubOf<DeviceFlowStore>(devices, name),
    },
  };
}

function stubOf<T>(namespace: DurableObjectNamespace, name: string): T {
  // The stub's methods are the object's own (RPC); their declared types wrap results in
  // RPC types that are structurally these: no `any`, one cast at the platform's edge.
  return namespace.get(namespace.idFromName(name)) as unknown as T;
}

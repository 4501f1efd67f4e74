/**
 * The contract suites (test/contract/) against the Durable Objects, in the Workers
 * runtime: the same cases that test/deno/contract_test.ts runs against Deno KV.
 */
import { env } from 'cloudflare:workers';
import { afterEach, describe, it, vi } from 'vitest';
import type { DeviceFlowStore } from '../../src/callers/device-store.ts';
import type { Ledger } from '../../src/grants/ledger.ts';
import { describeDeviceFlowContract } from './device-flow-contract.ts';
import { describeLedgerContract } from './ledger-contract.ts';

const namespaces = env as unknown as { ACCOUNTS: DurableObjectNamespace; DEVICE_FLOWS: DurableObjectNamespace };
const stub = <T>(namespace: DurableObjectNamespace): T => namespace.get(namespace.idFromName(`contract-${crypto.randomUUID()}`)) as unknown as T;

afterEach(() => {
  vi.useRealTimers();
});

describe('the ledger contract', () => {
  describeLedgerContract(
    'Durable Object',
    () => ({
      ledger: stub<Ledger>(namespaces.ACCOUNTS),
      // The object judges leases by Date.now: the objects run in this isolate, so a faked clock is theirs too.
      async passLeaseTime(ms) {
        const now = Date.now();
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(now + ms);
      },
    }),
    (name, run) => it(name, run),
  );
});

describe('the device-flow contract', () => {
  describeDeviceFlowContract('Durable Object', () => ({ store: stub<DeviceFlowStore>(namespaces.DEVICE_FLOWS) }), (name, run) => it(name, run));
});
